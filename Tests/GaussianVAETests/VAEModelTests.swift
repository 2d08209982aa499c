// The Gaussian-set VAEs: exact parameter counts of the shipped GaussVAE configurations, shapes
// and gradients of tiny models, the Keras reshape and flatten orders, determinism (config
// decoding and errors: VAEConfigTests.swift).

import Foundation
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

/// `configs/<name>` of this package (found from this file's path, not the working directory).
func shippedConfig(_ name: String) -> String {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs").appendingPathComponent(name).path
}

/// A narrow 512-Gaussian model in GaussVAE's baseline layout (49,536 parameters, latent 32): the
/// fixture of the shape, order and determinism checks, kept apart from the shipped configs.
func narrowConfig() throws -> VAEConfig {
    try VAEConfig.decode(yaml: narrowConfigYAML, sourceName: "narrow.yaml")
}

private let narrowConfigYAML = """
    model:
      name: "conv1d_narrow"
      architecture: conv1d
      latent_dim: 32
      num_gaussians: 512
      encoder_filters: [8, 16, 32]
      encoder_kernel_sizes: [5, 5, 5]
      encoder_pool_sizes: [2, 2, null]
      encoder_dropout_rates: [0.1, 0.1, 0.1]
      encoder_dense_units: 64
      encoder_dense_dropout: 0.1
      decoder_dense_units: [64, 512]
      decoder_reshape_target: [128, 4]
      decoder_filters: [16, 8, 8]
      decoder_kernel_sizes: [5, 5, 5]
      decoder_upsample_sizes: [2, 2, null]
      decoder_dropout_rates: [0.0, 0.0, 0.0]
    seed: 0
    """

/// Standard-normal data (B, N, 8) from a fixed seed.
private func randomSets(batch: Int, gaussians: Int, seed: UInt64 = 7) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.normal([batch, gaussians, 8], using: &generator)
}

/// Expected counts, Keras-style (batch-norm moving statistics included). Built, never run.
final class VAEParameterCountTests: XCTestCase {
    private func assertCount(_ file: String, total: Int, line: UInt = #line) throws -> ModelSummary {
        assertCount(try VAEConfig.load(from: shippedConfig(file)), total: total, file, line: line)
    }

    private func assertCount(_ config: VAEConfig, total: Int, _ label: String, line: UInt = #line) -> ModelSummary {
        let model = config.makeModel()
        let summary = model.summary()
        XCTAssertEqual(summary.parameterCount, total, label, line: line)
        XCTAssertEqual(summary.trainableCount, model.store.parameterCount, "rows cover every parameter", line: line)
        XCTAssertEqual(summary.nonTrainableCount, model.store.bufferCount, "rows cover every buffer", line: line)
        return summary
    }

    func testConv1D256() throws {
        let summary = try assertCount("conv1d_256d.yaml", total: 1_595_416)
        // Spot checks against Keras's per-layer counts: Conv1D(8 → 32, k5) = 8·5·32 + 32;
        // BatchNormalization(32) = 4·32 (γ, β trainable; moving mean, variance not).
        let conv = summary.rows.first { $0.name == "encoder.blocks.0.conv" }
        XCTAssertEqual(conv?.trainableCount, 1312)
        XCTAssertEqual(conv?.outputShape, [32, 512])
        let norm = summary.rows.first { $0.name == "encoder.blocks.0.bn" }
        XCTAssertEqual(norm?.trainableCount, 64)
        XCTAssertEqual(norm?.nonTrainableCount, 64)
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.reshape_ncl" }?.outputShape, [16, 128])
        XCTAssertEqual(summary.rows.last?.outputShape, [512, 8])
    }

    /// The demo's model: narrow, but with the flatten bridge (32 channels × 128 steps → 64) and
    /// the two linear skips (512 × 8 → 64 and 64 → 512 × 8, with biases) that carry most of its
    /// parameters.
    /// The shipped learned codec's recipe (models/vae_codec.h5): tied skips over the colours of
    /// 1,024 Gaussians, so one 1,024 × 3,072 weight serves both ends.
    func testLearnedCodec() throws {
        let summary = try assertCount("vae_codec.yaml", total: 4_311_320)
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.linear_skip" }?.trainableCount, 1024 * 3072 + 3072)
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.linear_skip" }?.trainableCount, 1024, "its own bias only")
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.set_bias" }?.trainableCount, 1024 * 8)
    }

