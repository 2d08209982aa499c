import Foundation
import GaussianData
import GaussianFitting
import LatentCoding
import NeuralNetwork
import SplatIO
import TensorCore

// What a Gaussian-set VAE checkpoint holds besides the generic checkpoint layout
// (docs/FORMATS.md, "Checkpoints"), and the loader the inference commands use.
//
// Contract between `splatkit train` (VAETrainer) and the inference commands (encode, decode,
// evaluate):
//   root attribute `model`            "gaussvae"
//   root attribute `config`           the full YAML text of the configuration the run used
//                                     (command-line overrides such as --seed written in)
//   /extra/data/normalization/mean    float32 (C): per-column mean, and
//   /extra/data/normalization/std     float32 (C): per-column std, both in the columns of the
//                                     config's `data.representation` (C = 8, or 9 canonical),
//                                     fitted over the dataset's train split after converting its
//                                     rows to the representation
// so that inference maps Image-GS rows → representation → (x − mean)/std → model, and back by
// decoded·std + mean → `SetRepresentation.decode`.
//
// With an entropy model (model.entropy_model) also its integer code tables, made from the model
// as it was when the checkpoint was written (LatentCodeTables), which the codec's encoder and
// decoder both read instead of deriving them again:
//   factorized   /extra/entropy/tables/{offsets,counts,frequencies}   float32 (L), (L), (L, S), integers
//   hyperprior   /extra/entropy/hyperprior/side/{offsets,counts,frequencies}     (Z), (Z), (Z, S)
//                /extra/entropy/hyperprior/scales/{offsets,counts,frequencies}   (K), (K), (K, S)
//                /extra/entropy/hyperprior/boundaries                          float32 (K − 1)
//
// Training checkpoints (best.h5, last.h5) carry more: optimizer state, the random stream,
// schedule state, the batch position and early stopping's best parameters (`/extra/best/…`);
// `loadVAE` ignores them.

/// Names shared by the VAE trainer and the inference commands.
public enum VAECheckpoint {
    /// The checkpoint's root `model` attribute.
    public static let modelKind = "gaussvae"
    /// The extra tensor holding the per-column normalisation mean (representation columns).
    public static let normalizationMean = "data.normalization.mean"
    /// The extra tensor holding the per-column normalisation std (representation columns).
    public static let normalizationStandardDeviation = "data.normalization.std"

    /// The extras' prefix of early stopping's best parameters in a training checkpoint.
    public static let bestParametersPrefix = "best."

    /// The extras' prefixes of the entropy model's code tables (LatentCodeTables).
    public static let codeTablesPrefix = "entropy.tables.", hyperpriorTablesPrefix = "entropy.hyperprior."

    /// The code tables of `entropyModel` saved in a checkpoint's extras, validated against it.
    static func codeTables(in extras: [String: Tensor], for entropyModel: LatentEntropyModel, path: String) throws -> LatentCodeTables {
        func named(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: extras.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        do {
            switch entropyModel {
            case .factorized(let prior):
                let tables = try FactorizedCodeTables(tensors: named(codeTablesPrefix))
                guard tables.channels == prior.channels else {
                    throw FileError(path, "the code tables have \(tables.channels) channels, the latent \(prior.channels)")
                }
                return .factorized(tables)
            case .hyperprior(let hyperprior):
                let tables = try HyperpriorCodeTables(tensors: named(hyperpriorTablesPrefix))
                guard tables.side.channels == hyperprior.sideDimensions else {
                    throw FileError(path, "the side tables have \(tables.side.channels) channels, the side latent \(hyperprior.sideDimensions)")
                }
                return .hyperprior(tables)
            }
        } catch let error as LatentCodingError {
            throw FileError(path, "the entropy model's code tables (/extra/entropy/…) are missing or invalid: \(error)")
        }
    }

    /// The normalisation saved in a checkpoint's extras, checked against the representation.
    static func normalization(in extras: [String: Tensor], columns: Int, path: String) throws -> ColumnNormalization {
        guard let mean = extras[normalizationMean], let std = extras[normalizationStandardDeviation] else {
            throw FileError(path, "checkpoint has no /extra/data/normalization/{mean,std}; it was not written by `splatkit train`")
        }
        guard mean.shape == [columns], std.shape == [columns] else {
            throw FileError(path, "normalisation has shapes \(mean.shape) and \(std.shape), expected [\(columns)] "
                            + "for the config's representation")
        }
        guard mean.scalars.allSatisfy(\.isFinite), std.scalars.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw FileError(path, "normalisation holds a non-finite mean or a std that is not positive and finite")
        }
        return ColumnNormalization(mean: mean.scalars, standardDeviation: std.scalars)
    }

    /// The training state and the decoded config of the VAE checkpoint at `path`.
    ///
    /// - Throws: `FileError` naming the file: missing, not a checkpoint, not a "gaussvae"
    ///   checkpoint, or a saved config that no longer decodes.
    static func readState(of path: String) throws -> (state: TrainingState, config: VAEConfig) {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such file") }
        let state = try Checkpoint.readTrainingState(from: path)
        guard state.model == modelKind else {
            throw FileError(path, "checkpoint is for model \"\(state.model)\", not a Gaussian-set VAE (\"\(modelKind)\")")
        }
        return (state, try VAEConfig.decode(yaml: state.config, sourceName: "\(path) (saved config)"))
    }

    /// Metadata names of what the training data was: its spatial order, the side of the images
    /// it was fitted to, and the fitting recipe.
    public static let dataOrder = "data.order", dataFittedImageSize = "data.fitted_image_size", dataRecipe = "data.recipe"

