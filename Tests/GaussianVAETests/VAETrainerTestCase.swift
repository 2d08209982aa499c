// Shared fixtures of the VAE training tests: a temporary folder per test, a tiny conv1d config
// (16 Gaussians, latent 4) in YAML with switches, a tiny structured HDF5 dataset, trainers
// built from them (new, resumed or warm-started) and an assertion on error messages.

import Foundation
import GaussianFitting
@testable import GaussianData
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

class VAETrainerTestCase: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("vae-trainer-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    /// A conv1d VAE for 16 Gaussians: latent 4, widths 4–8, dropout (so resuming must restore
    /// the random stream), a plateau patience of 1 (so its state matters), batch 4.
    /// `globalPool` nil leaves `encoder_global_pool` out; `entropyModel` adds `entropy_model`
    /// with `rate_lambda` λ.
    func tinyYAML(representation: String = "plain", render: Double = 0, epochs: Int = 3, gaussians: Int = 16,
                          reshape: String = "[8, 4]", dense: String = "[8, 32]", globalPool: String? = nil,
                          augmentFlips: Bool = false, entropyModel: String? = nil, rateLambda: Double = 100) -> String {
        """
        # tiny test config
        model:
          name: tiny
          architecture: conv1d
          latent_dim: 4
          num_gaussians: \(gaussians)
          encoder_filters: [4, 8]
          encoder_kernel_sizes: [3, 3]
          encoder_pool_sizes: [2, null]\(globalPool.map { "\n  encoder_global_pool: \($0)" } ?? "")
          encoder_dropout_rates: [0.1, 0.1]
          encoder_dense_units: 8
          encoder_dense_dropout: 0.1
          decoder_dense_units: \(dense)
          decoder_reshape_target: \(reshape)
          decoder_filters: [8, 4]
          decoder_kernel_sizes: [3, 3]
          decoder_upsample_sizes: [2, null]\(entropyModel.map { "\n  entropy_model: \($0)" } ?? "")
        training:
          batch_size: 4
          epochs: \(epochs)   # a comment that stays
          learning_rate: 0.01
          beta_warmup_epochs: 2
          max_beta: 0.01\(augmentFlips ? "\n  augment_flips: true" : "")
        data:
          representation: \(representation)
        callbacks:
          checkpoint_every: 2
          early_stopping_patience: 5
          reduce_lr_patience: 1
          reduce_lr_factor: 0.5
          min_lr: 0.001
        loss_weights:
          render_loss_weight: \(render)\(entropyModel == nil ? "" : "\n  rate_lambda: \(rateLambda)")
        seed: 3

        """
    }

    /// 24 structured sets of 16 Gaussians: a 4 × 4 grid shifted, scaled and coloured by three
    /// per-set numbers, plus a little noise. Splits 18 train / 6 validation / 0 test. Not fitted
    /// by SplatKit: recorded as imported sets unless `recipe` says otherwise.
    func makeDataset(named name: String = "tiny.h5", sets: Int = 24, setSize: Int = 16,
                             splits: [Double] = [0.75, 0.25, 0], finish: Bool = true, recipe: SetRecipe = .gaussVAEImport) throws -> String {
        let file = try GaussianDatasetFile(
            creating: path(name),
            settings: DatasetSettings(setSize: setSize, imageSize: 64, steps: 1, recipe: recipe, order: .none, seed: 5,
                                      splits: splits))
        var generator = RandomGenerator(seed: 17)
        for index in 0..<sets {
            let (a, b, c) = (generator.nextUniform(), generator.nextUniform(), generator.nextUniform())
            var rows: [Float] = []
            for g in 0..<setSize {
                let noise = { 0.02 * (generator.nextUniform() - 0.5) }
                rows += [(Float(g % 4) + 0.5) / 4 + 0.1 * a + noise(), (Float(g / 4 % 4) + 0.5) / 4 + 0.1 * b + noise(),
                         0.2 + 0.2 * c + noise(), 0.3 + 0.1 * a + noise(), 3 * c - 1.5 + noise(), a + noise(), b + noise(),
                         c + noise()]
            }
            try file.append(DatasetItem(name: "set\(index)", gaussians: rows, psnr: 30, ssim: 0.9, sourceWidth: 64, sourceHeight: 64),
                            at: index)
        }
        if finish { try file.finish() }
        try file.close()
        return path(name)
    }

    /// A trainer for `yaml` on `dataset`: new, resumed from a checkpoint, or a new run
    /// initialised from a checkpoint's parameters.
    func makeTrainer(yaml: String, dataset: String, output: String, resumingFrom checkpoint: String? = nil,
                     initializingFrom start: String? = nil) throws -> VAETrainer {
        let config = try VAEConfig.decode(yaml: yaml, sourceName: "tiny.yaml")
        let data = try VAETrainingData.open(dataset: dataset)
        if let start {
            return try VAETrainer(initializingFrom: start, config: config, configText: yaml, data: data, outputDirectory: output)
        }
        if let checkpoint {
            return try VAETrainer(resumingFrom: checkpoint, config: config, configText: yaml, data: data, outputDirectory: output)
        }
        return try VAETrainer(config: config, configText: yaml, data: data, outputDirectory: output)
    }

    /// Every parameter's and buffer's scalars, by name.
    func tensors(_ store: ParameterStore) -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (name, tensor) in store.parameters + store.buffers { result[name] = tensor.scalars }
        return result
    }

    func assertFileError(_ body: @autoclosure () throws -> Any, mentions fragments: [String],
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = "\(error)"
            for fragment in fragments { XCTAssertTrue(text.contains(fragment), "'\(fragment)' not in: \(text)", file: file, line: line) }
        }
    }

    /// Runs `yaml` straight through, and again stopped where `stop` says and resumed in a new
    /// trainer from last.h5: both end with identical parameters, buffers, last.h5 and metrics.
    func assertResumeIsExact(yaml: String, stop: @escaping (VAETrainer) -> Bool, expectedPosition: (epoch: Int, batch: Int),
                                     recipe: SetRecipe = .gaussVAEImport, file: StaticString = #filePath, line: UInt = #line) throws {
        let dataset = try makeDataset(recipe: recipe)
        let straight = try makeTrainer(yaml: yaml, dataset: dataset, output: path("straight"))
        let straightResult = try straight.run()

        let output = path("stopped-\(expectedPosition.epoch)-\(expectedPosition.batch)")
        let first = try makeTrainer(yaml: yaml, dataset: dataset, output: output)
        let interrupted = try first.run(shouldStop: { [unowned first] in stop(first) })
        XCTAssertFalse(interrupted.finished, file: file, line: line)
        XCTAssertEqual(interrupted.epoch, expectedPosition.epoch, file: file, line: line)
        XCTAssertEqual(interrupted.batch, expectedPosition.batch, file: file, line: line)
        let last = (output as NSString).appendingPathComponent("last.h5")
        let second = try makeTrainer(yaml: yaml, dataset: dataset, output: output, resumingFrom: last)
        XCTAssertEqual(second.epoch, expectedPosition.epoch, file: file, line: line)
        XCTAssertEqual(second.batch, expectedPosition.batch, file: file, line: line)
        let resumedResult = try second.run()
        XCTAssertTrue(resumedResult.finished, file: file, line: line)

        XCTAssertEqual(tensors(second.model.store), tensors(straight.model.store), "final (best-restored) parameters",
                       file: file, line: line)
        let straightLast = try loadVAE(from: (path("straight") as NSString).appendingPathComponent("last.h5"))
        let resumedLast = try loadVAE(from: last)
        XCTAssertEqual(tensors(resumedLast.model.store), tensors(straightLast.model.store), "last.h5", file: file, line: line)
        XCTAssertEqual(second.optimizer.learningRate, straight.optimizer.learningRate, file: file, line: line)
        XCTAssertEqual(second.optimizer.step, straight.optimizer.step, file: file, line: line)
        let ended = interrupted.history + resumedResult.history
        XCTAssertEqual(ended.map(\.train), straightResult.history.map(\.train), "training means, even of a split epoch",
                       file: file, line: line)
        XCTAssertEqual(ended.map(\.validation), straightResult.history.map(\.validation), file: file, line: line)
        let csv = try String(contentsOfFile: (output as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + straightResult.history.count, "header and one row per epoch, none twice",
                       file: file, line: line)
    }
}
