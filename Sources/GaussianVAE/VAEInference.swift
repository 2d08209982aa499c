import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import NeuralNetwork
import SplatIO
import TensorCore

// Inference with a trained Gaussian-set VAE: the pure functions behind `splatkit encode`,
// `decode`, `reconstruct` and `evaluate`.
//
// Shape letters: k sets, B batch, N Gaussians per set, C representation columns (8, or 9
// canonical), L latent dimensions.
//
// Pipeline (the inverse of how `splatkit train` feeds the model, VAETrainingData.swift):
//   encode   Image-GS sets (k, N, 8) in the model's spatial order
//              → representation rows (k, N, C) → (x − mean)/std → encoder, training = false
//              → μ (k, L), log σ² (k, L); optionally z = μ + σ·ε with ε from a seeded stream
//   decode   latents (k, L) → decoder, training = false → (k, N, C) normalised
//              → ·std + mean → `SetRepresentation.decode` → Image-GS sets (k, N, 8)
// Both run in batches of `batchSize` sets under `withoutGradients`; the result does not depend
// on the batch size (inference-mode batch norm and dropout are per-example).
//
// Order: the model learned sets in its dataset's stored order (Morton by default). Sets taken
// from a dataset are already in it; a single fitted set (`splatkit fit`) is not, and is put
// in order with `SpatialOrder.ordered` first.
//
// Reconstruction metrics, in normalised representation units, per loss group g (xy, scale,
// rotation, colour) over every Gaussian of every evaluated set:
//   MSE_g = SSE_g / (n·|g|),   SSE_g = Σ_{i, c∈g} (x̂_ic − x_ic)²
//   R²_g  = 1 − SSE_g / SST_g, SST_g = Σ_{i, c∈g} (x_ic − x̄_c)², x̄_c the column mean of the
//           evaluated targets; so a perfect reconstruction scores 1 and predicting x̄ scores 0.
// The same again for the decoded sets (what `splatkit decode` writes), taken back into the
// representation and normalised: for the canonical representation the model's output can lie
// where no set does (a (cos 2θ, sin 2θ) inside the unit circle, σ_minor > σ_major, colour outside
// [0, 1]; for log_covariance only colour), and mean-squared-error training pulls uncertain
// values there; decoding moves them to the ellipse and colour they stand for, so these are the
// figures of the Gaussians a user gets.
// For the plain representation both are the same.
// Image metrics compare renders clamped to [0, 1] (as displayed), per set, then averaged:
// PSNR (dB) and SSIM (11 × 11 Gaussian window) of the VAE's render against the fitted set's
// render, and of both against the source image when it is found (GaussianData's SourceImages.swift).

/// A trained VAE ready for inference.
public struct VAEInference {
    public let model: GaussianSetVAE
    public let config: VAEConfig
    public let normalization: ColumnNormalization
    public let representation: SetRepresentation
    /// What the model was trained on (order, fitted size, recipe), as far as known.
    public let trainedOn: VAETrainedOn
    /// Sets per forward pass.
    public var batchSize: Int

    public init(model: GaussianSetVAE, config: VAEConfig, normalization: ColumnNormalization,
                representation: SetRepresentation, trainedOn: VAETrainedOn = .unknown, batchSize: Int = 64) {
        precondition(batchSize >= 1, "VAEInference: batch size \(batchSize) must be positive")
        precondition(model.columnCount == representation.columns && normalization.mean.count == representation.columns,
                     "VAEInference: model of \(model.columnCount) columns, normalisation of \(normalization.mean.count), "
                     + "\(representation.rawValue) representation of \(representation.columns)")
        self.model = model
        self.config = config
        self.normalization = normalization
        self.representation = representation
        self.trainedOn = trainedOn
        self.batchSize = batchSize
    }

    /// The VAE of a checkpoint written by `splatkit train` (see `loadVAE(from:)`).
    public init(checkpoint path: String, batchSize: Int = 64) throws {
        let vae = try loadVAE(from: path)
        self.init(model: vae.model, config: vae.config, normalization: vae.normalization,
                  representation: vae.representation, trainedOn: vae.trainedOn, batchSize: batchSize)
    }

    /// N, the Gaussians per set the model takes and returns.
    public var setSize: Int { model.gaussianCount }
    /// L.
    public var latentDimensions: Int { model.latentDimensions }

