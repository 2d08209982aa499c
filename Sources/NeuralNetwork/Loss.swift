import Foundation
import TensorCore

// Regression losses and the Gaussian KL divergence, as compositions of TensorCore ops: none
// needs a pullback of its own. Each takes the prediction first and the target second (both of
// the same shape, any rank), computes an element-wise loss ℓᵢ and reduces it:
//
//   .mean:  L = (1/n) Σᵢ ℓᵢ        (PyTorch's default `reduction="mean"`)
//   .sum:   L = Σᵢ ℓᵢ
//
// The result is a scalar tensor (shape []) that takes gradients from both operands.

/// How an element-wise loss is reduced to a scalar.
public enum LossReduction: Sendable {
    /// The mean over every element.
    case mean
    /// The sum over every element.
    case sum
}

extension Tensor {
    /// Reduces an element-wise loss over every element.
    func reducedAsLoss(_ reduction: LossReduction) -> Tensor {
        switch reduction {
        case .mean: return mean()
        case .sum: return sum()
        }
    }
}

/// Checks that a prediction and its target have the same shape.
@inline(__always)
func checkSameShape(_ function: String, _ prediction: Tensor, _ target: Tensor) {
    precondition(prediction.shape == target.shape,
                 "\(function): prediction \(prediction.shape) and target \(target.shape) must have the same shape")
}

/// Mean squared error: ℓᵢ = (xᵢ − yᵢ)².
///
/// - Parameters:
///   - prediction: x, any shape.
///   - target: y, the same shape as `prediction`.
///   - reduction: mean (default) or sum over all elements.
/// - Returns: a scalar tensor.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    checkSameShape("meanSquaredError", prediction, target)
    return (prediction - target).squared().reducedAsLoss(reduction)
}

/// Mean absolute error: ℓᵢ = |xᵢ − yᵢ| (the gradient at xᵢ = yᵢ is taken as 0).
///
/// - Parameters:
///   - prediction: x, any shape.
///   - target: y, the same shape as `prediction`.
///   - reduction: mean (default) or sum over all elements.
/// - Returns: a scalar tensor.
public func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    checkSameShape("l1Loss", prediction, target)
    return (prediction - target).abs().reducedAsLoss(reduction)
}

/// Huber loss (PyTorch's `HuberLoss`): with dᵢ = xᵢ − yᵢ,
///
///     ℓᵢ = ½ dᵢ²                 if |dᵢ| ≤ δ
///     ℓᵢ = δ (|dᵢ| − ½ δ)        otherwise
///
/// Written without a branch as ℓ = ½ q² + δ (a − q) with a = |d| and q = min(a, δ): for a ≤ δ
/// it is ½ a², beyond it ½ δ² + δ (a − δ) = δ (a − ½ δ); dℓ/da = q (since dq/da is 1 below δ
/// and 0 above), i.e. d inside the quadratic zone and δ·sign(d) outside, as PyTorch.
///
/// - Parameters:
///   - prediction: x, any shape.
///   - target: y, the same shape as `prediction`.
///   - delta: δ > 0, where the loss turns from quadratic to linear (default 1).
///   - reduction: mean (default) or sum over all elements.
/// - Returns: a scalar tensor.
public func huberLoss(_ prediction: Tensor, _ target: Tensor, delta: Float = 1, reduction: LossReduction = .mean) -> Tensor {
    checkSameShape("huberLoss", prediction, target)
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let absolute = (prediction - target).abs()
    let quadratic = absolute.clamped(max: delta)
    let elementwise = 0.5 * quadratic.squared() + delta * (absolute - quadratic)
    return elementwise.reducedAsLoss(reduction)
}

/// The KL divergence of a diagonal Gaussian from the standard normal (the VAE regulariser):
///
///     KL(N(μ, σ²) ‖ N(0, 1)) = −½ (1 + log σ² − μ² − σ²)     per element, σ² = exp(log σ²)
///
/// - Parameters:
///   - mean: μ, any shape (for a VAE, (N, latent)).
///   - logVariance: log σ², the same shape as `mean`.
///   - reduction: the mean (default) or sum over *all* elements. For the usual VAE objective
///     "sum over latent dimensions, mean over the batch", use `.sum` and divide by N.
/// - Returns: a scalar tensor.
public func gaussianKLDivergence(mean: Tensor, logVariance: Tensor, reduction: LossReduction = .mean) -> Tensor {
    precondition(mean.shape == logVariance.shape,
                 "gaussianKLDivergence: mean \(mean.shape) and logVariance \(logVariance.shape) must have the same shape")
    let elementwise = -0.5 * (1 + logVariance - mean.squared() - logVariance.exp())
    return elementwise.reducedAsLoss(reduction)
}

/// Peak signal-to-noise ratio in decibels, a metric (no gradient):
///
///     PSNR = 10 · log₁₀(R² / MSE),   MSE = mean over *all* elements of (x − y)²
///
/// computed in Double. For a batch this is the PSNR of the whole batch's mean squared error,
/// not the mean of per-image PSNRs. Identical inputs give +∞.
///
/// - Parameters:
///   - prediction: x, any shape (images are usually (N, C, H, W) in [0, R]).
///   - target: y, the same shape as `prediction`.
///   - dataRange: R, the span of valid values (1 for images in [0, 1], 255 for 8-bit).
public func psnr(_ prediction: Tensor, _ target: Tensor, dataRange: Float = 1) -> Float {
    checkSameShape("psnr", prediction, target)
    precondition(prediction.count > 0, "psnr: empty tensors")
    precondition(dataRange > 0, "psnr: dataRange must be positive, got \(dataRange)")
    var sumOfSquares = 0.0
    prediction.scalars.withUnsafeBufferPointer { x in
        target.scalars.withUnsafeBufferPointer { y in
            for i in 0..<x.count {
                let difference = Double(x[i]) - Double(y[i])
                sumOfSquares += difference * difference
            }
        }
    }
    let meanSquared = sumOfSquares / Double(prediction.count)
    if meanSquared == 0 { return .infinity }
    let range = Double(dataRange)
    return Float(10 * log10(range * range / meanSquared))
}
