import Yams

// A Decoder that wraps Yams' decoder and records, for every YAML mapping it decodes, which
// keys the mapping has and which keys the Decodable type asked about. Keys present but never
// asked about are unknown keys (typically typos) — see `YAMLConfig.swift`.
//
// Why record instead of listing allowed keys per type: the Decodable implementation is the
// single source of truth for which keys a type reads, so synthesized conformances, custom
// `init(from:)` with `decodeIfPresent` defaults, nested structs, arrays of structs, enums
// with associated values and dictionaries (which ask for every key) all work without any
// extra protocol. A key counts as asked about if the type called `decode`,
// `decodeIfPresent`, `decodeNil`, `contains`, a nested container or a super decoder for it.
//
// Scalars (Yams' `ScalarConstructible` types: numbers, strings, Bool, Date, Data, URL, ...)
// are decoded by Yams itself so its YAML scalar rules apply unchanged.

/// Present and requested keys per mapping, keyed by the mapping's coding path.
final class YAMLKeyRecorder {
    struct Mapping {
        var codingPath: [CodingKey]
        var presentKeys: [String]  // in document order
        var requestedKeys: Set<String>
    }

    private(set) var mappings: [String: Mapping] = [:]
    private(set) var order: [String] = []

    func registerMapping(at codingPath: [CodingKey], presentKeys: [String]) {
        let id = yamlKeyPathDescription(codingPath)
        if mappings[id] == nil {
            mappings[id] = Mapping(codingPath: codingPath, presentKeys: presentKeys, requestedKeys: [])
            order.append(id)
        }
    }

    func recordRequest(_ key: CodingKey, inMappingAt codingPath: [CodingKey]) {
        mappings[yamlKeyPathDescription(codingPath)]?.requestedKeys.insert(key.stringValue)
    }

    /// Each mapping that has keys nobody asked for, in the order the mappings were decoded.
    func mappingsWithUnknownKeys() -> [(mapping: Mapping, unknownKeys: [String])] {
        order.compactMap { id in
            guard let mapping = mappings[id] else { return nil }
            let unknown = mapping.presentKeys.filter { !mapping.requestedKeys.contains($0) }
            return unknown.isEmpty ? nil : (mapping, unknown)
        }
    }
}

/// "model.layers[2].kind" for a coding path; "" for the top level.
func yamlKeyPathDescription(_ codingPath: [CodingKey]) -> String {
    var text = ""
    for key in codingPath {
        if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)" {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return text
}

/// Accepts any string key, to list every key of a mapping.
struct YAMLAnyKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

private func isYAMLScalar<T>(_ type: T.Type) -> Bool { type is ScalarConstructible.Type }

struct YAMLKeyRecordingDecoder: Decoder {
    let inner: Decoder
    let recorder: YAMLKeyRecorder

    var codingPath: [CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { inner.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let everyKey = try inner.container(keyedBy: YAMLAnyKey.self).allKeys.map(\.stringValue)
        recorder.registerMapping(at: inner.codingPath, presentKeys: everyKey)
        let typed = try inner.container(keyedBy: Key.self)
        return KeyedDecodingContainer(RecordingKeyedContainer(inner: typed, recorder: recorder))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        RecordingUnkeyedContainer(inner: try inner.unkeyedContainer(), recorder: recorder)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        RecordingSingleValueContainer(decoder: self, inner: try inner.singleValueContainer())
    }
}

private struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let inner: KeyedDecodingContainer<Key>
    let recorder: YAMLKeyRecorder

    var codingPath: [CodingKey] { inner.codingPath }
    var allKeys: [Key] { inner.allKeys }

    private func request(_ key: Key) { recorder.recordRequest(key, inMappingAt: inner.codingPath) }

    func contains(_ key: Key) -> Bool {
        request(key)
        return inner.contains(key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        request(key)
        return try inner.decodeNil(forKey: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        request(key)
        if isYAMLScalar(type) { return try inner.decode(type, forKey: key) }
        return try T(from: YAMLKeyRecordingDecoder(inner: try inner.superDecoder(forKey: key), recorder: recorder))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        request(key)
        guard inner.contains(key), try !inner.decodeNil(forKey: key) else { return nil }
        return try decode(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        request(key)
        return try YAMLKeyRecordingDecoder(inner: try inner.superDecoder(forKey: key), recorder: recorder)
            .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        request(key)
        return try YAMLKeyRecordingDecoder(inner: try inner.superDecoder(forKey: key), recorder: recorder)
            .unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        recorder.recordRequest(YAMLAnyKey(stringValue: "super"), inMappingAt: inner.codingPath)
        return YAMLKeyRecordingDecoder(inner: try inner.superDecoder(), recorder: recorder)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        request(key)
        return YAMLKeyRecordingDecoder(inner: try inner.superDecoder(forKey: key), recorder: recorder)
    }
}

private struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    var inner: UnkeyedDecodingContainer
    let recorder: YAMLKeyRecorder

    var codingPath: [CodingKey] { inner.codingPath }
    var count: Int? { inner.count }
    var isAtEnd: Bool { inner.isAtEnd }
    var currentIndex: Int { inner.currentIndex }

    mutating func decodeNil() throws -> Bool { try inner.decodeNil() }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if isYAMLScalar(type) { return try inner.decode(type) }
        return try T(from: YAMLKeyRecordingDecoder(inner: try inner.superDecoder(), recorder: recorder))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try YAMLKeyRecordingDecoder(inner: try inner.superDecoder(), recorder: recorder).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try YAMLKeyRecordingDecoder(inner: try inner.superDecoder(), recorder: recorder).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        YAMLKeyRecordingDecoder(inner: try inner.superDecoder(), recorder: recorder)
    }
}

private struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let decoder: YAMLKeyRecordingDecoder
    let inner: SingleValueDecodingContainer

    var codingPath: [CodingKey] { inner.codingPath }

    func decodeNil() -> Bool { inner.decodeNil() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if isYAMLScalar(type) { return try inner.decode(type) }
        // A wrapper type decoding its payload from the same node: keep recording below it.
        return try T(from: decoder)
    }
}
