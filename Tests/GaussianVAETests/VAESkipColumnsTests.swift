// `linear_skip_columns`: linear skips that read and write only some columns (a fixed layout's
// colours), with a learned (N, P) set bias for the decoder; checked against the same maps built
// by hand from the layers, and the configuration errors.

import Foundation
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

extension VAEForwardTests {
    private static let colourSkips = "linear_skip_columns: [5, 6, 7]"

    private func skipColumnsConfig() throws -> VAEConfig {
        let yaml = Self.twoBlockYAML(extra: "encoder_linear_skip: true\n  decoder_linear_skip: true\n  \(Self.colourSkips)")
        return try VAEConfig.decode(yaml: yaml, sourceName: "tiny")
    }

    /// Parameter counts: the skips are N·K wide instead of N·P, and the set bias adds N·P.
    func testSkipColumnsShrinkTheSkipsAndAddASetBias() throws {
        let whole = try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: "encoder_linear_skip: true\n  decoder_linear_skip: true"),
                                         sourceName: "tiny")
        let config = try skipColumnsConfig()
        XCTAssertNil(whole.model.linearSkipColumns, "every column unless listed")
        XCTAssertEqual(config.model.linearSkipColumns, [5, 6, 7])
        let model = config.makeModel(seed: 1)
        XCTAssertEqual(model.skipColumns, [5, 6, 7])
        XCTAssertEqual(whole.makeModel(seed: 1).skipColumns, Array(0..<8))
        XCTAssertEqual(model.store.parameter(named: "encoder.linear_skip.weight")?.scalars.count, 64 * 3 * 8)
        XCTAssertEqual(model.store.parameter(named: "decoder.linear_skip.bias")?.shape, [64 * 3])
        XCTAssertEqual(model.store.parameter(named: "decoder.set_bias")?.shape, [64, 8])
        XCTAssertNil(whole.makeModel(seed: 1).store.parameter(named: "decoder.set_bias"), "a whole skip has its own per-place bias")
        let skipWeights = (64 * 8 * 8 + 8 * 64 * 8 + 64 * 8) - (64 * 3 * 8 + 8 * 64 * 3 + 64 * 3)
        XCTAssertEqual(model.summary().parameterCount, whole.makeModel(seed: 1).summary().parameterCount - skipWeights + 64 * 8)
    }

    /// The encoder's skip sees only columns 5–7 (changing another column moves only the blocks'
    /// part of μ); the decoder's output is the blocks' + the skip in columns 5–7 + the set bias.
    func testSkipColumnsReadAndWriteOnlyTheirColumns() throws {
        let model = try skipColumnsConfig().makeModel(seed: 1)
        let setBias = try XCTUnwrap(model.store.parameter(named: "decoder.set_bias"))
        var generator = RandomGenerator(seed: 3)
        setBias.scalars = Tensor.normal([64, 8], using: &generator).scalars  // a non-zero bias, to see it added

        let input = Tensor.normal([2, 64, 8], using: &generator)
        let encoderSkip = try XCTUnwrap(model.encoderSkip)
        var colours = [Float]()  // (B, N, 3) by hand
        for row in 0..<(2 * 64) { colours += (5..<8).map { input.scalars[row * 8 + $0] } }
        let features = model.encoderTrunk(input, training: false)
        let expectedMean = model.meanHead(features, training: false)
            + encoderSkip(Tensor(shape: [2, 64 * 3], scalars: colours), training: false)
        XCTAssertEqual(model.encode(input, training: false).mean.scalars, expectedMean.scalars)

        let latent = Tensor.normal([2, 8], using: &generator)
        let blocks = model.decoderStack(latent, training: false)  // (2, 64, 8)
        let skip = try XCTUnwrap(model.decoderSkip)(latent, training: false)  // (2, 64·3)
        let decoded = model.decode(latent, training: false)
        for b in 0..<2 {
            for n in 0..<64 {
                for p in 0..<8 {
                    let skipped = p >= 5 ? skip[b, n * 3 + p - 5] : 0
                    XCTAssertEqual(decoded[b, n, p], blocks[b, n, p] + skipped + setBias[n, p], accuracy: 1e-5, "[\(b), \(n), \(p)]")
                }
            }
        }

        loss(model(input, training: true), target: input).backward()
        assertEveryParameterHasGradient(model)
    }

    /// `tie_linear_skips`: the encoder's skip is x·Wᵀ + b with W the decoder skip's weight (one
    /// matrix fewer), so its gradient reaches W from both ends; it needs both skips.
    func testTiedSkipsShareTheDecodersWeight() throws {
        let skips = "encoder_linear_skip: true\n  decoder_linear_skip: true\n  \(Self.colourSkips)"
        let untied = try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: skips), sourceName: "tiny")
        let tied = try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: skips + "\n  tie_linear_skips: true"), sourceName: "tiny")
        XCTAssertFalse(untied.model.tieLinearSkips)
        let model = tied.makeModel(seed: 1)
        XCTAssertEqual(model.summary().parameterCount, untied.makeModel(seed: 1).summary().parameterCount - 64 * 3 * 8)
        XCTAssertNil(model.store.parameter(named: "encoder.linear_skip.weight"))
        let bias = try XCTUnwrap(model.store.parameter(named: "encoder.linear_skip.bias"))
        var generator = RandomGenerator(seed: 5)
        bias.scalars = Tensor.normal([8], using: &generator).scalars

        let input = Tensor.normal([2, 64, 8], using: &generator)
        let weight = try XCTUnwrap(model.decoderSkip).weight  // (8, 64·3)
        let features = model.encoderTrunk(input, training: false)
        let mean = model.encode(input, training: false).mean
        let head = model.meanHead(features, training: false)
        for b in 0..<2 {
            for l in 0..<8 {
                var expected = head[b, l] + bias[l]
                for n in 0..<64 { for k in 0..<3 { expected += input[b, n, 5 + k] * weight[l, n * 3 + k] } }
                XCTAssertEqual(mean[b, l], expected, accuracy: 1e-4, "[\(b), \(l)]")
            }
        }

        let encoded = model.encode(input, training: true).mean.sum()  // the encoder's path alone
        encoded.backward()
        XCTAssertTrue(try XCTUnwrap(weight.grad).scalars.contains { $0 != 0 }, "the encoder's use of W reaches it")
        XCTAssertThrowsError(try VAEConfig.decode(yaml: Self.twoBlockYAML(extra: "decoder_linear_skip: true\n  tie_linear_skips: true"),
                                                  sourceName: "tied.yaml")) { error in
            XCTAssertTrue("\(error)".contains("tie_linear_skips") && "\(error)".contains("encoder_linear_skip: true"), "\(error)")
        }
    }

    /// The columns must be ascending, unrepeated and columns of the data's representation.
    func testSkipColumnsErrorsNameTheKey() throws {
        for (columns, fragment) in [("[7, 5]", "ascending"), ("[5, 5]", "ascending"), ("[]", "ascending"),
                                    ("[-1]", "column indices"), ("[8]", "8-column")] {
            let yaml = Self.twoBlockYAML(extra: "decoder_linear_skip: true\n  linear_skip_columns: \(columns)")
            XCTAssertThrowsError(try VAEConfig.decode(yaml: yaml, sourceName: "skips.yaml"), columns) { error in
                let message = "\(error)"
                for expected in ["skips.yaml", "linear_skip_columns", fragment] {
                    XCTAssertTrue(message.contains(expected), "\(columns): \(message) lacks \(expected)")
                }
            }
        }
        let canonical = Self.twoBlockYAML(extra: "decoder_linear_skip: true\n  linear_skip_columns: [6, 7, 8]")
            + "\ndata:\n  representation: canonical\n"
        XCTAssertEqual(try VAEConfig.decode(yaml: canonical, sourceName: "canonical").makeModel(seed: 1).skipColumns, [6, 7, 8],
                       "column 8 exists in the 9-column representation")
    }
}