    /// Throws unless sets of `count` Gaussians fit the model; `path` names their file.
    public func checkSetSize(_ count: Int, in path: String) throws {
        guard count == setSize else {
            throw FileError(path, "holds sets of \(count) Gaussians but the model takes \(setSize) "
                            + "(model.num_gaussians); encode sets fitted with --gaussians \(setSize)")
        }
    }

    // MARK: Encoding

    /// The model's input for Image-GS sets (k, N, 8) in model order: (k, N, C), normalised.
    public func normalizedInput(_ sets: Tensor) -> Tensor {
        precondition(sets.rank == 3 && sets.shape[1] == setSize && sets.shape[2] == ImageGSColumn.count,
                     "VAEInference: sets \(sets.shape) must be (k, \(setSize), 8)")
        return normalization.modelInput(sets, representation: representation)
    }

    /// μ and log σ² (k, L) of normalised inputs (k, N, C), in batches.
    public func posterior(normalized input: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        precondition(input.rank == 3 && input.shape[1] == setSize && input.shape[2] == representation.columns,
                     "VAEInference.posterior: input \(input.shape) must be (k, \(setSize), \(representation.columns))")
        var means: [Tensor] = [], logVariances: [Tensor] = []
        withoutGradients {
            for range in batches(input.shape[0]) {
                let (mean, logVariance) = model.encode(input.sliced(range, alongAxis: 0), training: false)
                means.append(mean)
                logVariances.append(logVariance)
            }
        }
        return (concatenatedSets(means, trailing: [latentDimensions]),
                concatenatedSets(logVariances, trailing: [latentDimensions]))
    }

    /// Latents (k, L) of Image-GS sets (k, N, 8): the point latent (μ, or round(μ) with an entropy
    /// model: `VAEModel.pointLatent`), or, given `sampleSeed`, a sample z (see
    /// `sample(mean:logVariance:seed:)`). `order` puts each set in the model's spatial order
    /// first (`.none` when it already is, as a dataset's sets are).
    public func latents(of sets: Tensor, order: SpatialOrder = .morton, sampleSeed: UInt64? = nil) -> Tensor {
        let (mean, logVariance) = posterior(normalized: normalizedInput(order.ordered(sets)))
        guard let sampleSeed else { return model.pointLatent(mean) }
        return sample(mean: mean, logVariance: logVariance, seed: sampleSeed)
    }

    /// z = μ + exp(½·log σ²)·ε (k, L), with ε for all k sets drawn row-major over (k, L) from
    /// `RandomGenerator(seed: seed)`: the same seed gives the same z whatever the batch size.
    public func sample(mean: Tensor, logVariance: Tensor, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return withoutGradients { model.sample(mean: mean, logVariance: logVariance, generator: &generator) }
    }

    // MARK: Decoding

    /// The decoder's output (k, N, C) for latents (k, L), in normalised representation units.
    public func decodeNormalized(_ latents: Tensor) -> Tensor {
        precondition(latents.rank == 2 && latents.shape[1] == latentDimensions,
                     "VAEInference.decode: latents \(latents.shape) must be (k, \(latentDimensions))")
        var parts: [Tensor] = []
        withoutGradients {
            for range in batches(latents.shape[0]) {
                parts.append(model.decode(latents.sliced(range, alongAxis: 0), training: false))
            }
        }
        return concatenatedSets(parts, trailing: [setSize, representation.columns])
    }

    /// Image-GS sets (k, N, 8) of normalised representation rows (k, N, C): de-normalised, then
    /// converted back from the representation.
    public func imageGSSets(normalized rows: Tensor) -> Tensor {
        precondition(rows.rank == 3 && rows.shape[2] == representation.columns,
                     "VAEInference.imageGSSets: rows \(rows.shape) must be (k, N, \(representation.columns))")
        let values = representation.decode(normalization.denormalize(rows: rows.scalars))
        return Tensor(shape: [rows.shape[0], rows.shape[1], ImageGSColumn.count], scalars: values)
    }

    /// Image-GS sets (k, N, 8) decoded from latents (k, L).
    public func decode(_ latents: Tensor) -> Tensor {
        imageGSSets(normalized: decodeNormalized(latents))
    }

    /// The deterministic reconstruction (decode the point latent) of normalised inputs:
    /// (k, N, C) → (k, N, C).
    public func reconstructNormalized(_ input: Tensor) -> Tensor {
        decodeNormalized(model.pointLatent(posterior(normalized: input).mean))
    }

    /// The deterministic reconstruction of Image-GS sets (k, N, 8) in model order: encode,
    /// decode μ, convert back: (k, N, 8) → (k, N, 8).
    public func reconstruct(_ sets: Tensor) -> Tensor {
        imageGSSets(normalized: reconstructNormalized(normalizedInput(sets)))
    }