    func testDemo() throws {
        let summary = try assertCount("demo.yaml", total: 844_288)
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.linear_skip" }?.trainableCount, 4096 * 64 + 64)
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.linear_skip" }?.trainableCount, 64 * 4096 + 4096)
    }

    func testConv1D512() throws {
        _ = try assertCount("conv1d_512d.yaml", total: 1_989_144)
        _ = try assertCount("conv1d_512d_beta0.5.yaml", total: 1_989_144)
    }

    /// `encoder_global_pool: flatten` changes one layer, the bridge's first Dense: it reads
    /// 128 channels × 128 steps (512 Gaussians after two max-pools of 2) = 16,384 features
    /// instead of 128 averaged channels, so encoder.dense.linear goes from 128·512 + 512 = 66,048
    /// to 16,384·512 + 512 = 8,389,120 and the total from 1,989,144 to
    /// 1,989,144 − 66,048 + 8,389,120 = 10,312,216. The shipped conv1d_512d_flatten.yaml is also
    /// canonical (9 columns): Conv1D(9 → 32, k5) has 5·32 = 160 more weights and Conv1D(16 → 9,
    /// k1) 16 + 1 = 17 more, so 10,312,216 + 177 = 10,312,393.
    func testConv1D512Flatten() throws {
        var config = try VAEConfig.load(from: shippedConfig("conv1d_512d.yaml"))
        config.model.encoderGlobalPool = .flatten
        XCTAssertEqual(config.model.encodedWidth, 16_384)
        let summary = assertCount(config, total: 10_312_216, "conv1d_512d.yaml with flatten")
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.blocks.2.flatten" }?.outputShape, [16_384])
        XCTAssertNil(summary.rows.first { $0.name == "encoder.blocks.2.pool" }, "no global average pool")
        let bridge = summary.rows.first { $0.name == "encoder.dense.linear" }
        XCTAssertEqual(bridge?.trainableCount, 16_384 * 512 + 512)
        XCTAssertEqual(bridge?.kind, "Linear(16384 → 512)")

        let shipped = try assertCount("conv1d_512d_flatten.yaml", total: 10_312_393)
        XCTAssertEqual(shipped.trainableCount, 10_305_577)
    }

    /// conv1d_512d_grid.yaml is the flatten model above with 8 columns (log_covariance) and
    /// `decoder_linear_skip`. 8 columns instead of 9 take 5·32 weights from the first encoder
    /// convolution and 16 + 1 from the output convolution: 10,312,393 − 177 = 10,312,216;
    /// Linear(512 → 512·8) adds 512·4,096 + 4,096 = 2,101,248, so 12,413,464. No dropout layer
    /// holds parameters, so the rates change no count.
    func testConv1D512Grid() throws {
        let summary = try assertCount("conv1d_512d_grid.yaml", total: 12_413_464)
        XCTAssertEqual(summary.trainableCount, 12_406_648)
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.linear_skip" }?.trainableCount, 512 * 4096 + 4096)
    }

    /// conv1d_2048d_grid.yaml widens conv1d_512d_grid.yaml's code and dense layers to 2,048:
    /// bridge Linear(16,384 → 2,048) + BN, heads 2 × Linear(2,048 → 2,048), decoder dense
    /// 2 × (Linear(2,048 → 2,048) + BN), skip Linear(2,048 → 4,096), with the same convolutions.
    func testConv1D2048Grid() throws {
        let summary = try assertCount("conv1d_2048d_grid.yaml", total: 58_831_384)
        XCTAssertEqual(summary.trainableCount, 58_818_424)
        XCTAssertEqual(summary.rows.first { $0.name == "decoder.linear_skip" }?.trainableCount, 2048 * 4096 + 4096)
        XCTAssertEqual(summary.rows.first { $0.name == "encoder.dense.linear" }?.trainableCount, 16384 * 2048 + 2048)
    }

    func testResNetConv1D512() throws {
        _ = try assertCount("resnet_conv1d_512d.yaml", total: 12_241_784)
    }

