import LatentCoding
import NeuralNetwork
import TensorCore

// What codes a VAE's quantised latent ŷ (model.entropy_model), and the integer tables its
// checkpoint carries for the coder (VAECheckpoint; docs/FORMATS.md):
//
//   factorized   one learned density per latent dimension (FactorizedPrior); rate −Σ log2 P(ŷ);
//                tables /extra/entropy/tables/…
//   hyperprior   a scale hyperprior (ScaleHyperprior): side latent ẑ coded first, each ŷ_i with
//                a Gaussian of predicted scale; rate −Σ log2 P(ẑ) − Σ log2 P(ŷ | σ); tables
//                /extra/entropy/hyperprior/{side.…, scales.…, boundaries}

/// A VAE's entropy model (see the file's comment).
public enum LatentEntropyModel {
    case factorized(FactorizedPrior)
    case hyperprior(ScaleHyperprior)

    /// The rate of ŷ (B, L) in bits, side information included: a differentiable scalar. A
    /// hyperprior's side latent is quantised with noise from `generator` in training, rounded otherwise.
    public func bits(_ latent: Tensor, training: Bool, generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .factorized(let prior):
            return prior.bits(latent)
        case .hyperprior(let hyperprior):
            let rate = hyperprior.bits(latent, training: training, generator: &generator)
            return rate.latentBits + rate.sideBits
        }
    }

    /// The coder's tables as they stand (made when a checkpoint is written).
    public var codeTables: LatentCodeTables {
        switch self {
        case .factorized(let prior): .factorized(FactorizedCodeTables(prior: prior))
        case .hyperprior(let hyperprior): .hyperprior(HyperpriorCodeTables(hyperprior: hyperprior))
        }
    }
}

/// The integer tables a learned code is written and read with.
public enum LatentCodeTables: Equatable, Sendable {
    case factorized(FactorizedCodeTables)
    case hyperprior(HyperpriorCodeTables)

    /// The checkpoint extras that hold them (names under `/extra`).
    public var extras: [String: Tensor] {
        switch self {
        case .factorized(let tables):
            Dictionary(uniqueKeysWithValues: tables.tensors.map { (VAECheckpoint.codeTablesPrefix + $0.key, $0.value) })
        case .hyperprior(let tables):
            Dictionary(uniqueKeysWithValues: tables.tensors.map { (VAECheckpoint.hyperpriorTablesPrefix + $0.key, $0.value) })
        }
    }
}
