import Foundation
import NeuralNetwork
import TensorCore

// The scale hyperprior of Ballé et al. (2018) for a vector latent ŷ of L values (one set's):
//
//   analysis    z = h_a(|ŷ|):   Linear(L → H), ReLU, Linear(H → Z)          (B, L) → (B, Z)
//   side        ẑ = z + u, u ~ U(−½, ½) in training; round(z) when coding; coded with its own
//               factorised prior (Z densities)
//   synthesis   s = h_s(ẑ):     Linear(Z → H), ReLU, Linear(H → L)          (B, Z) → (B, L)
//               σ = exp(s), the scale of a zero-mean Gaussian conditional for each latent value
//   rate        −Σ log2 P(ẑ) − Σ log2 P(ŷ | σ) (GaussianConditional), in bits
//
// Coding (HyperpriorStream) writes ẑ with the side prior's tables, then each ŷ_i with the table
// of scale index(s_i) (GaussianConditional.scaleIndex). The decoder must compute the same
// indices from ẑ on any machine, so coding evaluates h_s with `synthesisLogScales(side:)`: a
// plain float32 loop in a fixed order (no BLAS, whose kernels differ across CPUs; no libm, only
// multiply, add and max), not the tensor graph used in training. The two agree to rounding.
//
// Parameters (in the model's scope): analysis.0/1 and synthesis.0/1 (Linear: weight (in, out),
// bias), side_prior (a FactorizedPrior of Z channels). The synthesis' last bias starts at
// ln 2 (σ = 2) and its weights at a tenth of Glorot's, so training starts from moderate scales.

/// A learned scale hyperprior over vector latents (see the file's comment).
public struct ScaleHyperprior {
    public let latentDimensions: Int
    public let sideDimensions: Int
    public let hiddenWidth: Int
    public let analysis: (Linear, Linear)
    public let synthesis: (Linear, Linear)
    public let sidePrior: FactorizedPrior

    public init(latentDimensions: Int, sideDimensions: Int, hiddenWidth: Int, scope: ParameterScope) {
        precondition(latentDimensions >= 1 && sideDimensions >= 1 && hiddenWidth >= 1,
                     "ScaleHyperprior: dimensions \(latentDimensions), \(sideDimensions), \(hiddenWidth) must be positive")
        (self.latentDimensions, self.sideDimensions, self.hiddenWidth) = (latentDimensions, sideDimensions, hiddenWidth)
        let a = scope.scope("analysis"), s = scope.scope("synthesis")
        analysis = (Linear(latentDimensions, hiddenWidth, scope: a.scope("0")), Linear(hiddenWidth, sideDimensions, scope: a.scope("1")))
        let last = [hiddenWidth, latentDimensions]
        synthesis = (Linear(sideDimensions, hiddenWidth, scope: s.scope("0")),
                     Linear(hiddenWidth, latentDimensions, weightInitializer: .scaled(.glorotUniform(fans: .linear(last)), gain: 0.1),
                            biasInitializer: .constant(Float(M_LN2)), scope: s.scope("1")))
        sidePrior = FactorizedPrior(channels: sideDimensions, scope: scope.scope("side_prior"))
    }

    /// z = h_a(|ŷ|): (B, L) → (B, Z), before quantisation.
    public func sideLatent(of latent: Tensor) -> Tensor {
        analysis.1(analysis.0(latent.abs(), training: true).relu(), training: true)
    }

    /// s = h_s(ẑ) = ln σ: (B, Z) → (B, L), the graph used in training.
    public func logScales(side: Tensor) -> Tensor {
        synthesis.1(synthesis.0(side, training: true).relu(), training: true)
    }

    /// The rate of `latent` ŷ (B, L) with its side latent: in training ẑ = z + u (u from
    /// `generator`), otherwise round(z). Returns the bits of ŷ and of ẑ (scalars, differentiable)
    /// and ẑ (B, Z).
    public func bits(_ latent: Tensor, training: Bool, generator: inout RandomGenerator)
        -> (latentBits: Tensor, sideBits: Tensor, quantizedSide: Tensor) {
        let z = sideLatent(of: latent)
        let side = training ? z + Tensor.uniform(z.shape, low: -0.5, high: 0.5, using: &generator) : z.roundedToIntegers()
        let scales = logScales(side: side).exp()
        let latentBits = GaussianConditional.bits(latent, means: Tensor.zeros(latent.shape), scales: scales)
        return (latentBits, sidePrior.bits(side), side)
    }

    /// s = h_s(ẑ) for one item's integer side latent (Z values) → L log-scales, in a fixed-order
    /// float32 loop (see the file's comment): what the encoder and the decoder both use.
    public func synthesisLogScales(side: [Int32]) -> [Float] {
        precondition(side.count == sideDimensions, "ScaleHyperprior: \(side.count) side values, expected \(sideDimensions)")
        let (first, second) = synthesis
        let (w0, b0, w1, b1) = (first.weight.scalars, first.bias!.scalars, second.weight.scalars, second.bias!.scalars)
        var hidden = [Float](repeating: 0, count: hiddenWidth)
        for j in 0..<hiddenWidth {
            var sum = b0[j]
            for i in 0..<sideDimensions {
                let product = w0[i * hiddenWidth + j] * Float(side[i])
                sum = sum + product
            }
            hidden[j] = Swift.max(0, sum)
        }
        var output = [Float](repeating: 0, count: latentDimensions)
        for k in 0..<latentDimensions {
            var sum = b1[k]
            for j in 0..<hiddenWidth {
                let product = w1[j * latentDimensions + k] * hidden[j]
                sum = sum + product
            }
            output[k] = sum
        }
        return output
    }
}
