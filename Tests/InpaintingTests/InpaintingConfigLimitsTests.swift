// InpaintingConfig: sizes are limited before anything is allocated (issue 23, items 8–9, for
// the inpainting network): every width, depth, patch and crop in its range, the pixels of a
// step bounded, and the model's parameters counted on a counting store.

import Foundation
import Inpainting
import NeuralNetwork
import SplatIO
import XCTest

final class InpaintingConfigLimitsTests: XCTestCase {
    private func assertRefused(_ yaml: String, mentions fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try InpaintingConfig.decode(yaml: yaml, sourceName: "bad.yaml"), line: line) { error in
            let reason = (error as? FileError)?.reason ?? "not a FileError: \(error)"
            for fragment in fragments { XCTAssertTrue(reason.contains(fragment), "'\(fragment)' not in: \(reason)", line: line) }
        }
    }

    func testHugeSizesAreRefusedWithTheKey() {
        for key in ["base_channels", "feature_channels", "patch_embedding_channels", "mlp_hidden", "semantic_features", "global_channels"] {
            assertRefused("model:\n  \(key): 99999999999\n", mentions: ["model.\(key)", "must be in 1...65536"])
            assertRefused("model:\n  \(key): \(Int64.max)\n", mentions: ["model.\(key)"])
        }
        assertRefused("model:\n  residual_blocks: \(Int64.max)\n", mentions: ["model.residual_blocks", "0...256"])
        assertRefused("model:\n  patch_size: \(Int64.max)\n", mentions: ["model.patch_size", "1...1024"])
        assertRefused("model:\n  cholesky_values: 1000\n", mentions: ["model.cholesky_values", "1...32"])
        assertRefused("training:\n  batch_size: \(Int64.max)\n", mentions: ["training.batch_size", "1...4096"])
        assertRefused("training:\n  crop_size: 100000\n", mentions: ["training.crop_size", "16...4096"])
        assertRefused("training:\n  validation_size: 100000\n", mentions: ["training.validation_size", "16...4096"])
        assertRefused("training:\n  batch_size: 4096\n  crop_size: 4096\n", mentions: ["training.batch_size", "pixels a step"])
    }

    func testResidualOverFillNeedsThePushPullFill() throws {
        assertRefused("model:\n  residual_over_fill: true\n", mentions: ["model.residual_over_fill", "needs hole_fill: push_pull"])
        let config = try InpaintingConfig.decode(yaml: "model:\n  hole_fill: push_pull\n  residual_over_fill: true\n", sourceName: "ok.yaml")
        XCTAssertTrue(config.model.residualOverFill)
    }

    func testTheLearningRateScheduleIsCheckedAndFollowsTheSteps() throws {
        assertRefused("training:\n  learning_rate_schedule: linear\n", mentions: ["learning_rate_schedule"])
        assertRefused("training:\n  steps: 100\n  warmup_steps: 100\n", mentions: ["training.warmup_steps", "[0, 100)"])
        assertRefused("training:\n  minimum_learning_rate: 0.1\n", mentions: ["training.minimum_learning_rate"])
        let training = try InpaintingConfig.decode(yaml: """
            training:
              steps: 1000
              learning_rate: 0.001
              learning_rate_schedule: cosine
              warmup_steps: 100
              minimum_learning_rate: 0.0001
            """, sourceName: "ok.yaml").training
        let rates = training.learningRates(totalSteps: 1000)
        XCTAssertEqual(rates.learningRate(at: 0), 0)
        XCTAssertEqual(rates.learningRate(at: 50), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(rates.learningRate(at: 100), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(rates.learningRate(at: 550), 5.5e-4, accuracy: 1e-9)  // half-way down the cosine
        XCTAssertEqual(rates.learningRate(at: 1000), 1e-4, accuracy: 1e-9)
        // A longer --steps stretches the decay; the constant default ignores the steps.
        XCTAssertEqual(training.learningRates(totalSteps: 1900).learningRate(at: 1000), 5.5e-4, accuracy: 1e-9)
        XCTAssertEqual(InpaintingTrainingConfig().learningRates(totalSteps: 10).learningRate(at: 9), 2e-4)
    }

    func testTheLossImageIsARenderOrTheComposite() throws {
        assertRefused("training:\n  loss_image: holes\n", mentions: ["loss_image"])
        XCTAssertEqual(InpaintingTrainingConfig().lossImage, .render)
        let config = try InpaintingConfig.decode(yaml: "training:\n  loss_image: composite\n", sourceName: "ok.yaml")
        XCTAssertEqual(config.training.lossImage, .composite)
    }

    func testTooManyParametersAreCountedNotAllocated() {
        // Every width in range; the residual blocks' 3×3 convolutions alone are 16 × 2 × 9 × 4096².
        assertRefused("model:\n  base_channels: 512\n  residual_blocks: 16\n  group_norm_groups: 4\n",
                      mentions: ["'model'", "describes a model of", "at most 268,435,456"])
    }

    func testTheCountingModelCountsWhatTheModelAllocates() throws {
        for config in [InpaintingModelConfig(), InpaintingModelConfig.paper] {
            let counting = ParameterStore(allocating: false), real = ParameterStore()
            _ = InpaintingModel(config: config, store: counting)
            _ = InpaintingModel(config: config, store: real)
            XCTAssertEqual(counting.parameterCount, real.parameters.reduce(0) { $0 + $1.tensor.count })
            XCTAssertEqual(counting.bufferCount, real.buffers.reduce(0) { $0 + $1.tensor.count })
            XCTAssertEqual(counting.parameters.map(\.name), real.parameters.map(\.name))
        }
    }
}
