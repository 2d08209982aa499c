import Foundation
import NeuralNetwork
import TensorCore

// Quality of inpainted images, over the whole image and inside the holes.
//
// For one image (3, H, W) in [0, 1], its inpainted output and its hole mask (H, W), 1 = hole:
//   psnr, l1          over all 3·H·W values: 10·log₁₀(1 / MSE) and mean |output − target|
//   ssim              the mean of SSIM's map (11 × 11 Gaussian window, σ 1.5) over channels and
//                     window positions, as `ssim`
//   holePSNR, holeL1  over the 3·(hole pixels) values only
//   holeSSIM          the mean of the SSIM map over the windows centred on hole pixels
// Known pixels of an output are the input's, so the whole-image figures mix perfect pixels with
// predicted ones; the hole figures measure the prediction alone. PSNR of identical values is
// capped at 100 dB (so means stay finite). Images with no hole pixels have NaN hole scores, and
// `mean` skips NaNs per field.

/// The scores of one inpainted image (or their mean over a set).
public struct InpaintingScores: Codable, Equatable, Sendable {
    public var psnr: Double
    public var ssim: Double
    public var l1: Double
    public var holePSNR: Double
    public var holeSSIM: Double
    public var holeL1: Double

    enum CodingKeys: String, CodingKey {
        case psnr, ssim, l1, holePSNR = "hole_psnr", holeSSIM = "hole_ssim", holeL1 = "hole_l1"
    }

    /// The field names in CSV order.
    public static let columnNames = ["psnr", "ssim", "l1", "hole_psnr", "hole_ssim", "hole_l1"]
    /// The values in `columnNames` order.
    public var values: [Double] { [psnr, ssim, l1, holePSNR, holeSSIM, holeL1] }

    public init(psnr: Double, ssim: Double, l1: Double, holePSNR: Double, holeSSIM: Double, holeL1: Double) {
        (self.psnr, self.ssim, self.l1, self.holePSNR, self.holeSSIM, self.holeL1) = (psnr, ssim, l1, holePSNR, holeSSIM, holeL1)
    }

    init(values v: [Double]) { self.init(psnr: v[0], ssim: v[1], l1: v[2], holePSNR: v[3], holeSSIM: v[4], holeL1: v[5]) }

    /// The per-field mean of `scores`, skipping NaNs (NaN where a field has no finite value).
    public static func mean(_ scores: [InpaintingScores]) -> InpaintingScores {
        let columns = (0..<columnNames.count).map { column -> Double in
            let finite = scores.map { $0.values[column] }.filter { !$0.isNaN }
            return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        }
        return InpaintingScores(values: columns)
    }
}

/// Scores every image of a batch.
///
/// - Parameters:
///   - output: inpainted images (B, 3, H, W), H and W at least 11.
///   - target: the originals, the same shape.
///   - mask: (B, 1, H, W), 1 = hole.
public func inpaintingScores(output: Tensor, target: Tensor, mask: Tensor) -> [InpaintingScores] {
    precondition(output.rank == 4 && output.shape[1] == 3 && output.shape == target.shape,
                 "inpaintingScores: output \(output.shape) and target \(target.shape) must both be (B, 3, H, W)")
    let (B, H, W) = (output.shape[0], output.shape[2], output.shape[3])
    precondition(mask.shape == [B, 1, H, W], "inpaintingScores: mask \(mask.shape) must be \([B, 1, H, W])")
    let options = SSIMOptions()
    let S = options.windowSize
    let map = withoutGradients { ssimMap(output, target, options: options) }.scalars  // (B, 3, H', W')
    let (mapH, mapW) = (H - S + 1, W - S + 1)
    let (x, y, m) = (output.scalars, target.scalars, mask.scalars)
    return (0..<B).map { b in
        var (squares, absolute, holeSquares, holeAbsolute, holes) = (0.0, 0.0, 0.0, 0.0, 0)
        for c in 0..<3 {
            for p in 0..<(H * W) {
                let difference = Double(x[(b * 3 + c) * H * W + p]) - Double(y[(b * 3 + c) * H * W + p])
                squares += difference * difference
                absolute += abs(difference)
                if m[b * H * W + p] >= 0.5 {
                    holeSquares += difference * difference
                    holeAbsolute += abs(difference)
                    if c == 0 { holes += 1 }
                }
            }
        }
        var (ssimSum, holeSSIMSum, holeWindows) = (0.0, 0.0, 0)
        for c in 0..<3 {
            for i in 0..<mapH {
                for j in 0..<mapW {
                    let value = Double(map[((b * 3 + c) * mapH + i) * mapW + j])
                    ssimSum += value
                    if m[b * H * W + (i + S / 2) * W + j + S / 2] >= 0.5 {
                        holeSSIMSum += value
                        holeWindows += 1
                    }
                }
            }
        }
        let values = Double(3 * H * W), holeValues = Double(3 * holes)
        return InpaintingScores(
            psnr: peakSignalToNoise(meanSquaredError: squares / values), ssim: ssimSum / Double(3 * mapH * mapW),
            l1: absolute / values,
            holePSNR: holes > 0 ? peakSignalToNoise(meanSquaredError: holeSquares / holeValues) : .nan,
            holeSSIM: holeWindows > 0 ? holeSSIMSum / Double(holeWindows) : .nan,
            holeL1: holes > 0 ? holeAbsolute / holeValues : .nan)
    }
}

/// 10·log₁₀(1 / mse) for data in [0, 1], at most 100 dB.
private func peakSignalToNoise(meanSquaredError mse: Double) -> Double {
    mse <= 1e-10 ? 100 : min(100, 10 * log10(1 / mse))
}