    /// GaussVAE's write-up of this model: "Total parameters: 54,207,063; Encoder parameters:
    /// 12,246,304; Decoder parameters: 41,911,848". Its encoder and decoder figures are
    /// trainable counts (they sum to less than the total and match ours exactly). Its total
    /// is `count_params()` of the Keras VAE subclass, which also counts the training wrapper's
    /// variables: the non-trainable β and seven `keras.metrics.Mean` trackers (total_loss,
    /// recon_loss, kl_loss, loss_xy, loss_scale, loss_rot, loss_feat) of two variables each.
    func testResNetConv1D2048() throws {
        let summary = try assertCount("resnet_conv1d_2048d.yaml", total: 54_207_048)
        XCTAssertEqual(summary.counts(under: "encoder").trainable, 12_246_304)
        XCTAssertEqual(summary.counts(under: "decoder").trainable, 41_911_848)
        let kerasWrapperVariables = 1 + 7 * 2
        XCTAssertEqual(summary.parameterCount + kerasWrapperVariables, 54_207_063)
    }
}

final class VAEForwardTests: XCTestCase {
    /// A scalar that depends on every output: reconstruction error plus GaussVAE's KL term.
    func loss(_ output: VAEOutput, target: Tensor) -> Tensor {
        let reconstruction = (output.reconstruction - target).squared().mean()
        let kl = (1 + output.logVariance - output.mean.squared() - output.logVariance.exp()).mean() * -0.5
        return reconstruction + kl
    }

    func assertEveryParameterHasGradient(_ model: VAEModel, line: UInt = #line) {
        for (name, tensor) in model.store.parameters {
            guard let grad = tensor.grad else {
                XCTFail("\(name) received no gradient", line: line)
                continue
            }
            XCTAssertEqual(grad.shape, tensor.shape, name, line: line)
            XCTAssertTrue(grad.scalars.allSatisfy(\.isFinite), "\(name) has a non-finite gradient", line: line)
        }
        XCTAssertTrue(model.store.buffers.allSatisfy { $0.tensor.grad == nil }, "buffers take no gradient", line: line)
    }

    func testDemoShapesAndGradients() throws {
        let config = try narrowConfig()
        XCTAssertEqual(config.model.latentDim, 32)
        let model = config.makeModel()
        let input = randomSets(batch: 2, gaussians: 512)
        let output = model(input, training: true)
        XCTAssertEqual(output.mean.shape, [2, 32])
        XCTAssertEqual(output.logVariance.shape, [2, 32])
        XCTAssertEqual(output.latent.shape, [2, 32])
        XCTAssertEqual(output.reconstruction.shape, [2, 512, 8])
        loss(output, target: input).backward()
        assertEveryParameterHasGradient(model)

        XCTAssertEqual(model.decode(Tensor.zeros([3, 32]), training: false).shape, [3, 512, 8])
        XCTAssertEqual(model.reconstruct(input).shape, [2, 512, 8])
    }

    func testTinyResNetShapesGradientsAndNames() throws {
        let yaml = """
            model:
              name: resnet_tiny
              latent_dim: 8
              num_gaussians: 64
              encoder_filters: [4, 8, 8]
              encoder_dropout_rates: [0.1, 0.0, 0.0]
              encoder_dense_units: 16
              decoder_dense_units: [16, 128]
              decoder_reshape_target: [16, 8]
              decoder_filters: [8, 4]
              decoder_kernel_sizes: [3, 3]
              decoder_upsample_sizes: [2, 2]
            """
        let config = try VAEConfig.decode(yaml: yaml, sourceName: "tiny")
        XCTAssertEqual(config.model.architecture, .resnetConv1D, "inferred from the name, as GaussVAE's configs need")
        let model: VAEModel = config.makeModel(seed: 1)  // through the protocol, as the trainer will
        let names = Set(model.store.parameters.map(\.name))
        XCTAssertTrue(names.contains("encoder.blocks.0.projection.weight"), "8 → 4 channels: 1×1 projection")
        XCTAssertFalse(names.contains("encoder.blocks.2.projection.weight"), "8 → 8 channels: identity shortcut")
        XCTAssertFalse(names.contains { $0.contains("projection") && $0.contains("bn") }, "projection has no BN")
        XCTAssertTrue(names.isSuperset(of: ["encoder.dense.linear.weight", "encoder.dense.bn.gamma", "encoder.z_mean.weight",
                                            "encoder.z_log_var.bias", "decoder.dense.1.linear.weight",
                                            "decoder.blocks.1.conv2.weight", "decoder.output.weight"]))

        let input = randomSets(batch: 2, gaussians: 64)
        let output = model(input, training: true)
        XCTAssertEqual(output.mean.shape, [2, 8])
        XCTAssertEqual(output.reconstruction.shape, [2, 64, 8])
        loss(output, target: input).backward()
        assertEveryParameterHasGradient(model)
    }

