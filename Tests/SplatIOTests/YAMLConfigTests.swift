import Foundation
@testable import SplatIO
import TestSupport
import XCTest

/// Strict YAML config decoding: nested structs, unknown keys, wrong types, missing keys.
final class YAMLConfigTests: TemporaryDirectoryTestCase {
    enum Activation: String, Decodable, Equatable { case relu, gelu }

    struct LayerConfig: Decodable, Equatable {
        let kind: String
        let channels: Int
    }

    struct ModelConfig: Decodable, Equatable {
        let name: String
        let activation: Activation
        let layers: [LayerConfig]
        let dropout: Double?
    }

    /// Defaults for absent keys, read with `decodeIfPresent` as config structs do.
    struct OptimizerConfig: Decodable, Equatable {
        var learningRate = 1e-3
        var betas = [0.9, 0.999]

        enum CodingKeys: String, CodingKey { case learningRate, betas }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            learningRate = try container.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
            betas = try container.decodeIfPresent([Double].self, forKey: .betas) ?? betas
        }
    }

    struct TrainingConfig: Decodable, Equatable {
        let seed: Int
        let model: ModelConfig
        let optimizer: OptimizerConfig
        let tags: [String: String]
    }

    private let validYAML = """
        seed: 7
        model:
          name: tiny
          activation: gelu
          layers:
            - kind: conv
              channels: 16
            - {kind: linear, channels: 4}
        optimizer:
          learningRate: 0.01
        tags:
          anything: goes
          here: too
        """

    private func write(_ text: String, to name: String = "config.yaml") throws -> String {
        let path = temporaryPath(name)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func testDecodesNestedConfigWithDefaults() throws {
        let config = try decodeYAMLConfig(TrainingConfig.self, from: try write(validYAML))
        XCTAssertEqual(config.seed, 7)
        XCTAssertEqual(config.model.name, "tiny")
        XCTAssertEqual(config.model.activation, .gelu)
        XCTAssertEqual(config.model.layers, [LayerConfig(kind: "conv", channels: 16), LayerConfig(kind: "linear", channels: 4)])
        XCTAssertNil(config.model.dropout)
        XCTAssertEqual(config.optimizer.learningRate, 0.01)
        XCTAssertEqual(config.optimizer.betas, [0.9, 0.999])
        XCTAssertEqual(config.tags, ["anything": "goes", "here": "too"])
    }

    func testUnknownKeyNamesKeyPathLineAndFile() throws {
        let path = try write(validYAML.replacingOccurrences(of: "  learningRate: 0.01", with: "  learning_rate: 0.01"))
        let error = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, from: path))
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason, "unknown key 'optimizer.learning_rate' (line 10); known keys here: betas, learningRate")

        // Optional keys that are absent (dropout) still count as known.
        let typo = validYAML.replacingOccurrences(of: "  name: tiny", with: "  nme: tiny\n  name: tiny")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: typo, sourceName: "typo.yaml"))?.reason,
            "unknown key 'model.nme' (line 3); known keys here: activation, dropout, layers, name")
    }

    func testUnknownKeysInsideListsAndAtTopLevel() throws {
        let text = validYAML
            .replacingOccurrences(of: "channels: 4}", with: "channels: 4, stride: 2}")
            .replacingOccurrences(of: "seed: 7", with: "seed: 7\nepochs: 3")
        let error = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: text, sourceName: "inline.yaml"))
        XCTAssertEqual(error?.path, "inline.yaml")
        XCTAssertEqual(
            error?.reason,
            "unknown key 'epochs' (line 2); known keys here: model, optimizer, seed, tags; "
                + "unknown key 'model.layers[1].stride' (line 9); known keys here: channels, kind")
    }

    func testWrongTypesNameKeyPathExpectedTypeAndValue() throws {
        let badInt = validYAML.replacingOccurrences(of: "channels: 16", with: "channels: sixteen")
        let intError = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: badInt, sourceName: "a.yaml"))
        XCTAssertEqual(intError?.path, "a.yaml")
        XCTAssertEqual(intError?.reason, "key 'model.layers[0].channels' (line 7): expected Int, found 'sixteen'")

        let badDouble = validYAML.replacingOccurrences(of: "learningRate: 0.01", with: "learningRate: [1, 2]")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: badDouble, sourceName: "b.yaml"))?.reason,
            "key 'optimizer.learningRate' (line 10): expected a single value, found a list")

        let badMapping = validYAML.replacingOccurrences(of: "seed: 7", with: "seed: 7\nmodel: 5").replacingOccurrences(
            of: "model:\n  name", with: "old:\n  name")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: badMapping, sourceName: "c.yaml"))?.reason,
            "key 'model' (line 2): expected a mapping (key: value lines), found '5'")

        let badEnum = validYAML.replacingOccurrences(of: "activation: gelu", with: "activation: swish")
        let enumError = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: badEnum, sourceName: "d.yaml"))
        XCTAssertEqual(enumError?.reason.hasPrefix("key 'model.activation' (line 4): "), true, "\(String(describing: enumError))")
        XCTAssertEqual(enumError?.reason.contains("swish"), true, "\(String(describing: enumError))")
    }

    func testMissingKeysSyntaxErrorsAndMissingFiles() throws {
        let noSeed = validYAML.replacingOccurrences(of: "seed: 7\n", with: "")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: noSeed, sourceName: "e.yaml"))?.reason,
            "missing key 'seed' in the top level")
        let noKind = validYAML.replacingOccurrences(of: "{kind: linear, channels: 4}", with: "{channels: 4}")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: noKind, sourceName: "f.yaml"))?.reason,
            "missing key 'model.layers[1].kind' in 'model.layers[1]' (line 8)")

        let syntax = assertThrowsFileError(
            try decodeYAMLConfig(TrainingConfig.self, yaml: "seed: [1, 2\nmodel: x", sourceName: "g.yaml"))
        XCTAssertEqual(syntax?.path, "g.yaml")
        XCTAssertEqual(syntax?.reason.hasPrefix("invalid YAML: "), true, "\(String(describing: syntax))")

        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: "", sourceName: "h.yaml"))?.reason,
            "the document is empty; expected a mapping (key: value lines)")

        let missing = temporaryPath("missing.yaml")
        XCTAssertEqual(
            assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, from: missing)), FileError(missing, "no such file"))
    }

    /// Yams parses by recursion: documents nested 5,000 levels deep must be an error, not a stack overflow.
    func testDeepNestingIsRefusedBeforeParsing() throws {
        let deepCases = [
            ("flow", "seed: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n", 1),
            ("entries", "seed: 1\nmodel:\n" + String(repeating: "- ", count: 5000) + "x\n", 3),
            ("indents", (0..<5000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n", 65),
            ("flow across lines", "seed: " + String(repeating: "{a: [\n", count: 2500) + "1" + String(repeating: "]}", count: 2500), 32),
        ]
        for (name, yaml, line) in deepCases {
            let error = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: yaml, sourceName: "deep.yaml"))
            XCTAssertEqual(error, FileError("deep.yaml", "nested more than 64 levels deep (line \(line)); a configuration needs a few"), name)
        }
        // What a config needs, brackets in quotes and comments, and 64 levels still decode or fail as before.
        XCTAssertEqual(yamlNestingDepth(validYAML).depth, 5, "4 levels, and the flow entry's marker counted again")
        XCTAssertEqual(yamlNestingDepth("a: '[[[['  # {{{{\nb: \"]]{{\"\n").depth, 1)
        let sixtyFour = "seed: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "\n"
        XCTAssertEqual(yamlNestingDepth(sixtyFour).depth, 64)
        let error = assertThrowsFileError(try decodeYAMLConfig(TrainingConfig.self, yaml: sixtyFour, sourceName: "x.yaml"))
        XCTAssertEqual(error?.reason.hasPrefix("key 'seed' (line 1): expected a single value, found a list"), true, "\(String(describing: error))")
    }
}
