import LatentCoding
import NeuralNetwork
import TensorCore

// The interface every Gaussian-set VAE offers the training and inference commands.
//
// Shape letters: B batch, N Gaussians per set, C columns per Gaussian (8, or 9 canonical; see
// `SetRepresentation`), L latent dimensions. Data enters and leaves as (B, N, C) rows of
// z-scored parameters in Morton order; the layout inside a model is its own business.
//
// Reparameterisation (a composition of tensor ops, differentiable in μ and log σ²):
//   z = μ + exp(½·log σ²) · ε,   ε ~ N(0, I) drawn from a seeded stream, a constant of the graph.
// With an entropy model (`entropyModel`) the latent is the quantised mean instead (Ballé et al.):
//   training    ŷ = μ + u,   u ~ U(−½, ½) from the same stream (a differentiable proxy of rounding);
//               with `straightThroughRounding` the decoder sees μ + (round(μ) − μ) instead, the
//               bracket a constant (its gradient passes straight through), and the rate keeps μ + u
//   inference   ŷ = round(μ), what the codec writes
// and the pass also gives the rate of ŷ under the entropy model, −Σ log2 P(ŷ) (bits of the
// batch, with a hyperprior's side information).

/// A variational autoencoder over sets of Gaussians.
public protocol VAEModel: AnyObject {
    /// The model's named parameters and buffers, and its random stream.
    var store: ParameterStore { get }
    /// L.
    var latentDimensions: Int { get }
    /// N, the number of Gaussians per set in and out.
    var gaussianCount: Int { get }
    /// C, the parameters per Gaussian in and out.
    var columnCount: Int { get }

    /// (B, N, C) → μ (B, L) and log σ² (B, L).
    func encode(_ gaussians: Tensor, training: Bool) -> (mean: Tensor, logVariance: Tensor)
    /// (B, L) → (B, N, C).
    func decode(_ latent: Tensor, training: Bool) -> Tensor
    /// Per-layer output shapes and parameter counts.
    func summary() -> ModelSummary
    /// What codes the quantised latent, for a model with an entropy model; nil otherwise.
    var entropyModel: LatentEntropyModel? { get }
    /// With an entropy model: whether the decoder sees round(μ) in training (straight through).
    var straightThroughRounding: Bool { get }
}

/// One pass through a VAE: the reconstruction and the posterior it was decoded from.
public struct VAEOutput {
    /// (B, N, C)
    public let reconstruction: Tensor
    /// μ, (B, L)
    public let mean: Tensor
    /// log σ², (B, L)
    public let logVariance: Tensor
    /// The sampled z, or with an entropy model the quantised ŷ the decoder saw, (B, L)
    public let latent: Tensor
    /// With an entropy model: −Σ log2 P(ŷ) over the batch, a scalar; nil otherwise.
    public let bits: Tensor?
}

extension VAEModel {
    /// z = μ + exp(½·log σ²)·ε with ε standard normal from `generator`: (B, L), (B, L) → (B, L).
    public func sample(mean: Tensor, logVariance: Tensor, generator: inout RandomGenerator) -> Tensor {
        precondition(mean.shape == logVariance.shape,
                     "sample: mean \(mean.shape) and log-variance \(logVariance.shape) must have one shape")
        let noise = Tensor.normal(mean.shape, using: &generator)  // ε, (B, L), no gradient
        return mean + (logVariance * 0.5).exp() * noise
    }

    /// `sample(mean:logVariance:generator:)` drawing ε from the store's random stream.
    public func sample(mean: Tensor, logVariance: Tensor) -> Tensor {
        sample(mean: mean, logVariance: logVariance, generator: &store.random.generator)
    }

    /// Encode, sample z (from the store's stream) or quantise μ (with an entropy model), and
    /// decode: (B, N, C) → `VAEOutput`.
    public func callAsFunction(_ gaussians: Tensor, training: Bool) -> VAEOutput {
        let (mean, logVariance) = encode(gaussians, training: training)
        guard let entropyModel else {
            let latent = sample(mean: mean, logVariance: logVariance)
            return VAEOutput(reconstruction: decode(latent, training: training), mean: mean,
                             logVariance: logVariance, latent: latent, bits: nil)
        }
        let latent = training ? mean + Tensor.uniform(mean.shape, low: -0.5, high: 0.5, using: &store.random.generator)
                              : mean.roundedToIntegers()
        let decoded = training && straightThroughRounding ? mean + (mean.roundedToIntegers() - mean.detached()) : latent
        return VAEOutput(reconstruction: decode(decoded, training: training), mean: mean, logVariance: logVariance,
                         latent: decoded, bits: entropyModel.bits(latent, training: training, generator: &store.random.generator))
    }

    /// The deterministic latent of a posterior mean μ (B, L): μ itself, or with an entropy model
    /// round(μ), what the codec writes.
    public func pointLatent(_ mean: Tensor) -> Tensor {
        entropyModel == nil ? mean : mean.roundedToIntegers()
    }

    /// The deterministic reconstruction, in inference mode (GaussVAE's `reconstruct`): decode
    /// the point latent (`pointLatent`).
    public func reconstruct(_ gaussians: Tensor) -> Tensor {
        decode(pointLatent(encode(gaussians, training: false).mean), training: false)
    }
}

extension VAEConfig {
    /// The model this configuration describes, for sets in `data.representation` (8 or 9
    /// columns), its parameters initialised from `seed` (default: the file's `seed`, or 0) in
    /// a new store. With `allocating: false` the store only counts (`ParameterStore`): the
    /// model's `summary()` is exact, and it must not be run.
    public func makeModel(seed: UInt64? = nil, allocating: Bool = true) -> GaussianSetVAE {
        makeVAE(model, columns: data.representation.columns,
                store: ParameterStore(seed: seed ?? initializationSeed, allocating: allocating))
    }
}

/// Builds the VAE `configuration` describes for sets of `columns` parameters per Gaussian,
/// registering its parameters in `store` under `encoder.…` and `decoder.…`. Both
/// architectures share one builder (`GaussianSetVAE`).
public func makeVAE(_ configuration: VAEModelConfig, columns: Int = 8, store: ParameterStore) -> GaussianSetVAE {
    GaussianSetVAE(configuration: configuration, columns: columns, store: store)
}