    /// A tiny two-block model over 64 Gaussians (latent 8), with one `extra` model key.
    static func twoBlockYAML(architecture: String = "conv1d", extra: String = "") -> String {
        """
        model:
          architecture: \(architecture)
          latent_dim: 8
          num_gaussians: 64
          encoder_filters: [4, 8]
          encoder_kernel_sizes: [3, 3]
          encoder_pool_sizes: [2, null]
          encoder_dropout_rates: [0.1, 0.1]
          encoder_dense_units: 16
          decoder_dense_units: [16, 128]
          decoder_reshape_target: [32, 4]
          decoder_filters: [4]
          decoder_kernel_sizes: [3]
          decoder_upsample_sizes: [2]
          \(extra)
        """
    }

    /// `encoder_global_pool: flatten` in both architectures: the bridge reads channels × steps
    /// features and the gradient flows back through the flatten to the first convolution.
    func testTinyFlattenShapesAndGradients() throws {
        for architecture in ["conv1d", "resnet_conv1d"] {
            let config = try VAEConfig.decode(yaml: Self.twoBlockYAML(architecture: architecture, extra: "encoder_global_pool: flatten"),
                                              sourceName: "tiny")
            XCTAssertEqual(config.model.encoderGlobalPool, .flatten)
            XCTAssertEqual(config.model.encodedWidth, 8 * 32, "8 channels × 64/2 steps")
            let model = config.makeModel(seed: 1)
            XCTAssertEqual(model.store.parameter(named: "encoder.dense.linear.weight")?.shape, [256, 16], architecture)
            XCTAssertEqual(model.summary().rows.first { $0.name == "encoder.blocks.1.flatten" }?.outputShape, [256])

            let input = randomSets(batch: 2, gaussians: 64)
            let output = model(input, training: true)
            XCTAssertEqual(output.mean.shape, [2, 8], architecture)
            XCTAssertEqual(output.logVariance.shape, [2, 8], architecture)
            XCTAssertEqual(output.reconstruction.shape, [2, 64, 8], architecture)
            loss(output, target: input).backward()
            assertEveryParameterHasGradient(model)
            let firstConvolution = architecture == "conv1d" ? "encoder.blocks.0.conv.weight" : "encoder.blocks.0.conv1.weight"
            let grad = try XCTUnwrap(model.store.parameter(named: firstConvolution)?.grad, architecture)
            XCTAssertTrue(grad.scalars.contains { $0 != 0 }, "\(firstConvolution) has a zero gradient")
        }
    }