    // MARK: Batching

    private func batches(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: batchSize).map { $0..<Swift.min($0 + batchSize, count) }
    }

    /// The parts stacked along axis 0, or an empty (0, …) tensor for no parts.
    private func concatenatedSets(_ parts: [Tensor], trailing: [Int]) -> Tensor {
        switch parts.count {
        case 0: return Tensor(shape: [0] + trailing, scalars: [])
        case 1: return parts[0]
        default: return Tensor.concatenated(parts, alongAxis: 0)
        }
    }
}

// MARK: - Reconstruction metrics

/// One loss group's reconstruction quality in normalised units.
public struct GroupReconstructionMetric: Equatable, Sendable {
    public let name: String
    /// SSE / (values compared).
    public let meanSquaredError: Double
    /// 1 − SSE/SST; nil when the group is constant.
    public let rSquared: Double?
    /// Whether the group's targets do not vary across the sets (a variance per value below
    /// `constantVariance` in normalised units: float noise), as the positions and shapes of a
    /// fixed layout: its error then measures nothing learned, and reports say "constant".
    public let isConstant: Bool

    /// The largest variance per value (normalised units, where a varying column's is about 1)
    /// of a group called constant.
    public static let constantVariance = 1e-9
}

/// Per-group normalised MSE and R², accumulated batch by batch (formulas at the top of the file).
public struct ReconstructionMetrics {
    public let representation: SetRepresentation
    private var squaredErrors: [Double]
    private var targets: ColumnStatistics

    public init(representation: SetRepresentation) {
        self.representation = representation
        squaredErrors = [Double](repeating: 0, count: representation.columns)
        targets = ColumnStatistics(columns: representation.columns)
    }

    /// Gaussians added so far.
    public var count: Int { targets.count }

    /// Adds a batch: reconstructions and targets (…, C) in normalised representation units.
    public mutating func add(reconstruction: Tensor, target: Tensor) {
        let C = representation.columns
        precondition(reconstruction.shape == target.shape && target.shape.last == C,
                     "ReconstructionMetrics.add: reconstruction \(reconstruction.shape) and target \(target.shape) "
                     + "must be (…, \(C))")
        let x̂ = reconstruction.scalars, x = target.scalars
        for index in x.indices {
            let difference = Double(x̂[index]) - Double(x[index])
            squaredErrors[index % C] += difference * difference
        }
        targets.add(rows: x)
    }

    /// Each group of the representation, then "all" (every column).
    public var groups: [GroupReconstructionMetric] {
        let named = representation.groups + [(name: "all", columns: 0..<representation.columns)]
        return named.map { group in
            let sse = group.columns.reduce(0.0) { $0 + squaredErrors[$1] }
            let sst = group.columns.reduce(0.0) { $0 + targets.sumOfSquaredDeviations[$1] }
            let values = Double(targets.count * group.columns.count)
            let constant = !(sst > GroupReconstructionMetric.constantVariance * values)
            return GroupReconstructionMetric(name: group.name, meanSquaredError: values > 0 ? sse / values : .nan,
                                             rSquared: constant ? nil : 1 - sse / sst, isConstant: constant)
        }
    }
}

// MARK: - Image metrics

/// PSNR and SSIM of images against references, one pair at a time, averaged.
public struct ImageComparison: Sendable {
    public private(set) var psnrValues: [Double] = []
    public private(set) var ssimValues: [Double] = []

    public init() {}

    /// Adds one pair of (3, H, W) images (already clamped for display), H and W ≥ 11.
    public mutating func add(_ image: Tensor, reference: Tensor) {
        precondition(image.shape == reference.shape && image.rank == 3 && image.shape[0] == 3,
                     "ImageComparison.add: image \(image.shape) and reference \(reference.shape) must be one (3, H, W)")
        psnrValues.append(Double(psnr(image, reference)))
        ssimValues.append(Double(withoutGradients { ssim(image.unsqueezed(0), reference.unsqueezed(0)) }.item))
    }

    public var count: Int { psnrValues.count }
    /// Mean per-image PSNR in dB (+∞ if an image equals its reference); nil with no pairs.
    public var meanPSNR: Double? { count > 0 ? psnrValues.reduce(0, +) / Double(count) : nil }
    public var meanSSIM: Double? { count > 0 ? ssimValues.reduce(0, +) / Double(count) : nil }
}

