import TensorCore

// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (norm type 2):
//
//   ‖g‖ = √(Σ over parameters Σ over elements g²)           (accumulated in double)
//   c   = maxNorm / (‖g‖ + 10⁻⁶)
//   if c < 1:  g ← c·g  for every gradient                  (otherwise gradients are untouched)
//
// The norm before clipping is returned, to log. Parameters without a gradient are skipped. If
// the norm is not finite (an overflow or NaN in some gradient) the gradients are left as they
// are and the non-finite norm is returned for the caller to act on (PyTorch, with its default
// `error_if_nonfinite=False`, would scale them by NaN or 0).

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`.
///
/// - Parameters:
///   - parameters: the tensors whose `grad` to clip (those with `grad == nil` are skipped).
///   - maxNorm: the largest allowed global norm, > 0.
/// - Returns: the global norm of the gradients before clipping.
@discardableResult
public func clipGradientsByGlobalNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientsByGlobalNorm: maxNorm must be positive, got \(maxNorm)")
    let gradients = parameters.compactMap { $0.grad }
    var sumOfSquares = 0.0
    for gradient in gradients {
        gradient.scalars.withUnsafeBufferPointer { g in
            var partial = 0.0
            for i in 0..<g.count {
                let value = Double(g[i])
                partial += value * value
            }
            sumOfSquares += partial
        }
    }
    let norm = sumOfSquares.squareRoot()
    guard norm.isFinite else { return Float(norm) }
    let coefficient = Float(Double(maxNorm) / (norm + 1e-6))
    if coefficient < 1 {
        for gradient in gradients {
            gradient.scalars.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count { g[i] *= coefficient }
            }
        }
    }
    return Float(norm)
}

/// Clips the gradients of named parameters by their global norm; returns the norm before.
@discardableResult
public func clipGradientsByGlobalNorm(_ parameters: [(name: String, tensor: Tensor)], maxNorm: Float) -> Float {
    clipGradientsByGlobalNorm(parameters.map { $0.tensor }, maxNorm: maxNorm)
}

/// Clips the gradients of every parameter of `store` by their global norm; returns the norm before.
@discardableResult
public func clipGradientsByGlobalNorm(_ store: ParameterStore, maxNorm: Float) -> Float {
    clipGradientsByGlobalNorm(store.parameters, maxNorm: maxNorm)
}