    /// The metadata a checkpoint records about its training data (what is known of it).
    static func metadata(for data: VAETrainingData) -> [String: String] {
        var metadata: [String: String] = [:]
        if let order = data.order { metadata[dataOrder] = order.rawValue }
        if let size = data.fittedImageSize { metadata[dataFittedImageSize] = String(size) }
        if let recipe = data.recipe { metadata[dataRecipe] = recipe.description }
        return metadata
    }

    /// The training data a checkpoint's metadata describes, each part validated (nil when absent,
    /// as in checkpoints from before it was recorded).
    static func trainingData(in metadata: [String: String], path: String) throws -> VAETrainedOn {
        let order = try metadata[dataOrder].map { value -> SpatialOrder in
            guard let order = SpatialOrder(rawValue: value) else {
                throw FileError(path, "metadata \(dataOrder) is '\(value)', not one of \(SpatialOrder.allCases.map(\.rawValue))")
            }
            return order
        }
        let size = try metadata[dataFittedImageSize].map { value -> Int in
            guard let size = Int(value), (1...65_536).contains(size) else {
                throw FileError(path, "metadata \(dataFittedImageSize) is '\(value)', not a side of 1...65536 pixels")
            }
            return size
        }
        let recipe = try metadata[dataRecipe].map { try SetRecipe.read($0, in: path, what: "metadata \(dataRecipe)") }
        return VAETrainedOn(order: order, fittedImageSize: size, recipe: recipe)
    }

    /// The extras that carry `normalization`.
    static func extras(for normalization: ColumnNormalization) -> [String: Tensor] {
        let columns = normalization.mean.count
        return [normalizationMean: Tensor(shape: [columns], scalars: normalization.mean),
                normalizationStandardDeviation: Tensor(shape: [columns], scalars: normalization.standardDeviation)]
    }
}

/// Loads a VAE written by `splatkit train` (best.h5, last.h5 or a periodic checkpoint): the
/// model rebuilt from the saved config with the saved parameters and batch-norm statistics,
/// the config, the column normalisation and the representation it applies to, what it was
/// trained on, and with an entropy model its code tables.
///
///     let vae = try loadVAE(from: "runs/demo/best.h5")
///     let rows = vae.representation.encode(imageGSRows)            // N·8 → N·C
///     let input = Tensor(shape: [1, N, C], scalars: vae.normalization.normalize(rows: rows))
///     let mean = vae.model.encode(input, training: false).mean     // (1, L)
///
/// - Throws: `FileError` naming the file: not a checkpoint, not a "gaussvae" checkpoint, a
///   config that no longer decodes, missing or malformed normalisation, tensors that do not
///   fit the config's model.
public func loadVAE(from checkpoint: String) throws
    -> (model: GaussianSetVAE, config: VAEConfig, normalization: ColumnNormalization, representation: SetRepresentation,
        trainedOn: VAETrainedOn, codeTables: LatentCodeTables?) {
    let (state, config) = try VAECheckpoint.readState(of: checkpoint)
    let representation = config.data.representation
    let normalization = try VAECheckpoint.normalization(in: state.extras, columns: representation.columns, path: checkpoint)
    let trainedOn = try VAECheckpoint.trainingData(in: state.metadata, path: checkpoint)
    let model = config.makeModel()
    try Checkpoint.load(from: checkpoint, into: model.store, optimizer: nil, model: VAECheckpoint.modelKind)
    let codeTables = try model.entropyModel.map { try VAECheckpoint.codeTables(in: state.extras, for: $0, path: checkpoint) }
    return (model, config, normalization, representation, trainedOn, codeTables)
}

/// What a checkpoint records of its training data (each nil when unknown: imported sets, or a
/// checkpoint from before SplatKit recorded it).
public struct VAETrainedOn: Equatable, Sendable {
    /// The spatial order of the sets' Gaussians.
    public let order: SpatialOrder?
    /// The side in pixels of the images the sets were fitted to.
    public let fittedImageSize: Int?
    /// How they were made.
    public let recipe: SetRecipe?

    public static let unknown = VAETrainedOn(order: nil, fittedImageSize: nil, recipe: nil)
}

/// Writes the model of the VAE checkpoint at `path` without its training state, for shipping:
/// parameters, buffers, config, metadata and the extras inference reads (normalisation, code
/// tables, made again in the current layout); no optimizer state, schedules or early stopping's
/// best parameters. The copy loads
/// with `loadVAE` to the same model (it cannot resume training). `output` is written atomically.
public func exportVAE(from path: String, to output: String) throws {
    let (state, _) = try VAECheckpoint.readState(of: path)
    let vae = try loadVAE(from: path)
    var kept = TrainingState(model: state.model, config: state.config, step: state.step, epoch: state.epoch)
    kept.metadata = state.metadata
    let dropped = [VAECheckpoint.bestParametersPrefix, VAECheckpoint.codeTablesPrefix, VAECheckpoint.hyperpriorTablesPrefix]
    kept.extras = state.extras.filter { extra in !dropped.contains { extra.key.hasPrefix($0) } }
    // The code tables written in the current layout, made again from the model: the same integers
    // as the checkpoint's (they were made from these parameters), checked.
    if let entropyModel = vae.model.entropyModel {
        let tables = entropyModel.codeTables
        guard tables == vae.codeTables else {
            throw FileError(path, "its code tables differ from those its entropy model gives; the file was altered after training")
        }
        kept.extras.merge(tables.extras) { $1 }
    }
    try Checkpoint.save(to: output, store: vae.model.store, optimizer: nil, state: kept)
}
