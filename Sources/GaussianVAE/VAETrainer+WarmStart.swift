import Foundation
import NeuralNetwork
import SplatIO

// Warm starts (`splatkit train --init-from CKPT`): a new run whose model starts from another
// run's trained parameters and batch-norm statistics, under a config that may change anything
// that leaves the parameters' names and shapes alone: loss weights (say, a stronger render
// loss with the per-group weights turned down, to fine-tune a model for its renders), β,
// the learning rate and its schedule, dropout, epochs, the seed, the dataset.
//
// What carries over and what starts afresh:
//   from the checkpoint   parameters and buffers (names and shapes checked by `Checkpoint.load`),
//                         the column normalisation (the model's inputs and outputs are in its
//                         units; the representation must therefore be the checkpoint's)
//   afresh, from config   Adam's moments and step, the learning-rate and early-stopping
//                         schedules, epoch 0 and β's warm-up, the random stream (seeded by the
//                         new config's seed), the data order
// config.yaml in the new run begins with a comment naming the checkpoint. The new run is an
// ordinary run from then on: its own last.h5 resumes it bit for bit.

extension VAETrainer {
    /// A new run whose parameters and batch-norm statistics start from the VAE checkpoint at
    /// `path` (see the file comment). The optimizer, schedules and random stream start afresh.
    ///
    /// - Throws: `FileError` naming `path` when it is not a VAE checkpoint, was trained in
    ///   another representation, or holds tensors whose names or shapes differ from `config`'s
    ///   model; the errors of `init(config:…)` for the data.
    public convenience init(initializingFrom path: String, config: VAEConfig, configText: String, data: VAETrainingData,
                            outputDirectory: String, prefetch: Bool = true) throws {
        let (state, saved) = try VAECheckpoint.readState(of: path)
        let representation = config.data.representation
        guard saved.data.representation == representation else {
            throw FileError(path, "was trained in the \(saved.data.representation.rawValue) representation, the config asks for "
                            + "\(representation.rawValue); a warm start keeps the checkpoint's representation "
                            + "(set data.representation: \(saved.data.representation.rawValue))")
        }
        let normalization = try VAECheckpoint.normalization(in: state.extras, columns: representation.columns, path: path)
        try self.init(config: config, configText: "# parameters initialised from \(path) (splatkit train --init-from)\n" + configText,
                      data: data, outputDirectory: outputDirectory, normalization: normalization, prefetch: prefetch)
        let stream = model.store.random.generator  // seeded by this run's config, not the checkpoint's position
        try Checkpoint.load(from: path, into: model.store, optimizer: nil, model: VAECheckpoint.modelKind)
        model.store.random.generator = stream
    }
}
