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
