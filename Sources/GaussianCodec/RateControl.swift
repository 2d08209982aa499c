import Foundation
import GaussianRasterizer
import TensorCore

// Rate control of the per-image encoder: how many Gaussians a byte budget allows before the fit
// (an empirical model of the coded stream), the rate probe part-way through the fit (code the
// set as it stands, cut it if it would not fit), and the cut itself (by coverage).

/// Expected coded bits per Gaussian of a fitted set of `count` Gaussians on `bits`' grids, an
/// empirical model of the streams of the validation photos' fits (cq100, 768 × 512, 7-bit
/// grids: 44.5–50.0 bits at about 2,000 Gaussians, mean 46.5; 42.6 at 8,929): the Morton gaps with
/// the anisotropy 1.84·log2(cells / N) − 4.7 bits (denser sets have smaller, rounder Gaussians),
/// the two scales 2·b_s − 2.5, the rotation b_θ − 1.5, the luma and two chroma components 3·b_c − 7.
public func estimatedBitsPerGaussian(bits: QuantizationBits, count: Int) -> Double {
    let cells = pow(2, Double(2 * bits.position))
    let position = Swift.max(1, 1.84 * log2(cells / Double(Swift.max(count, 1))) - 4.7)
    let shape = Double(2 * bits.scale) - 2.5 + Double(bits.rotation) - 1.5
    let colour = Double(3 * bits.colour) - 7
    return position + shape + Swift.max(colour, 3)
}

/// The most Gaussians whose estimated stream (`estimatedBitsPerGaussian`) fits 99 % of `budget`
/// bytes, header and checksum included (at least 1); rate control cuts any overshoot.
public func gaussiansForBudget(bytes budget: Int, bits: QuantizationBits) -> Int {
    let payloadBits = Double(budget - CompressedGaussianImage.headerSize - CompressedGaussianImage.checksumSize) * 8 * 0.99
    var count = Swift.max(1, Int(payloadBits / 45))
    for _ in 0..<8 {  // N = payload / bits(N); bits(N) falls slowly with N, so this settles fast
        count = Swift.max(1, Int(payloadBits / estimatedBitsPerGaussian(bits: bits, count: count)))
    }
    return count
}

/// The rate probe: rows (N, 8) part-way through a fit, quantised on grids of `bits` with ranges
/// of their own and coded. `kept` is nil when the stream's payload is within 98 % of the
/// budget's, else the rows (ascending) of the most covering n that fit it, with n · b(n) = 98 %
/// of the budget's payload bits, b(n) = b(N) + 1.84·log2(N / n): the measured bits per Gaussian
/// plus the position model's growth as the set thins (`estimatedBitsPerGaussian`).
struct RateProbe {
    let bytes: Int
    let kept: [Int]?

    init(rows: Tensor, budget: Int, bits: QuantizationBits, width: Int, height: Int, topK: TopKOptions) {
        let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(covering: rows, width: width, height: height))
        bytes = CompressedGaussianImage(width: width, height: height, renderer: .topK, topK: topK.k, quantizer: quantizer,
                                        symbols: quantizer.quantized(rows)).bytes.count
        let overhead = CompressedGaussianImage.headerSize + CompressedGaussianImage.checksumSize
        let allowed = Double(budget - overhead) * 0.98, payload = Double(bytes - overhead)
        let n = rows.shape[0]
        guard payload > allowed, n > 1 else {
            kept = nil
            return
        }
        let measured = payload * 8 / Double(n)
        var count = Double(n) * allowed / payload
        for _ in 0..<8 { count = allowed * 8 / (measured + 1.84 * log2(Double(n) / Swift.max(count, 1))) }
        kept = mostCovering(rows, keeping: Swift.max(1, Swift.min(n - 1, Int(count))), width: width, height: height, topK: topK)
    }
}

/// The indices (ascending) of the `keeping` rows of (N, 8) whose summed blend weights over the
/// image are largest. For the top-K renderer, ∂(Σ render)/∂colour_g is exactly Σ_p of g's
/// normalised weight at p, so one backward pass measures every Gaussian's coverage.
func mostCovering(_ rows: Tensor, keeping: Int, width: Int, height: Int, topK: TopKOptions) -> [Int] {
    let n = rows.shape[0]
    precondition(keeping >= 1 && keeping <= n, "mostCovering: keeping \(keeping) of \(n)")
    let parts = rows.detached().split(sizes: [5, 3], alongAxis: 1)
    parts[1].requiresGrad = true
    renderImageGS(Tensor.concatenated(parts, alongAxis: 1), width: width, height: height, options: topK).sum().backward()
    let gradient = parts[1].grad!.scalars
    let coverage = (0..<n).map { g in gradient[g * 3] }
    return (0..<n).sorted { coverage[$0] != coverage[$1] ? coverage[$0] > coverage[$1] : $0 < $1 }.prefix(keeping).sorted()
}
