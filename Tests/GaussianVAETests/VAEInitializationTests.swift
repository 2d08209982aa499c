// How a VAE run's parameters start besides the seeded initialisers. Warm starts (`splatkit
// train --init-from`): a new run takes a checkpoint's parameters, batch-norm statistics and
// normalisation, and starts its optimizer, schedules and epochs afresh under a config with other
// loss weights; checkpoints it cannot use are refused with the file named and the reason.
// `training.init_skip_bias_to_mean_set`: the decoder's linear skip starts at the mean set.

import Foundation
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

final class VAEInitializationTests: VAETrainerTestCase {
    /// A finished two-epoch run without the render loss; returns its best.h5.
    private func trainedCheckpoint(dataset: String) throws -> String {
        try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: dataset, output: path("first")).run()
        return (path("first") as NSString).appendingPathComponent("best.h5")
    }

    func testWarmStartTakesTheModelAndStartsTheRunAfresh() throws {
        let dataset = try makeDataset()
        let checkpoint = try trainedCheckpoint(dataset: dataset)
        let trained = try loadVAE(from: checkpoint)

        // Fine-tune with the render loss on a dataset with other sets (its own normalisation
        // would differ): the model's units stay the checkpoint's.
        let other = try makeDataset(named: "other.h5", sets: 28)
        let yaml = tinyYAML(render: 1, epochs: 2)
        let tuned = try makeTrainer(yaml: yaml, dataset: other, output: path("tuned"), initializingFrom: checkpoint)
        XCTAssertEqual(tensors(tuned.model.store), tensors(trained.model.store), "parameters and batch-norm statistics")
        XCTAssertEqual(tuned.normalization, trained.normalization)
        XCTAssertNotEqual(try VAETrainingData.open(dataset: other).fittedNormalization(representation: .plain),
                          trained.normalization, "the test needs a dataset whose own normalisation differs")
        XCTAssertEqual(tuned.optimizer.step, 0)
        XCTAssertEqual(tuned.optimizer.learningRate, 0.01)
        XCTAssertEqual(tuned.epoch, 0)
        XCTAssertEqual(tuned.batch, 0)
        XCTAssertEqual(tuned.batchesPerEpoch, 5, "21 train sets in batches of 4: the last batch of one is left out")

        let history = try tuned.run().history
        XCTAssertEqual(history.map(\.epoch), [1, 2])
        XCTAssertEqual(history[0].beta, 0.005, accuracy: 1e-9, "β's warm-up starts again: max_beta · 1/2")
        XCTAssertGreaterThan(history[0].validation.render, 0, "the new config's render term is trained")
        let savedConfig = try String(contentsOfFile: (path("tuned") as NSString).appendingPathComponent("config.yaml"),
                                     encoding: .utf8)
        XCTAssertTrue(savedConfig.hasPrefix("# parameters initialised from \(checkpoint)"), savedConfig)
        XCTAssertEqual(try VAEConfig.decode(yaml: savedConfig, sourceName: "config.yaml"), tuned.config)
        XCTAssertNotEqual(tensors(tuned.model.store), tensors(trained.model.store), "fine-tuning moved the parameters")
    }

    /// The same command and seed give the same fine-tuned parameters.
    func testWarmStartIsDeterministic() throws {
        let dataset = try makeDataset()
        let checkpoint = try trainedCheckpoint(dataset: dataset)
        let runs = try ["a", "b"].map { name -> [String: [Float]] in
            let trainer = try makeTrainer(yaml: tinyYAML(render: 1, epochs: 1), dataset: dataset, output: path(name),
                                          initializingFrom: checkpoint)
            try trainer.run()
            return tensors(trainer.model.store)
        }
        XCTAssertEqual(runs[0], runs[1])
    }

    func testUnusableCheckpointsAreRefused() throws {
        let dataset = try makeDataset()
        let checkpoint = try trainedCheckpoint(dataset: dataset)
        assertFileError(try makeTrainer(yaml: tinyYAML(representation: "canonical"), dataset: dataset, output: path("x"),
                                        initializingFrom: checkpoint),
                        mentions: ["best.h5", "plain representation", "canonical", "data.representation: plain"])
        assertFileError(try makeTrainer(yaml: tinyYAML(reshape: "[8, 8]", dense: "[8, 64]"), dataset: dataset, output: path("x"),
                                        initializingFrom: checkpoint),
                        mentions: ["best.h5", "in checkpoint", "in model"])
        assertFileError(try makeTrainer(yaml: tinyYAML(), dataset: dataset, output: path("x"), initializingFrom: path("none.h5")),
                        mentions: ["none.h5", "no such file"])
        let store = ParameterStore(seed: 0)
        _ = store.root.parameter("w", shape: [2], initializer: .zeros)
        let foreign = path("foreign.h5")
        try Checkpoint.save(to: foreign, store: store, optimizer: nil, state: TrainingState(model: "unet"))
        assertFileError(try makeTrainer(yaml: tinyYAML(), dataset: dataset, output: path("x"), initializingFrom: foreign),
                        mentions: ["foreign.h5", "\"unet\"", "gaussvae"])
    }

    // MARK: - The mean set

    /// The tiny config with the decoder's linear skip, its bias started at the mean set or not.
    private func skipYAML(meanSet: Bool) -> String {
        tinyYAML()
            .replacingOccurrences(of: "  decoder_upsample_sizes: [2, null]\n",
                                  with: "  decoder_upsample_sizes: [2, null]\n  decoder_linear_skip: true\n")
            .replacingOccurrences(of: "  max_beta: 0.01\n", with: "  max_beta: 0.01\n  init_skip_bias_to_mean_set: \(meanSet)\n")
    }

    func testSkipBiasStartsAtTheNormalisedMeanSet() throws {
        let dataset = try makeDataset()
        let trainer = try makeTrainer(yaml: skipYAML(meanSet: true), dataset: dataset, output: path("run"))
        let train = try VAETrainingData.open(dataset: dataset).train
        let rows = try train.read(indices: Array(0..<train.count))  // (18 sets · 16 Gaussians · 8), plain columns
        let normalized = trainer.normalization.normalize(rows: rows)
        let setLength = 16 * 8
        for offset in [0, 1, 7, 8 * 5 + 2, setLength - 1] {  // a few (Gaussian, column) places
            let values = stride(from: offset, to: normalized.count, by: setLength).map { Double(normalized[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            XCTAssertEqual(Double(trainer.model.decoderSkip!.bias!.scalars[offset]), mean, accuracy: 1e-5, "place \(offset)")
        }
        let plain = try makeTrainer(yaml: skipYAML(meanSet: false), dataset: dataset, output: path("plain"))
        XCTAssertEqual(plain.model.decoderSkip!.bias!.scalars, [Float](repeating: 0, count: setLength), "the default: zeros")
        XCTAssertEqual(tensors(plain.model.store).filter { !$0.key.contains("linear_skip.bias") },
                       tensors(trainer.model.store).filter { !$0.key.contains("linear_skip.bias") }, "nothing else changes")

        let colours = try makeTrainer(yaml: skipYAML(meanSet: true).replacingOccurrences(
            of: "  decoder_linear_skip: true\n", with: "  decoder_linear_skip: true\n  linear_skip_columns: [5, 6, 7]\n"),
                                      dataset: dataset, output: path("colours"))
        XCTAssertEqual(colours.model.decoderSetBias?.scalars, trainer.model.decoderSkip!.bias!.scalars,
                       "with linear_skip_columns the set bias starts at the mean set")
        XCTAssertEqual(colours.model.decoderSkip!.bias!.scalars, [Float](repeating: 0, count: 16 * 3), "and the skip's at zero")

        assertFileError(try VAEConfig.decode(yaml: tinyYAML().replacingOccurrences(
                            of: "  max_beta: 0.01\n", with: "  max_beta: 0.01\n  init_skip_bias_to_mean_set: true\n"),
                                             sourceName: "noskip.yaml"),
                        mentions: ["noskip.yaml", "init_skip_bias_to_mean_set", "decoder_linear_skip: true"])
    }
}
