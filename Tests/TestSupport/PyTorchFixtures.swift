import Foundation

// What the PyTorch fixture files (Tests/*/Fixtures/*.json, written by scripts/reference/make_*_fixtures.py)
// share: tensors as shape + row-major data, hyperparameters as ints, int lists, bools or strings,
// and one loader. Each test file declares its own case layout on top of these.

/// One tensor of a fixture file: a shape and its row-major data.
public struct FixtureTensor: Decodable {
    public let shape: [Int]
    public let data: [Float]

    public init(shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }
}

/// A value of a case's `params`: an int, a list of ints, a bool or a string.
public enum FixtureParameter: Decodable {
    case int(Int)
    case ints([Int])
    case bool(Bool)
    case string(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode([Int].self) {
            self = .ints(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an int, int list, bool or string")
        }
    }
}

/// Problems reading a fixture file or one of its cases.
public enum FixtureError: Error, CustomStringConvertible {
    case missingResource(String)
    case parameter(String, String, String)
    case unknown(String)

    public var description: String {
        switch self {
        case .missingResource(let file): return "Fixtures/\(file) is not in the test bundle"
        case let .parameter(name, key, kind): return "case \(name): parameter \(key) is not \(kind)"
        case .unknown(let message): return message
        }
    }
}

/// Typed lookups of a case's parameters; errors name the case and the key.
extension Dictionary where Key == String, Value == FixtureParameter {
    public func int(_ key: String, inCase name: String) throws -> Int {
        guard case .int(let value)? = self[key] else { throw FixtureError.parameter(name, key, "an int") }
        return value
    }

    public func ints(_ key: String, inCase name: String) throws -> [Int] {
        guard case .ints(let values)? = self[key] else { throw FixtureError.parameter(name, key, "a list of ints") }
        return values
    }

    /// A 2-D hyperparameter stored as [height, width].
    public func pair(_ key: String, inCase name: String) throws -> (Int, Int) {
        let values = try ints(key, inCase: name)
        guard values.count == 2 else { throw FixtureError.parameter(name, key, "a list of two ints") }
        return (values[0], values[1])
    }

    public func bool(_ key: String, inCase name: String) throws -> Bool {
        guard case .bool(let value)? = self[key] else { throw FixtureError.parameter(name, key, "a bool") }
        return value
    }

    public func string(_ key: String, inCase name: String) throws -> String {
        guard case .string(let value)? = self[key] else { throw FixtureError.parameter(name, key, "a string") }
        return value
    }
}

/// Decodes Fixtures/`resource`.json of `bundle` (a test target's `Bundle.module`).
public func loadFixtureFile<File: Decodable>(_ type: File.Type, resource: String, bundle: Bundle) throws -> File {
    guard let url = bundle.url(forResource: resource, withExtension: "json", subdirectory: "Fixtures") else {
        throw FixtureError.missingResource(resource + ".json")
    }
    return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
}