/// The side sets are taken to have been fitted at when their file does not say (sets
/// imported from GaussVAE record none).
public let defaultFittedImageSize = 256

extension GaussianDatasetFile {
    /// The side of the square images the sets were fitted at: the dataset's `image_size`, or
    /// `defaultFittedImageSize` when it records none.
    public var fittedImageSize: Int { settings.imageSize >= 1 ? settings.imageSize : defaultFittedImageSize }
}

// MARK: - Evaluation

/// The numbers `splatkit evaluate` reports.
public struct VAEEvaluation {
    /// Sets evaluated.
    public let count: Int
    /// Per group, then "all": the model's output against its input, in normalised
    /// representation units.
    public let groups: [GroupReconstructionMetric]
    /// The same for the decoded sets, re-encoded (see the top of the file).
    public let decodedGroups: [GroupReconstructionMetric]
    /// The side of the square renders compared.
    public let imageSize: Int
    public let renderer: SetRenderer
    public let vaeVersusFitted: ImageComparison
    /// Over the sets whose source image was found (`SourceImages`); empty without sources.
    public let vaeVersusSource: ImageComparison
    public let fittedVersusSource: ImageComparison
    /// The sets whose source was not found, and why (empty without sources).
    public let missingSources: [MissingSource]
}

/// Reconstructs every set of `split` (or its first `limit`) and measures the VAE against the
/// fitted sets and, given `sources`, against the source image of each set whose source is found
/// (the others are listed in `missingSources`). Renders are `imageSize` × `imageSize`; sets are
/// taken to have been fitted at `fittedSize` pixels. `progress` is called with (sets done,
/// total) after each batch.
public func evaluateVAE(
    _ vae: VAEInference, split: DatasetSplit, sources: SourceImages?, fittedSize: Int, imageSize: Int,
    renderer: SetRenderer, limit: Int? = nil, progress: (Int, Int) -> Void = { _, _ in }
) throws -> VAEEvaluation {
    try vae.checkSetSize(split.setSize, in: split.file.path)
    let total = Swift.min(split.count, limit ?? split.count)
    var metrics = ReconstructionMetrics(representation: vae.representation)
    var decodedMetrics = ReconstructionMetrics(representation: vae.representation)
    var vaeVersusFitted = ImageComparison(), vaeVersusSource = ImageComparison(), fittedVersusSource = ImageComparison()
    var missingSources: [MissingSource] = []
    let N = vae.setSize
    var start = 0
    while start < total {
        let indices = Array(start..<Swift.min(start + vae.batchSize, total))
        let sets = Tensor(shape: [indices.count, N, 8], scalars: try split.read(indices: indices))  // (B, N, 8)
        let input = vae.normalizedInput(sets)                                                       // (B, N, C)
        let reconstruction = vae.reconstructNormalized(input)                                      // (B, N, C)
        metrics.add(reconstruction: reconstruction, target: input)
        let decoded = vae.imageGSSets(normalized: reconstruction)                                  // (B, N, 8)
        decodedMetrics.add(reconstruction: vae.normalizedInput(decoded), target: input)
        for (offset, index) in indices.enumerated() {
            let fitted = renderer.render(sets.sliced(offset..<(offset + 1), alongAxis: 0).squeezed(0),
                                         fittedWidth: fittedSize, fittedHeight: fittedSize, width: imageSize, height: imageSize)
            let rendered = renderer.render(decoded.sliced(offset..<(offset + 1), alongAxis: 0).squeezed(0),
                                           fittedWidth: fittedSize, fittedHeight: fittedSize, width: imageSize, height: imageSize)
            vaeVersusFitted.add(rendered, reference: fitted)
            switch try sources?.image(item: split.items[index], size: imageSize) {
            case .found(let source, _)?:
                vaeVersusSource.add(rendered, reference: source.tensor())
                fittedVersusSource.add(fitted, reference: source.tensor())
            case .notFound(let reason)?:
                let item = split.items[index]
                missingSources.append(MissingSource(name: try split.file.names(item..<(item + 1))[0], reason: reason))
            case nil:
                break
            }
        }
        start += indices.count
        progress(start, total)
    }
    return VAEEvaluation(count: total, groups: metrics.groups, decodedGroups: decodedMetrics.groups,
                         imageSize: imageSize, renderer: renderer,
                         vaeVersusFitted: vaeVersusFitted, vaeVersusSource: vaeVersusSource,
                         fittedVersusSource: fittedVersusSource, missingSources: missingSources)
}
