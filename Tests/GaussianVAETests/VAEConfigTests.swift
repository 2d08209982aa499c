// VAE configs: GaussVAE's keys decode to GaussVAE's values, errors name the file, key and line,
// and sizes are limited before anything is allocated (issue 23, items 8–10): every size in its
// range, products checked for overflow, and the parameters counted by a counting store.

import Foundation
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

final class VAEConfigTests: XCTestCase {
    private func assertFileError(_ yaml: String, mentions fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try VAEConfig.decode(yaml: yaml, sourceName: "bad.yaml"), line: line) { error in
            guard let error = error as? FileError else { return XCTFail("not a FileError: \(error)", line: line) }
            XCTAssertEqual(error.path, "bad.yaml", line: line)
            for fragment in fragments {
                XCTAssertTrue(error.reason.contains(fragment), "'\(fragment)' not in: \(error.reason)", line: line)
            }
        }
    }

    func testUnknownKeyNamesKeyAndFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vae-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("typo.yaml").path
        try "model:\n  latent_dim: 32\n  latent_dimm: 64\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try VAEConfig.load(from: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path), text)
            XCTAssertTrue(text.contains("unknown key 'model.latent_dimm' (line 3)"), text)
            XCTAssertTrue(text.contains("latent_dim"), "lists the known keys: \(text)")
        }
        assertFileError("training:\n  batch_size: 8\n  warmup: 3\n", mentions: ["'training.warmup'"])
        assertFileError("training:\n  batch_size: 1\n", mentions: ["training.batch_size", "at least 2", "batch norm", "got 1"])
    }

    func testWrongTypeNamesKey() {
        assertFileError("model:\n  latent_dim: many\n", mentions: ["model.latent_dim", "line 2", "expected Int", "'many'"])
        assertFileError("model:\n  encoder_filters: 32\n", mentions: ["model.encoder_filters", "a list"])
        assertFileError("model:\n  architecture: transformer\n", mentions: ["model.architecture", "transformer"])
        assertFileError("data:\n  representation: polar\n", mentions: ["data.representation", "polar"])
        assertFileError("model:\n  encoder_global_pool: max\n",
                        mentions: ["model.encoder_global_pool", "line 2", "must be average or flatten", "'max'"])
    }

    func testInconsistentArchitectureNamesKey() {
        assertFileError("model:\n  encoder_filters: [8, 16]\n  encoder_pool_sizes: [2, 2, null]\n",
                        mentions: ["model.encoder_pool_sizes", "line 3", "has 3 entries", "encoder_filters has 2"])
        assertFileError("model:\n  encoder_filters: [8, 16]\n  dropout_rates: [0.1]\n",
                        mentions: ["model.dropout_rates", "has 1 entries"])
        assertFileError("model:\n  decoder_dense_units: [64, 500]\n", mentions: ["model.decoder_reshape_target", "500"])
        assertFileError("model:\n  decoder_upsample_sizes: [2, 2, 2]\n",
                        mentions: ["model.decoder_upsample_sizes", "1024", "num_gaussians = 512"])
        assertFileError("model:\n  encoder_kernel_sizes: [5, 4, 5]\n", mentions: ["model.encoder_kernel_sizes", "odd"])
        assertFileError("model:\n  encoder_pool_sizes: [2, null, 2]\n", mentions: ["model.encoder_pool_sizes", "last"])
        assertFileError("callbacks:\n  reduce_lr_factor: 2\n", mentions: ["callbacks.reduce_lr_factor"])
        assertFileError("loss_weights:\n  rot_weight: -1\n", mentions: ["loss_weights.rot_weight"])
    }

    /// GaussVAE's own conv1d_base.yaml leaves kernels, pools, dense sizes and the reshape to its
    /// builder; our defaults reproduce them, so its file builds the same model as ours.
    func testGaussVAEDefaultsReproduceItsBuilder() throws {
        let gaussVAEModelGroup = """
            model:
              name: "conv1d"
              latent_dim: 256
              encoder_filters: [32, 64, 128]
              decoder_filters: [64, 32, 16]
              dropout_rates: [0.1, 0.15, 0.2]
            """
        let decoded = try VAEConfig.decode(yaml: gaussVAEModelGroup, sourceName: "conv1d_base.yaml").model
        XCTAssertEqual(decoded, try VAEConfig.load(from: shippedConfig("conv1d_256d.yaml")).model)
        XCTAssertEqual(VAEModelConfig(), decoded, "an absent model group is GaussVAE's default model")
        XCTAssertEqual(decoded.encoderGlobalPool, .average, "GaussVAE's global average pool")
        let explicit = try VAEConfig.decode(yaml: gaussVAEModelGroup + "\n  encoder_global_pool: average",
                                            sourceName: "explicit")
        XCTAssertEqual(explicit.model, decoded, "average is the default: the same model, bit for bit")
    }

    func testShippedConfigsDecodeWithGaussVAEValues() throws {
        let beta = try VAEConfig.load(from: shippedConfig("conv1d_512d_beta0.5.yaml"))
        XCTAssertEqual(beta.training.maxBeta, 0.5)
        XCTAssertEqual(beta.training.betaWarmupEpochs, 50)
        XCTAssertEqual(beta.training.batchSize, 32)
        XCTAssertEqual(beta.callbacks.earlyStoppingPatience, 15)
        XCTAssertEqual(beta.model.encoderDropoutRates, [0.1, 0.15, 0.2], "from GaussVAE's dropout_rates")
        XCTAssertEqual(beta.seed, 42)

        let large = try VAEConfig.load(from: shippedConfig("resnet_conv1d_2048d.yaml"))
        XCTAssertEqual(large.lossWeights.xy, 0.6)
        XCTAssertEqual(large.lossWeights.rotation, 3)
        XCTAssertEqual(large.lossWeights.render, 0)
        XCTAssertEqual(large.lossWeights.groupWeights, [0.6, 1, 3, 3])
        XCTAssertEqual(large.callbacks.minLR, 1e-7)
        XCTAssertEqual(large.data.representation, .plain)
        XCTAssertEqual(large.model.encoderDropoutRates, [0.05, 0.05, 0.02, 0.02, 0.01])
    }

    /// Encoding writes every resolved key; JSON is YAML, so it decodes back to the same value.
    func testEncodedConfigDecodesToItself() throws {
        let config = try VAEConfig.load(from: shippedConfig("resnet_conv1d_512d.yaml"))
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertTrue(json.contains("\"encoder_pool_sizes\":[2,2,2,2,null]"), json)
        XCTAssertEqual(try VAEConfig.decode(yaml: json, sourceName: "encoded"), config)

        let flatten = try VAEConfig.load(from: shippedConfig("conv1d_512d_flatten.yaml"))
        XCTAssertEqual(flatten.model.encoderGlobalPool, .flatten)
        XCTAssertEqual(flatten.data.representation, .canonical)
        let flattenJSON = String(decoding: try JSONEncoder().encode(flatten), as: UTF8.self)
        XCTAssertTrue(flattenJSON.contains("\"encoder_global_pool\":\"flatten\""), flattenJSON)
        XCTAssertEqual(try VAEConfig.decode(yaml: flattenJSON, sourceName: "encoded"), flatten)
    }

    func testSummaryTableAndRows() throws {
        let model = try narrowConfig().makeModel()
        let summary = model.summary()
        XCTAssertEqual(Set(summary.rows.map(\.name)).count, summary.rows.count, "row names are unique")
        XCTAssertEqual(summary.rows.first?.name, "encoder.input")
        XCTAssertEqual(summary.rows.first?.outputShape, [8, 512])
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.blocks.2.pool" }?.outputShape, [32])
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.z_log_var" }?.outputShape, [32])
        let text = summary.description
        XCTAssertTrue(text.contains("Total parameters:         \(groupedDigits(summary.parameterCount))"), text)
        XCTAssertTrue(text.contains("(B, 512, 8)"), text)
        XCTAssertEqual(groupedDigits(54_207_048), "54,207,048")
        XCTAssertEqual(groupedDigits(999), "999")
    }

    // MARK: - Limits (issue 23, items 8–10)

    func testHugeSizesAreRefusedWithTheKey() throws {
        assertFileError("model:\n  latent_dim: 99999999999\n", mentions: ["model.latent_dim", "must be in 1...65536", "99999999999"])
        let huge = Int64.max
        assertFileError("model:\n  num_gaussians: \(huge)\n", mentions: ["model.num_gaussians", "1...1048576"])
        assertFileError("model:\n  encoder_filters: [32, 64, \(huge)]\n", mentions: ["model.encoder_filters"])
        assertFileError("model:\n  encoder_dense_units: \(huge)\n", mentions: ["model.encoder_dense_units"])
        assertFileError("model:\n  encoder_kernel_sizes: [5, 5, \(huge)]\n", mentions: ["model.encoder_kernel_sizes", "at most 1025"])
        assertFileError("model:\n  decoder_dense_units: [512, \(huge)]\n", mentions: ["model.decoder_dense_units"])
        assertFileError("model:\n  decoder_reshape_target: [\(huge), \(huge)]\n", mentions: ["model.decoder_reshape_target"])
        // Each factor in range, their product past Int.max: still a clear error.
        assertFileError("model:\n  decoder_upsample_sizes: [1048576, 1048576, 1048576]\n",
                        mentions: ["model.decoder_upsample_sizes", "more than \(Int.max)"])
    }

    func testZeroPoolSizesAreAnErrorNotADivisionByZero() throws {
        assertFileError("model:\n  encoder_filters: [8, 16]\n  encoder_pool_sizes: [0, 0]\n",
                        mentions: ["model.encoder_pool_sizes", "null (the global pool) last", "got [0, 0]"])
        assertFileError("model:\n  encoder_filters: [8, 16]\n  encoder_pool_sizes: [0, null]\n",
                        mentions: ["model.encoder_pool_sizes", "got [0, null]"])
    }

    func testTooManyParametersAreCountedNotAllocated() throws {
        // Every size in range, but z_mean alone is 65536 × 65536 weights.
        assertFileError("model:\n  encoder_dense_units: 65536\n  latent_dim: 65536\n",
                        mentions: ["model", "describes a model of", "at most 268,435,456"])
    }

    /// A counting store gives the allocating model's summary exactly, and holds no scalars.
    func testCountingModelsSummariseExactlyWithoutAllocating() throws {
        let folder = URL(fileURLWithPath: shippedConfig(""))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("inpaint") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 8)
        for name in names {
            let config = try VAEConfig.load(from: shippedConfig(name))
            let counted = config.makeModel(allocating: false), built = config.makeModel()
            XCTAssertEqual(counted.summary().rows, built.summary().rows, name)
            XCTAssertEqual(counted.store.parameters.map(\.name), built.store.parameters.map(\.name), name)
            XCTAssertEqual(counted.store.parameterCount, built.store.parameters.reduce(0) { $0 + $1.tensor.count }, name)
            XCTAssertEqual(counted.store.bufferCount, built.store.buffers.reduce(0) { $0 + $1.tensor.count }, name)
            XCTAssertEqual((counted.store.parameters + counted.store.buffers).reduce(0) { $0 + $1.tensor.count }, 0, name)
        }
    }
}
