import Foundation
import NeuralNetwork
import SplatIO
import TensorCore

// Inpainting checkpoints (the generic layout of docs/FORMATS.md, "Checkpoints"):
//   root attribute `model`    "gs-inpainting"
//   root attribute `config`   the full YAML text of the InpaintingConfig the run used
//   /extra/schedules/progress step, steps, best_hole_psnr, best_step
// last.h5 and best.h5 also hold AdamW's state; model.h5 (what ships in models/) holds only the
// parameters, so it is a third of the size.
//
// The model `splatkit inpaint` uses without --model is models/inpaint_cpu.h5 of the repository,
// found beside the executable (…/.build/<config>/splatkit → …/models), then in the current folder.

public enum InpaintingCheckpoint {
    /// The checkpoint's root `model` attribute.
    public static let modelKind = "gs-inpainting"
    /// The shipped model's path inside the repository.
    public static let shippedModelPath = "models/inpaint_cpu.h5"

    /// Where the shipped model is looked for, in order (SplatIO's `shippedFileCandidates`).
    public static func shippedModelCandidates(executable: String = CommandLine.arguments[0]) -> [String] {
        shippedFileCandidates(shippedModelPath, executable: executable)
    }
}

/// The training state of an inpainting checkpoint, checked to be one.
func readInpaintingState(from path: String) throws -> TrainingState {
    guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such checkpoint") }
    let state = try Checkpoint.readTrainingState(from: path)
    guard state.model == InpaintingCheckpoint.modelKind else {
        throw FileError(path, "checkpoint is for model \"\(state.model)\", not an inpainting model (\"\(InpaintingCheckpoint.modelKind)\")")
    }
    return state
}

/// An inpainting model written by `splatkit train-inpaint` (model.h5, best.h5 or last.h5): the
/// network rebuilt from the saved config with the saved parameters.
///
/// - Throws: `FileError` naming the file: missing, not a checkpoint, another model's checkpoint,
///   a config that no longer decodes, tensors that do not fit the config.
public func loadInpaintingModel(from path: String) throws -> (model: InpaintingModel, config: InpaintingConfig, store: ParameterStore) {
    let state = try readInpaintingState(from: path)
    let config = try InpaintingConfig.decode(yaml: state.config, sourceName: "\(path) (saved config)")
    let store = ParameterStore(seed: config.initializationSeed)
    let model = InpaintingModel(config: config.model, store: store)
    try Checkpoint.load(from: path, into: store, optimizer: nil, model: InpaintingCheckpoint.modelKind)
    return (model, config, store)
}

/// A trained inpainting model ready to run, with the image features it reads.
public struct ResolvedInpaintingModel {
    public let model: InpaintingModel
    public let config: InpaintingConfig
    /// The model's parameters.
    public let store: ParameterStore
    /// The checkpoint it was loaded from.
    public let path: String
    /// The precomputed features table, for a model with semantic_source: precomputed.
    public let features: ImageFeatures?
}

extension InpaintingCheckpoint {
    /// The model at `path`, else the shipped one (`shippedModelCandidates`), with the features
    /// file it needs: required for a model with semantic_source: precomputed (and checked
    /// against its feature size), refused for one that learns its own.
    public static func resolve(model path: String?, features: String? = nil) throws -> ResolvedInpaintingModel {
        let modelPath: String
        if let path {
            modelPath = path
        } else {
            modelPath = try locateShippedFile(shippedModelPath, instead: "pass a model file")
        }
        let loaded = try loadInpaintingModel(from: modelPath)
        let settings = loaded.config.model
        switch (settings.semanticSource, features) {
        case (.precomputed, nil):
            throw FileError(modelPath, "reads precomputed image features (semantic_source: precomputed); give a features file")
        case (.learned, .some(let file)):
            throw FileError(file, "features given, but \(modelPath) computes its own global features (semantic_source: learned)")
        case (.precomputed, .some(let file)):
            let table = try ImageFeatures(contentsOf: file)
            try table.check(dimensions: settings.semanticFeatures)
            return ResolvedInpaintingModel(model: loaded.model, config: loaded.config, store: loaded.store, path: modelPath, features: table)
        case (.learned, nil):
            return ResolvedInpaintingModel(model: loaded.model, config: loaded.config, store: loaded.store, path: modelPath, features: nil)
        }
    }
}