    /// `decoder_linear_skip`: one Linear(L → N·P) more (8·64·8 weights + 64·8 biases), whose
    /// output, read row-major as (B, N, P), is added to the convolutional decoder's; every
    /// parameter, the skip's included, receives a gradient.
    func testDecoderLinearSkipAddsAPerGaussianReadOut() throws {
        let plain = try VAEConfig.decode(yaml: Self.twoBlockYAML(), sourceName: "tiny")
        let skipped = try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: "decoder_linear_skip: true"), sourceName: "tiny")
        XCTAssertFalse(plain.model.decoderLinearSkip, "off unless asked for (GaussVAE has none)")
        XCTAssertTrue(skipped.model.decoderLinearSkip)
        let model = skipped.makeModel(seed: 1)
        XCTAssertEqual(model.summary().parameterCount, plain.makeModel(seed: 1).summary().parameterCount + 8 * 64 * 8 + 64 * 8)
        XCTAssertEqual(model.summary().rows.last?.name, "decoder.linear_skip")

        let latent = Tensor.normal([2, 8], using: &model.store.random.generator)
        let skip = try XCTUnwrap(model.decoderSkip)
        let expected = model.decoderStack(latent, training: false) + skip(latent, training: false).reshaped([2, 64, 8])
        XCTAssertEqual(model.decode(latent, training: false).scalars, expected.scalars)
        let row = skip(latent, training: false)
        XCTAssertNotEqual(row.scalars.max(), 0, "the skip is initialised (Glorot), not zero")

        let input = randomSets(batch: 2, gaussians: 64)
        loss(model(input, training: true), target: input).backward()
        assertEveryParameterHasGradient(model)
        XCTAssertNotNil(model.store.parameter(named: "decoder.linear_skip.weight")?.grad)
    }

    /// `encoder_linear_skip`: one Linear(N·P → L) more (64·8·8 weights + 8 biases) from the
    /// flattened input set (element [b, n·P + p]) added to z_mean only; every parameter, the
    /// skip's included, receives a gradient.
    func testEncoderLinearSkipAddsALinearMapToTheMean() throws {
        let plain = try VAEConfig.decode(yaml: Self.twoBlockYAML(), sourceName: "tiny")
        let skipped = try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: "encoder_linear_skip: true"), sourceName: "tiny")
        XCTAssertFalse(plain.model.encoderLinearSkip, "off unless asked for (GaussVAE has none)")
        XCTAssertTrue(skipped.model.encoderLinearSkip)
        let model = skipped.makeModel(seed: 1), reference = plain.makeModel(seed: 1)
        XCTAssertEqual(model.summary().parameterCount, reference.summary().parameterCount + 64 * 8 * 8 + 8)
        XCTAssertEqual(model.summary().rows.first { $0.name == "encoder.linear_skip" }?.outputShape, [8])

        let input = randomSets(batch: 2, gaussians: 64)
        let skip = try XCTUnwrap(model.encoderSkip)
        let features = model.encoderTrunk(input, training: false)
        let (mean, logVariance) = model.encode(input, training: false)
        let expected = model.meanHead(features, training: false) + skip(input.reshaped([2, 64 * 8]), training: false)
        XCTAssertEqual(mean.scalars, expected.scalars)
        XCTAssertEqual(logVariance.scalars, model.logVarianceHead(features, training: false).scalars, "the variance has no skip")
        var flat = [Float](repeating: 0, count: 64 * 8)
        flat[3 * 8 + 5] = 1  // Gaussian 3, column 5 of one set
        let column = skip(Tensor(shape: [1, 64 * 8], scalars: flat), training: false) - skip(Tensor.zeros([1, 64 * 8]), training: false)
        let weight = try XCTUnwrap(model.store.parameter(named: "encoder.linear_skip.weight"))
        let inputsFirst = weight.shape == [64 * 8, 8]
        for l in 0..<8 {
            XCTAssertEqual(column[0, l], inputsFirst ? weight[3 * 8 + 5, l] : weight[l, 3 * 8 + 5], accuracy: 1e-6)
        }

        loss(model(input, training: true), target: input).backward()
        assertEveryParameterHasGradient(model)
    }

    /// Flatten is Keras's channels-last Flatten after a Conv1D: the NCL features [b, c, s] land
    /// at [b, s·C + c], the inverse of the decoder's reshape.
    func testEncoderFlattenMatchesKerasChannelsLastOrder() throws {
        var config = try narrowConfig()
        config.model.encoderGlobalPool = .flatten
        let model = config.makeModel()
        let flatten = try XCTUnwrap(model.encoderTrunk.layers.first { $0 is Sequential })
        let (channels, steps) = (config.model.encoderFilters.last!, config.model.encodedLength)
        let ncl = Tensor(shape: [1, channels, steps], scalars: (0..<(channels * steps)).map(Float.init))
        let flat = flatten(ncl, training: false)
        XCTAssertEqual(flat.shape, [1, steps * channels])
        for s in [0, 1, steps - 1] {
            for c in [0, 1, channels - 1] { XCTAssertEqual(flat[0, s * channels + c], Float(c * steps + s)) }
        }
    }

    /// Keras reshapes (B, S·C) to (B, S, C) channels-last; the NCL decoder must see the same
    /// elements: [b, c, s] = input[b, s·C + c].
    func testDecoderReshapeMatchesKerasChannelsLastOrder() throws {
        let config = try narrowConfig()
        let model = config.makeModel()
        let layers = model.decoderStack.layers
        let reshapeIndex = try XCTUnwrap(layers.firstIndex { $0 is Reshape })
        let (steps, channels) = (config.model.decoderReshapeTarget[0], config.model.decoderReshapeTarget[1])
        let flat = Tensor(shape: [1, steps * channels], scalars: (0..<(steps * channels)).map(Float.init))
        let ncl = layers[reshapeIndex + 1](layers[reshapeIndex](flat, training: false), training: false)
        XCTAssertEqual(ncl.shape, [1, channels, steps])
        for s in [0, 1, steps - 1] {
            for c in [0, channels - 1] { XCTAssertEqual(ncl[0, c, s], Float(s * channels + c)) }
        }
    }

    /// The model reads (B, N, 8) rows: its first operation puts the 8 parameters on the channel axis.
    func testInputIsSwappedToChannels() throws {
        let model = try narrowConfig().makeModel()
        let input = randomSets(batch: 1, gaussians: 512)
        let swapped = model.encoderTrunk.layers[0](input, training: false)
        XCTAssertEqual(swapped.shape, [1, 8, 512])
        XCTAssertEqual(swapped[0, 5, 100], input[0, 100, 5])
    }

    /// The canonical representation has 9 columns per Gaussian; the model follows `data.representation`.
    func testCanonicalRepresentationHasNineColumns() throws {
        var config = try narrowConfig()
        config.data.representation = .canonical
        let model = config.makeModel()
        XCTAssertEqual(model.columnCount, 9)
        var generator = RandomGenerator(seed: 2)
        let output = model(Tensor.normal([2, 512, 9], using: &generator), training: false)
        XCTAssertEqual(output.reconstruction.shape, [2, 512, 9])
        XCTAssertEqual(model.store.parameter(named: "encoder.blocks.0.conv.weight")?.shape, [8, 9, 5])
    }

    func testSampleIsReparameterised() throws {
        let model = try narrowConfig().makeModel()
        let mean = Tensor(shape: [1, 3], scalars: [0, 1, -1])
        let logVariance = Tensor(shape: [1, 3], scalars: [0, 2 * Float(log(2.0)), -40])
        var generator = RandomGenerator(seed: 11)
        let z = model.sample(mean: mean, logVariance: logVariance, generator: &generator)
        var reference = RandomGenerator(seed: 11)
        let noise = (0..<3).map { _ in reference.nextNormal() }
        XCTAssertEqual(z[0, 0], noise[0], accuracy: 1e-6)
        XCTAssertEqual(z[0, 1], 1 + 2 * noise[1], accuracy: 1e-5, "σ = exp(½·log 4) = 2")
        XCTAssertEqual(z[0, 2], -1, accuracy: 1e-6, "σ ≈ 0")
    }
}

