import Foundation
import NeuralNetwork
import TensorCore

// The factorised prior of Ballé et al. (2018, "Variational image compression with a scale
// hyperprior", appendix 6.1): each latent channel has its own learned univariate density,
// given by its cumulative c(x) = sigmoid(l(x)), where l is a small monotone network
//
//   f₀ = x                                                     (1)
//   f_{k+1} = softplus(H_k)·f_k + b_k                          (d_{k+1} × d_k) · (d_k) + (d_{k+1})
//   f_{k+1} ← f_{k+1} + tanh(a_k) ⊙ tanh(f_{k+1})              for every layer but the last
//   l(x) = f_K                                                 (1)
//
// with widths d = 1, 3, 3, 3, 1. softplus(H) > 0 and tanh(a) > −1 keep l increasing, so c is
// a cumulative distribution function. The probability of an integer latent value ŷ is the mass of
// its quantisation bin, P(ŷ) = c(ŷ + ½) − c(ŷ − ½), computed on the side of the median where
// the sigmoids are small (s = −sign(l(ŷ+½) + l(ŷ−½)), P = |σ(s·l(ŷ+½)) − σ(s·l(ŷ−½))|) so the
// tails keep their precision, and bounded below by `likelihoodBound`.
//
// Parameters (per channel, named in the model's scope): matrices.k (C, d_{k+1}, d_k), biases.k
// (C, d_{k+1}, 1), factors.k (C, d_{k+1}, 1). Initialisation as in Ballé's code: the matrices
// at log(expm1(1 / s / d_{k+1})) with s = 10^(1/4), so the initial density is wide (scale ≈ 10),
// biases uniform in [−½, ½], factors 0.

/// A learned per-channel density for quantised latents (see the file's comment).
public struct FactorizedPrior {
    public let channels: Int
    /// Widths of the density network's hidden layers.
    public static let hiddenWidths = [3, 3, 3]
    /// The least probability a bin is given (the rate of a value is at most −log2 of it).
    public static let likelihoodBound: Float = 1e-9
    /// The spread of the initial density (Ballé's init_scale).
    public static let initialScale: Float = 10

    /// (C, d_{k+1}, d_k), raw: the network uses softplus of them.
    public let matrices: [Tensor]
    /// (C, d_{k+1}, 1)
    public let biases: [Tensor]
    /// (C, d_{k+1}, 1), for every layer but the last; the network uses tanh of them.
    public let factors: [Tensor]

    public init(channels: Int, scope: ParameterScope) {
        precondition(channels >= 1, "FactorizedPrior: channels \(channels) must be positive")
        self.channels = channels
        let widths = [1] + FactorizedPrior.hiddenWidths + [1]
        let layers = widths.count - 1
        let scale = Foundation.pow(FactorizedPrior.initialScale, 1 / Float(layers))
        var matrices: [Tensor] = [], biases: [Tensor] = [], factors: [Tensor] = []
        for k in 0..<layers {
            let (input, output) = (widths[k], widths[k + 1])
            let start = Foundation.log(Foundation.expm1(1 / scale / Float(output)))
            matrices.append(scope.scope("matrices").parameter(String(k), shape: [channels, output, input], initializer: .constant(start)))
            let bias = scope.scope("biases").parameter(String(k), shape: [channels, output, 1], initializer: .zeros)
            if scope.store.allocates {
                bias.scalars = (0..<bias.count).map { _ in scope.random.generator.nextUniform() - 0.5 }
            }
            biases.append(bias)
            if k < layers - 1 {
                factors.append(scope.scope("factors").parameter(String(k), shape: [channels, output, 1], initializer: .zeros))
            }
        }
        self.matrices = matrices
        self.biases = biases
        self.factors = factors
    }

    /// l(x) of every channel at `values` (C, M): M points a channel → (C, M).
    public func logits(_ values: Tensor) -> Tensor {
        precondition(values.rank == 2 && values.shape[0] == channels,
                     "FactorizedPrior.logits: values \(values.shape) must be (\(channels), M)")
        var hidden = values.unsqueezed(1)  // (C, 1, M)
        for k in 0..<matrices.count {
            hidden = matrices[k].softplus().matmul(hidden) + biases[k]  // (C, d_{k+1}, M)
            if k < factors.count { hidden = hidden + factors[k].tanh() * hidden.tanh() }
        }
        return hidden.squeezed(1)  // (C, M)
    }

    /// P(ŷ) of the bins centred on `values` (B, C), each channel by its own density → (B, C),
    /// at least `likelihoodBound`. Differentiable in the values and the parameters.
    public func likelihoods(_ values: Tensor) -> Tensor {
        precondition(values.rank == 2 && values.shape[1] == channels,
                     "FactorizedPrior.likelihoods: values \(values.shape) must be (B, \(channels))")
        let byChannel = values.transposed(0, 1)  // (C, B)
        let upper = logits(byChannel + 0.5), lower = logits(byChannel - 0.5)
        let side = Tensor(shape: upper.shape, scalars: zip(upper.scalars, lower.scalars).map { $0 + $1 > 0 ? -1 : 1 })
        let mass = ((upper * side).sigmoid() - (lower * side).sigmoid()).abs()
        return mass.clamped(min: FactorizedPrior.likelihoodBound).transposed(0, 1)  // (B, C)
    }

    /// The rate of `values` (B, C) in bits, −Σ log2 P(ŷ): a scalar, differentiable.
    public func bits(_ values: Tensor) -> Tensor {
        likelihoods(values).log().sum() * (-1 / Float(M_LN2))
    }
}
