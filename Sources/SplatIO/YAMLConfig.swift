import Foundation
import Yams

// Configuration files: YAML decoded into `Decodable` structs with Yams, strictly.
//
// - Unknown keys are errors. While decoding, `YAMLKeyRecordingDecoder` records which keys
//   each YAML mapping has and which the Decodable type asked for; any key nobody asked for
//   is reported with its full key path, line and the keys that are allowed there
//   ("unknown key 'training.learning_rat' (line 4); known keys here: learning_rate, steps").
//   Optional keys must be read with `decodeIfPresent` (as synthesized conformances do for
//   Optional properties) so that they count as known even when absent.
// - Wrong types name the key path, the expected type and what the file has
//   ("key 'training.steps' (line 5): expected Int, found 'many'").
// - Missing keys, invalid enum values and YAML syntax errors are reported the same way.
// - Documents nested deeper than `maximumYAMLNesting` are refused before parsing
//   (YAMLNestingLimit.swift): Yams parses by recursion.
// Every error is a `FileError` whose path is the file (or the given source name).

/// Decodes the YAML file at `path` into `type`. See the notes above for the strictness rules.
public func decodeYAMLConfig<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
    try decodeYAMLConfig(type, yaml: try readTextFile(path), sourceName: path)
}

/// Decodes YAML text into `type`; errors name `sourceName` (a file path or e.g. "--config").
public func decodeYAMLConfig<T: Decodable>(_ type: T.Type, yaml: String, sourceName: String) throws -> T {
    let nesting = yamlNestingDepth(yaml)
    guard nesting.depth <= maximumYAMLNesting else {
        throw FileError(sourceName, "nested more than \(maximumYAMLNesting) levels deep (line \(nesting.line)); "
                        + "a configuration needs a few")
    }
    let recorder = YAMLKeyRecorder()
    let decoded: T
    do {
        decoded = try YAMLDecoder().decode(
            RecordedDecoding<T>.self, from: yaml, userInfo: [RecordedDecoding<T>.recorderKey: recorder]
        ).value
    } catch let error as DecodingError {
        throw FileError(sourceName, describe(error, yaml: yaml))
    } catch let error as YamlError {
        throw FileError(sourceName, "invalid YAML: \(error)")
    }
    let unknown = recorder.mappingsWithUnknownKeys()
    if !unknown.isEmpty {
        let root = try? Yams.compose(yaml: yaml)
        let messages = unknown.map { mapping, keys -> String in
            let paths = keys.map { key -> String in
                let keyPath = yamlKeyPathDescription(mapping.codingPath + [YAMLAnyKey(stringValue: key)])
                return "'\(keyPath)'\(lineSuffix(keyNode(key, in: root.flatMap { node(at: mapping.codingPath, in: $0) })))"
            }
            let known = mapping.requestedKeys.sorted().joined(separator: ", ")
            return "unknown key\(keys.count == 1 ? "" : "s") \(paths.joined(separator: ", "))"
                + (known.isEmpty ? "" : "; known keys here: \(known)")
        }
        throw FileError(sourceName, messages.joined(separator: "; "))
    }
    return decoded
}

/// The top-level value, decoded through the key-recording wrapper.
private struct RecordedDecoding<T: Decodable>: Decodable {
    static var recorderKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "splatkit.yamlKeyRecorder")! }
    let value: T

    init(from decoder: Decoder) throws {
        guard let recorder = decoder.userInfo[Self.recorderKey] as? YAMLKeyRecorder else {
            preconditionFailure("decodeYAMLConfig: key recorder missing from userInfo")
        }
        value = try T(from: YAMLKeyRecordingDecoder(inner: decoder, recorder: recorder))
    }
}

// MARK: - Error messages

/// A readable message for a decoding error: key path, line, expected type, what was found.
private func describe(_ error: DecodingError, yaml: String) -> String {
    let root = try? Yams.compose(yaml: yaml)
    switch error {
    case .keyNotFound(let key, let context):
        let parent = context.codingPath.isEmpty ? "the top level" : "'\(yamlKeyPathDescription(context.codingPath))'"
        let line = context.codingPath.isEmpty ? "" : lineSuffix(root.flatMap { node(at: context.codingPath, in: $0) })
        return "missing key '\(yamlKeyPathDescription(context.codingPath + [key]))' in \(parent)\(line)"
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
        let found = root.flatMap { node(at: context.codingPath, in: $0) }
        if context.codingPath.isEmpty, found == nil || found?.string == "" {
            return "the document is empty; expected \(expectedName(type))"
        }
        let line = context.codingPath.isEmpty ? "" : lineSuffix(found)
        return "\(keyDescription(context.codingPath))\(line): expected \(expectedName(type)), found \(foundDescription(found))"
    case .dataCorrupted(let context):
        if let yamlError = context.underlyingError as? YamlError {
            return "invalid YAML: \(yamlError)"
        }
        let found = root.flatMap { node(at: context.codingPath, in: $0) }
        return "\(keyDescription(context.codingPath))\(lineSuffix(found)): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}

private func keyDescription(_ codingPath: [CodingKey]) -> String {
    codingPath.isEmpty ? "top level" : "key '\(yamlKeyPathDescription(codingPath))'"
}

private func expectedName(_ type: Any.Type) -> String {
    if type == Node.Mapping.self { return "a mapping (key: value lines)" }
    if type == Node.Sequence.self { return "a list" }
    if type == Node.Scalar.self { return "a single value" }
    return "\(type)"
}

private func foundDescription(_ node: Node?) -> String {
    switch node {
    case .scalar(let scalar)?:
        return scalar.tag == Tag(.null) ? "null" : "'\(scalar.string)'"
    case .mapping?: return "a mapping"
    case .sequence?: return "a list"
    case nil: return "no value"
    }
}

/// " (line N)" for a node that knows its position in the document.
private func lineSuffix(_ node: Node?) -> String {
    guard let mark = node?.mark else { return "" }
    return " (line \(mark.line))"
}

/// The node reached by following `codingPath` from `root` (mapping keys by name, list
/// entries by index), or `nil` when the path leaves the document (e.g. through merge keys).
private func node(at codingPath: [CodingKey], in root: Node) -> Node? {
    var current = root
    for key in codingPath {
        switch current {
        case .mapping(let mapping):
            guard let next = mapping.first(where: { $0.key.string == key.stringValue })?.value else { return nil }
            current = next
        case .sequence(let sequence):
            guard let index = key.intValue, sequence.indices.contains(index) else { return nil }
            current = sequence[index]
        case .scalar:
            return nil
        }
    }
    return current
}

/// The key node named `key` in a mapping node (for its line number).
private func keyNode(_ key: String, in mappingNode: Node?) -> Node? {
    guard case .mapping(let mapping)? = mappingNode else { return nil }
    return mapping.first(where: { $0.key.string == key })?.key
}
