// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, exactly as
// PyTorch's `torch.optim.SGD` with dampening 0. Per parameter θ with gradient g, learning rate
// η, momentum μ, weight decay λ and momentum buffer b (zero before the first update):
//
//   d = g + λ·θ                                  (L2 penalty folded into the gradient)
//   μ = 0:       θ ← θ − η·d
//   μ > 0:       b ← μ·b + d                      (first update: b = d, as PyTorch's clone)
//                θ ← θ − η·(d + μ·b)   if Nesterov
//                θ ← θ − η·b           otherwise
//
// Keras's SGD keeps v ← μ·v − η·g, θ ← θ + v instead: the same while η is constant, but it
// folds η into the buffer, so a schedule changes it differently. We follow PyTorch.
//
// State slot: "momentum" (only when μ > 0), shaped like the parameter.

/// Stochastic gradient descent, as PyTorch's SGD (dampening 0).
public struct SGD: UpdateRule {
    /// μ ≥ 0; 0 is plain gradient descent.
    public let momentum: Float
    /// Whether to take the Nesterov look-ahead step (needs μ > 0).
    public let nesterov: Bool
    /// λ ≥ 0 of the L2 penalty ½λ‖θ‖² added to the loss (coupled decay).
    public let weightDecay: Float

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(momentum >= 0, "SGD: negative momentum \(momentum)")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        precondition(weightDecay >= 0, "SGD: negative weight decay \(weightDecay)")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public var slotNames: [String] { momentum == 0 ? [] : ["momentum"] }

    public func applySingle(_ update: ParameterUpdate) {
        let theta = update.values, g = update.gradient, n = update.count
        let rate = update.learningRate, decay = weightDecay, mu = momentum
        if mu == 0 {
            for i in 0..<n {
                let d = g[i] + decay * theta[i]
                theta[i] -= rate * d
            }
            return
        }
        let buffer = update.slots[0]
        if nesterov {
            for i in 0..<n {
                let d = g[i] + decay * theta[i]
                let b = mu * buffer[i] + d
                buffer[i] = b
                theta[i] -= rate * (d + mu * b)
            }
        } else {
            for i in 0..<n {
                let d = g[i] + decay * theta[i]
                let b = mu * buffer[i] + d
                buffer[i] = b
                theta[i] -= rate * b
            }
        }
    }
}
