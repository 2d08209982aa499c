// VAE training end to end on a tiny synthetic HDF5 dataset (24 sets of 16 Gaussians, no
// fitting) and a tiny config: the loss falls; checkpoints, metrics.csv and TensorBoard logs
// are written; a run stopped after an epoch, mid-epoch or just before validation and then
// resumed ends with exactly the parameters of an uninterrupted run; bad inputs fail with
// messages that say what to do; `loadVAE` restores the model the inference commands use.

import Foundation
import GaussianFitting
@testable import GaussianData
import GaussianRasterizer
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

final class VAETrainerTests: VAETrainerTestCase {
    // MARK: - A run

    /// `augment_flips` trains on mirrored grid sets, deterministically; on sets whose order says
    /// nothing about position it is a clear error.
    func testFlipAugmentation() throws {
        let grid = try makeDataset(named: "grid.h5", recipe: .fit(.imagegsGrid))
        var parameters: [[String: [Float]]] = []
        for run in 0..<2 {
            let trainer = try makeTrainer(yaml: tinyYAML(epochs: 2, augmentFlips: true), dataset: grid, output: path("flips\(run)"))
            let result = try trainer.run()
            XCTAssertTrue(result.finished)
            XCTAssert(result.history.allSatisfy { $0.train.total.isFinite })
            parameters.append(tensors(trainer.model.store))
        }
        XCTAssertEqual(parameters[0], parameters[1], "same seed, same flips, same parameters")
        let plainRun = try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: grid, output: path("noflips"))
        _ = try plainRun.run()
        XCTAssertNotEqual(tensors(plainRun.model.store), parameters[0], "the flips change what is trained on")
        XCTAssertThrowsError(try makeTrainer(yaml: tinyYAML(augmentFlips: true), dataset: try makeDataset(), output: path("bad"))) {
            XCTAssert("\($0)".contains("augment_flips"), "\($0)")
        }
    }

    func testLossFallsAndEveryOutputIsWritten() throws {
        let dataset = try makeDataset()
        let output = path("run")
        let trainer = try makeTrainer(yaml: tinyYAML(epochs: 6), dataset: dataset, output: output)
        var progress: [VAETrainingProgress] = []
        let result = try trainer.run(onEvent: { event in
            if case .progress(let p) = event { progress.append(p) }
        })
        XCTAssertTrue(result.finished)
        XCTAssertEqual(result.history.count, 6)
        let first = result.history[0], last = result.history[5]
        XCTAssertLessThan(last.train.reconstruction, 0.8 * first.train.reconstruction,
                          "reconstruction \(result.history.map(\.train.reconstruction))")
        XCTAssertLessThan(last.validation.reconstruction, first.validation.reconstruction,
                          "validation \(result.history.map(\.validation.reconstruction))")
        XCTAssertEqual(first.beta, 0.005)  // max_beta · 1/2 in the first warm-up epoch
        XCTAssertEqual(last.beta, 0.01)
        XCTAssertTrue(first.improved, "the first epoch always sets the best")
        XCTAssertEqual(progress.map(\.batch).prefix(1), [5], "18 sets in batches of 4: 5 batches, reported at the last")
        XCTAssertEqual(progress.first?.batchesPerEpoch, 5)

        let contents = Set(try FileManager.default.contentsOfDirectory(atPath: output))
        XCTAssertTrue(contents.isSuperset(of: ["config.yaml", "last.h5", "best.h5", "metrics.csv", "logs",
                                               "epoch_0002.h5", "epoch_0004.h5", "epoch_0006.h5"]), "\(contents)")
        XCTAssertEqual(try String(contentsOfFile: (output as NSString).appendingPathComponent("config.yaml"), encoding: .utf8),
                       tinyYAML(epochs: 6))
        let events = try FileManager.default.contentsOfDirectory(atPath: (output as NSString).appendingPathComponent("logs"))
        XCTAssertEqual(events.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1)

        let csv = try String(contentsOfFile: (output as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(csv.count, 7, csv.joined(separator: "\n"))
        XCTAssertEqual(csv[0], "epoch,train_total,train_reconstruction,train_kl,train_xy,train_scale,train_rotation,train_colour,"
                       + "val_total,val_reconstruction,val_kl,val_xy,val_scale,val_rotation,val_colour,beta,learning_rate,seconds")
        XCTAssertTrue(csv[1].hasPrefix("1,"))
        XCTAssertEqual(csv[6].split(separator: ",").count, 18)

        // The contract with the inference commands.
        let state = try Checkpoint.readTrainingState(from: (output as NSString).appendingPathComponent("best.h5"))
        XCTAssertEqual(state.model, "gaussvae")
        XCTAssertEqual(state.config, tinyYAML(epochs: 6))
        let statistics = try GaussianDatasetFile(opening: dataset).statistics()
        let mean = try XCTUnwrap(state.extras["data.normalization.mean"]), std = try XCTUnwrap(state.extras["data.normalization.std"])
        XCTAssertEqual(mean.shape, [8])
        for column in 0..<8 {
            XCTAssertEqual(mean.scalars[column], statistics.mean[column], accuracy: 1e-6 * max(1, abs(statistics.mean[column])))
            XCTAssertEqual(std.scalars[column], statistics.std[column], accuracy: 1e-5 * statistics.std[column])
        }
        // At the end the model holds the best epoch's parameters, which best.h5 holds too.
        let best = try loadVAE(from: (output as NSString).appendingPathComponent("best.h5"))
        XCTAssertEqual(tensors(best.model.store), tensors(trainer.model.store))
        // What the data was, for inference: its order, fitted size and recipe (issue 24).
        let settings = try GaussianDatasetFile(opening: dataset).settings
        XCTAssertEqual(best.trainedOn, VAETrainedOn(order: settings.order,
                                                   fittedImageSize: settings.imageSize, recipe: settings.recipe))
        XCTAssertNotNil(best.trainedOn.order)
        assertFileError(try VAECheckpoint.trainingData(in: ["data.order": "zigzag"], path: "x.h5"), mentions: ["x.h5", "zigzag"])
        assertFileError(try VAECheckpoint.trainingData(in: ["data.fitted_image_size": "-3"], path: "x.h5"), mentions: ["x.h5", "-3"])
        assertFileError(try VAECheckpoint.trainingData(in: ["data.recipe": "imagegs-turbo"], path: "x.h5"), mentions: ["x.h5", "imagegs-turbo"])
        XCTAssertEqual(try VAECheckpoint.trainingData(in: [:], path: "x.h5"), .unknown)
    }

    // MARK: - Resuming bit for bit


    func testResumeAfterAnEpochIsBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(), stop: { $0.epoch == 1 && $0.batch == 0 }, expectedPosition: (1, 0))
    }

    func testResumeMidEpochIsBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(), stop: { $0.epoch == 1 && $0.batch == 2 }, expectedPosition: (1, 2))
    }

    /// With mirrored sets the flips of the remaining batches are the straight run's too.
    func testResumeWithFlipAugmentationIsBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(augmentFlips: true), stop: { $0.epoch == 1 && $0.batch == 2 },
                                expectedPosition: (1, 2), recipe: .fit(.imagegsGrid))
    }

    /// Stopped after an epoch's last batch, before its validation: resuming validates first.
    func testResumeBeforeValidationIsBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(), stop: { $0.epoch == 0 && $0.batch == 5 }, expectedPosition: (0, 5))
    }

    /// The canonical representation with the render loss: the rendering path resumes exactly too.
    func testCanonicalWithRenderLossResumesBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(representation: "canonical", render: 0.5, epochs: 2),
                                stop: { $0.epoch == 0 && $0.batch == 3 }, expectedPosition: (0, 3))
        let csv = try String(contentsOfFile: (path("straight") as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("epoch,train_total,train_reconstruction,train_kl,train_xy,train_scale,train_rotation,"
                                    + "train_colour,train_render,val_total"), csv)
        let best = try loadVAE(from: (path("straight") as NSString).appendingPathComponent("best.h5"))
        XCTAssertEqual(best.representation, .canonical)
        XCTAssertEqual(best.normalization.mean.count, 9)
    }

    func testSameSeedSameRunOtherSeedOtherRun() throws {
        let dataset = try makeDataset()
        let a = try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: path("a"))
        let b = try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: path("b"))
        let seeded = try VAEConfig.overriding(yaml: tinyYAML(epochs: 1), sourceName: "tiny.yaml", seed: 4)
        let c = try makeTrainer(yaml: seeded.text, dataset: dataset, output: path("c"))
        try a.run()
        try b.run()
        try c.run()
        XCTAssertEqual(tensors(a.model.store), tensors(b.model.store))
        XCTAssertNotEqual(tensors(a.model.store), tensors(c.model.store))
    }

    // MARK: - Errors

    func testBadDatasetsAndConfigsFailClearly() throws {
        assertFileError(try VAETrainingData.open(dataset: path("missing.h5")), mentions: ["missing.h5", "no such dataset",
                                                                                          "splatkit dataset build"])
        let incomplete = try makeDataset(named: "incomplete.h5", finish: false)
        assertFileError(try VAETrainingData.open(dataset: incomplete), mentions: ["incomplete", "24 sets", "rerun"])
        let noValidation = try makeDataset(named: "novalidation.h5", splits: [1, 0, 0])
        assertFileError(try VAETrainingData.open(dataset: noValidation), mentions: ["validation split is empty", "--splits"])
        let oneSet = try makeDataset(named: "oneset.h5", sets: 3, splits: [0.34, 0.66, 0])
        assertFileError(try makeTrainer(yaml: tinyYAML(), dataset: oneSet, output: path("x")),
                        mentions: ["oneset.h5", "train split holds a single set", "at least 2 sets"])

        let dataset = try makeDataset()
        let wider = tinyYAML(gaussians: 32, reshape: "[16, 2]")
        assertFileError(try makeTrainer(yaml: wider, dataset: dataset, output: path("x")),
                        mentions: ["16 Gaussians", "num_gaussians is 32", "--gaussians 32"])

        let config = try VAEConfig.decode(yaml: tinyYAML(), sourceName: "tiny.yaml")
        assertFileError(try VAETrainingData.datasetPath(commandLine: nil, config: config), mentions: ["--data"])
        var npz = config
        npz.data.trainDir = "data/delaunay/npz/train"
        assertFileError(try VAETrainingData.datasetPath(commandLine: nil, config: npz), mentions: ["import-npz", "--data"])
        npz.data.trainDir = "data/sets.h5"
        XCTAssertEqual(try VAETrainingData.datasetPath(commandLine: nil, config: npz), "data/sets.h5")
        XCTAssertEqual(try VAETrainingData.datasetPath(commandLine: "x.h5", config: npz), "x.h5")

        assertFileError(try VAEConfig.decode(yaml: tinyYAML().replacingOccurrences(of: "  max_beta: 0.01", with:
                                                                                       "  max_beta: 0.01\n  gradient_clip_norm: -1"),
                                             sourceName: "clip.yaml"),
                        mentions: ["clip.yaml", "training.gradient_clip_norm", "must be positive"])

        // Resuming with another config, or onto another dataset, is refused before anything loads.
        let trainer = try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: path("run"))
        try trainer.run()
        let last = (path("run") as NSString).appendingPathComponent("last.h5")
        assertFileError(try makeTrainer(yaml: tinyYAML(render: 1), dataset: dataset, output: path("run"), resumingFrom: last),
                        mentions: ["last.h5", "another configuration", "--epochs"])
        let other = try makeDataset(named: "other.h5", sets: 28)
        assertFileError(try makeTrainer(yaml: tinyYAML(), dataset: other, output: path("run"), resumingFrom: last),
                        mentions: ["train_count is 18", "other.h5 has 21", "--data"])
        // Extending a finished run is allowed: --epochs is the one key that may change.
        let longer = try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: dataset, output: path("run"), resumingFrom: last)
        XCTAssertEqual(longer.epoch, 1)
        XCTAssertEqual(try longer.run().history.map(\.epoch), [2])
    }

    /// A validation set holding NaN stops training with a clear error at the epoch it is met;
    /// last.h5 and best.h5 keep the last finite epoch (issue 23).
    func testNonFiniteValidationLossStopsTrainingAndKeepsTheLastFiniteCheckpoint() throws {
        let dataset = try makeDataset()
        try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: path("run")).run()
        let last = path("run/last.h5"), best = path("run/best.h5")
        let (lastBytes, bestBytes) = (try Data(contentsOf: URL(fileURLWithPath: last)), try Data(contentsOf: URL(fileURLWithPath: best)))

        let file = try GaussianDatasetFile(opening: dataset, forWriting: true)
        let item = try file.splitIndices().validation[0]
        try file.close()
        let raw = try HDF5File(opening: dataset, mode: .readWrite)
        try raw.overwriteRows([Float](repeating: .nan, count: 16 * 8), in: "gaussians", startingAt: item)
        try raw.close()

        let resumed = try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: dataset, output: path("run"), resumingFrom: last)
        XCTAssertThrowsError(try resumed.run()) { error in
            XCTAssertEqual("\(error)", "the validation loss became nan at epoch 2 (a validation set holds NaN or infinite values, "
                           + "or the model diverged); no checkpoint of epoch 2 was written, \(last) keeps the last finite one")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: last)), lastBytes)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: best)), bestBytes)
        XCTAssertEqual(try Checkpoint.readTrainingState(from: last).epoch, 1)
    }

    // MARK: - The inference commands' loader

    func testLoadVAERoundTrip() throws {
        let dataset = try makeDataset()
        let trainer = try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: dataset, output: path("run"))
        try trainer.run()
        let loaded = try loadVAE(from: (path("run") as NSString).appendingPathComponent("best.h5"))
        XCTAssertEqual(loaded.config, trainer.config)
        XCTAssertEqual(loaded.representation, .plain)
        XCTAssertEqual(loaded.normalization, trainer.normalization)

        let rows = try DatasetSplit(GaussianDatasetFile(opening: dataset), split: "validation").read(indices: [0, 1, 2])
        let sets = Tensor(shape: [3, 16, 8], scalars: rows)
        let input = loaded.normalization.modelInput(sets, representation: loaded.representation)
        let before = withoutGradients { trainer.model.encode(input, training: false).mean }
        let after = withoutGradients { loaded.model.encode(input, training: false).mean }
        XCTAssertEqual(after.shape, [3, 4])
        XCTAssertEqual(after.scalars, before.scalars, "μ of the same input, bit for bit")

        assertFileError(try loadVAE(from: path("nothing.h5")), mentions: ["nothing.h5", "no such file"])
        let store = ParameterStore(seed: 0)
        _ = store.root.parameter("w", shape: [2], initializer: .zeros)
        let foreign = path("foreign.h5")
        try Checkpoint.save(to: foreign, store: store, optimizer: nil, state: TrainingState(model: "unet"))
        assertFileError(try loadVAE(from: foreign), mentions: ["foreign.h5", "\"unet\"", "gaussvae"])
    }

    /// A flatten encoder trains and saves `encoder_global_pool` with its config; `loadVAE`
    /// rebuilds its wider bridge (8 channels × 8 steps = 64 features) and resuming with the
    /// average pool is refused, as any other change of model.
    func testFlattenRunSavesAndLoads() throws {
        let dataset = try makeDataset()
        let trainer = try makeTrainer(yaml: tinyYAML(epochs: 1, globalPool: "flatten"), dataset: dataset, output: path("run"))
        try trainer.run()
        let last = (path("run") as NSString).appendingPathComponent("last.h5")
        let loaded = try loadVAE(from: last)
        XCTAssertEqual(loaded.config, trainer.config)
        XCTAssertEqual(loaded.config.model.encoderGlobalPool, .flatten)
        XCTAssertEqual(loaded.model.store.parameter(named: "encoder.dense.linear.weight")?.shape, [64, 8])
        XCTAssertEqual(tensors(loaded.model.store), tensors(trainer.model.store))
        assertFileError(try makeTrainer(yaml: tinyYAML(epochs: 2), dataset: dataset, output: path("run"), resumingFrom: last),
                        mentions: ["another configuration"])
    }

    // MARK: - Pieces

    func testCommandLineOverridesEditTheYAML() throws {
        let yaml = tinyYAML()
        let edited = try VAEConfig.overriding(yaml: yaml, sourceName: "tiny.yaml", seed: 9, epochs: 7)
        XCTAssertEqual(edited.config.seed, 9)
        XCTAssertEqual(edited.config.training.epochs, 7)
        XCTAssertTrue(edited.text.contains("# tiny test config"), "comments are kept")
        XCTAssertTrue(edited.text.contains("\n  epochs: 7\n"), edited.text)
        XCTAssertTrue(edited.text.contains("\nseed: 9\n"), edited.text)
        XCTAssertEqual(try VAEConfig.decode(yaml: edited.text, sourceName: "edited"), edited.config)
        XCTAssertEqual(try VAEConfig.overriding(yaml: yaml, sourceName: "tiny.yaml").text, yaml, "no overrides, no change")

        // Keys the file leaves out are added; a flow-style group falls back to the full config as JSON.
        let bare = "model: {name: tiny_flow, latent_dim: 4, num_gaussians: 16, encoder_filters: [4], encoder_pool_sizes: [null], "
            + "encoder_kernel_sizes: [3], encoder_dropout_rates: [0.0], decoder_kernel_sizes: [3], decoder_dropout_rates: [0.0], "
            + "decoder_dense_units: [32], decoder_reshape_target: [16, 2], decoder_filters: [4], decoder_upsample_sizes: [null]}\n"
            + "training: {batch_size: 2}\n"
        let flow = try VAEConfig.overriding(yaml: bare, sourceName: "flow.yaml", seed: 2, epochs: 5)
        XCTAssertEqual(flow.config.seed, 2)
        XCTAssertEqual(flow.config.training.epochs, 5)
        XCTAssertEqual(flow.config.training.batchSize, 2)
        XCTAssertEqual(try VAEConfig.decode(yaml: flow.text, sourceName: "flow"), flow.config)
    }

    /// The render loss's screen features of canonical and log-covariance rows are those of the
    /// rows decoded to Image-GS rows (atan2 and all), computed without atan2.
    func testScreenFeaturesMatchDecodedRows() {
        var generator = RandomGenerator(seed: 8)
        var rows: [Float] = []
        for _ in 0..<12 {
            rows += [generator.nextUniform(), generator.nextUniform(), 0.05 + generator.nextUniform(), 0.05 + generator.nextUniform(),
                     10 * generator.nextUniform() - 5, generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        rows[2 * 8 + 3] = rows[2 * 8 + 2]  // one round Gaussian (d = 0 in log_covariance)
        for representation in [SetRepresentation.canonical, .logCovariance] {
            let encoded = representation.encode(rows)
            let direct = screenFeatures(Tensor(shape: [2, 6, representation.columns], scalars: encoded),
                                        representation: representation, size: 64)
            let decoded = imageGSScreenFeatures(Tensor(shape: [2, 6, 8], scalars: representation.decode(encoded)),
                                                width: 64, height: 64)
            XCTAssertEqual(direct.shape, [2, 6, 8])
            for (a, b) in zip(direct.scalars, decoded.scalars) {
                XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "\(representation)")
            }
        }
    }

    /// Finite differences through the screen features of canonical and log-covariance rows (the
    /// render loss's path from the decoder's output to the rasterizer), elongated and round
    /// Gaussians alike.
    func testScreenFeaturesGradients() {
        var generator = RandomGenerator(seed: 9)
        for representation in [SetRepresentation.canonical, .logCovariance] {
            var rows: [Float] = []
            for g in 0..<6 {
                let sx = 0.1 + 0.3 * generator.nextUniform()
                let sy = g == 0 ? sx : 0.1 + 0.3 * generator.nextUniform()
                rows += [generator.nextUniform(), generator.nextUniform(), sx, sy, 6 * generator.nextUniform() - 3,
                         generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
            }
            var encoded = representation.encode(rows)
            if representation == .logCovariance { (encoded[3], encoded[4]) = (0.01, -0.02) }  // nearly round
            let input = Tensor(shape: [1, 6, representation.columns], scalars: encoded, requiresGrad: true)
            let report = GradientCheck.run([input], epsilon: 1e-3) {
                screenFeatures($0[0], representation: representation, size: 16)
            }
            XCTAssertGreaterThan(report.checked, 0)
            XCTAssertLessThanOrEqual(report.maximumError, 1e-2, "\(representation): \(report)")
        }
    }
}
