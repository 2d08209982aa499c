import Foundation
import TensorCore

// The conditional of a scale hyperprior (Ballé et al. 2018; Minnen et al. 2018 with means):
// each quantised latent ŷ is Gaussian given side information, with a mean μ and scale σ
// predicted per latent by the hyperprior's synthesis network, and its probability is the
// mass of its quantisation bin,
//
//   P(ŷ | μ, σ) = Φ((½ − v) / σ) − Φ((−½ − v) / σ),   v = |ŷ − μ|,   σ ← max(σ, scaleBound)
//
// (the symmetric form keeps both terms in the lower tail of Φ, where erfc is precise), bounded
// below by `likelihoodBound` like the factorised prior's. Below `scaleBound` the scale gets no
// gradient (a plain clamp; CompressAI lets it through upward).

/// Per-latent Gaussian bin probabilities (see the file's comment).
public enum GaussianConditional {
    /// The least scale used: narrower Gaussians put nearly all mass in one bin anyway.
    public static let scaleBound: Float = 0.11
    public static let likelihoodBound = FactorizedPrior.likelihoodBound

    /// P(ŷ | μ, σ) of `values`, `means` and `scales` of one shape → that shape. Differentiable
    /// in all three.
    public static func likelihoods(_ values: Tensor, means: Tensor, scales: Tensor) -> Tensor {
        precondition(values.shape == means.shape && values.shape == scales.shape,
                     "GaussianConditional: values \(values.shape), means \(means.shape) and scales \(scales.shape) must match")
        let distance = (values - means).abs()
        let scale = scales.clamped(min: scaleBound)
        let upper = ((0.5 - distance) / scale).normalCDF(), lower = ((-0.5 - distance) / scale).normalCDF()
        return (upper - lower).clamped(min: likelihoodBound)
    }

    /// −Σ log2 P(ŷ | μ, σ): a scalar, differentiable.
    public static func bits(_ values: Tensor, means: Tensor, scales: Tensor) -> Tensor {
        likelihoods(values, means: means, scales: scales).log().sum() * (-1 / Float(M_LN2))
    }
}

// Coding with the conditional: the predicted scale is quantised to a fixed table of `scaleCount`
// scales, log-spaced from `scaleBound` to `largestScale` (CompressAI's table), and each table
// scale has its own integer code table (zero-mean, support ±⌈`supportWidth`·σ⌉, the escape for
// the rest; FactorizedCodeTables' rows, made with erfc in Double). The index of a predicted
// log-scale s is the count of `scaleBoundaries` (midpoints of consecutive log table scales) that
// are ≤ s: float comparisons only, so encoder and decoder agree on any IEEE-754 machine given the
// same s. The tables and boundaries depend only on these constants; a model file stores them
// (ScaleHyperprior's checkpoint extras) so that no decoder evaluates erfc or log.
extension GaussianConditional {
    /// Table scales and the largest.
    public static let scaleCount = 64
    public static let largestScale: Double = 256
    /// Support half-width in scales: 2·Φ(−(4.9σ + ½)/σ) < 10⁻⁶ of tail mass for every σ.
    public static let supportWidth = 4.9

    /// The table's scales σ_k = exp(ln 0.11 + k·(ln 256 − ln 0.11)/(K − 1)), k = 0..<K.
    public static var tableScales: [Double] {
        let (low, high) = (Foundation.log(Double(scaleBound)), Foundation.log(largestScale))
        return (0..<scaleCount).map { Foundation.exp(low + Double($0) * (high - low) / Double(scaleCount - 1)) }
    }

    /// K − 1 float32 midpoints between consecutive log table scales.
    public static var scaleBoundaries: [Float] {
        let logs = tableScales.map { Foundation.log($0) }
        return (0..<(scaleCount - 1)).map { Float((logs[$0] + logs[$0 + 1]) / 2) }
    }

    /// The index into the table of a predicted log-scale: how many `boundaries` are ≤ it (NaN: the
    /// widest scale, so that any value can still be coded).
    @inline(__always) public static func scaleIndex(logScale: Float, boundaries: [Float]) -> Int {
        guard !logScale.isNaN else { return boundaries.count }
        var low = 0, high = boundaries.count  // the first boundary > logScale lies in low...high
        while low < high {
            let middle = (low + high) / 2
            if boundaries[middle] <= logScale { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The code tables of the table scales: row k codes a zero-mean value of scale σ_k.
    public static func scaleCodeTables() -> FactorizedCodeTables {
        var offsets: [Int32] = [], frequencies: [[UInt32]] = []
        for scale in tableScales {
            let reach = Int((supportWidth * scale).rounded(.up))
            // P(v) = Φ((½ − |v|)/σ) − Φ((−½ − |v|)/σ), with Φ(x) = ½·erfc(−x/√2).
            let phi = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
            var masses = (-reach...reach).map { value -> Double in
                let distance = Double(Swift.abs(value))
                return Swift.max(0, phi((0.5 - distance) / scale) - phi((-0.5 - distance) / scale))
            }
            masses.append(Swift.max(0, 1 - masses.reduce(0, +)))
            offsets.append(Int32(-reach))
            frequencies.append(FactorizedCodeTables.quantized(masses))
        }
        return try! FactorizedCodeTables(offsets: offsets, frequencies: frequencies)  // valid by construction
    }
}