final class VAEDeterminismTests: XCTestCase {
    func testSameSeedSameInitialParameters() throws {
        let config = try narrowConfig()
        let first = config.makeModel(seed: 5), second = config.makeModel(seed: 5), other = config.makeModel(seed: 6)
        XCTAssertEqual(first.store.parameters.map(\.name), second.store.parameters.map(\.name))
        for ((name, a), (_, b)) in zip(first.store.parameters, second.store.parameters) {
            XCTAssertEqual(a.scalars, b.scalars, name)
        }
        let weight = "encoder.blocks.0.conv.weight"
        XCTAssertNotEqual(first.store.parameter(named: weight)?.scalars, other.store.parameter(named: weight)?.scalars)
        XCTAssertEqual(config.makeModel().store.parameter(named: weight)?.scalars,
                       config.makeModel(seed: 0).store.parameter(named: weight)?.scalars, "the file's seed is 0")
    }

    func testSameSeedSameTrainingForward() throws {
        let config = try narrowConfig()
        let input = randomSets(batch: 2, gaussians: 512)
        let first = config.makeModel(seed: 3), second = config.makeModel(seed: 3)
        let a = first(input, training: true), b = second(input, training: true)
        XCTAssertEqual(a.reconstruction.scalars, b.reconstruction.scalars, "dropout masks and ε from the seeded stream")
    }
}
