import Foundation

// NumPy's `.npy` array format (numpy.lib.format), read and written without Python.
//
// A file is: the magic "\x93NUMPY", a major and minor version byte, the header length
// (UInt16 little-endian in version 1.0, UInt32 in 2.0 and 3.0), then the header — a Python dict
// literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (512, 8), }`, ASCII/latin-1
// (1.0, 2.0) or UTF-8 (3.0), padded with spaces and a newline — then the raw elements in C order.
//
// Read: versions 1.0/2.0/3.0; dtypes f4, f8, i4, i8 in either byte order ('<', '>', '=' native,
// which is little-endian on every platform we build for) and the one-byte u1, b1 ('|', or any
// byte-order mark); C order only. Written: version 1.0 (2.0 only if the header would not fit),
// little-endian, the header built exactly as numpy builds it (keys sorted, 21 − len(shape[0])
// spare spaces for in-place growth, padded so the data starts on a 64-byte boundary), so a
// SplatKit-written file is byte-identical to `np.save` of the same array.

/// The elements of an `.npy` array, one case per supported dtype, in C (row-major) order.
public enum NPYValues: Equatable, Sendable {
    case float32([Float])
    case float64([Double])
    case int32([Int32])
    case int64([Int64])
    case uint8([UInt8])
    case bool([Bool])

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .uint8(let v): return v.count
        case .bool(let v): return v.count
        }
    }

    /// The numpy descriptor SplatKit writes for this case: '<f4', '<f8', '<i4', '<i8', '|u1', '|b1'.
    public var descriptor: String {
        switch self {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .bool: return "|b1"
        }
    }
}

/// An n-dimensional numpy array: a shape (`[]` for a scalar) and its elements in C order.
public struct NPYArray: Equatable, Sendable {
    public let shape: [Int]
    public let values: NPYValues

    /// An array of `values` with `shape`; the element count must equal the shape's product
    /// (1 for the scalar shape `[]`).
    public init(shape: [Int], values: NPYValues) {
        precondition(shape.allSatisfy { $0 >= 0 }, "NPYArray: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == values.count,
                     "NPYArray: shape \(shape) holds \(shape.reduce(1, *)) elements, got \(values.count)")
        self.shape = shape
        self.values = values
    }

    /// A float32 array.
    public init(shape: [Int], floats: [Float]) {
        self.init(shape: shape, values: .float32(floats))
    }

    /// The number of elements (1 for a scalar).
    public var count: Int { values.count }

    /// A problem converting the elements to another numeric type.
    public struct ConversionError: Error, CustomStringConvertible, Equatable {
        public let reason: String
        public var description: String { reason }
    }

    /// The elements as Float: float32 as is, float64 rounded (a finite value beyond Float's range
    /// throws), integers rounded to the nearest Float (exact up to 2²⁴). Booleans are not
    /// numbers and throw.
    public func floats() throws -> [Float] {
        switch values {
        case .float32(let v): return v
        case .float64(let v):
            return try v.map { value in
                let narrowed = Float(value)
                guard narrowed.isFinite || !value.isFinite else {
                    throw ConversionError(reason: "float64 value \(value) is outside the float32 range")
                }
                return narrowed
            }
        case .int32(let v): return v.map { Float($0) }
        case .int64(let v): return v.map { Float($0) }
        case .uint8(let v): return v.map { Float($0) }
        case .bool: throw ConversionError(reason: "a boolean array is not numeric")
        }
    }

    /// The elements as Double (exact for every numeric dtype except int64 beyond 2⁵³, which
    /// rounds). Booleans throw.
    public func doubles() throws -> [Double] {
        switch values {
        case .float32(let v): return v.map { Double($0) }
        case .float64(let v): return v
        case .int32(let v): return v.map { Double($0) }
        case .int64(let v): return v.map { Double($0) }
        case .uint8(let v): return v.map { Double($0) }
        case .bool: throw ConversionError(reason: "a boolean array is not numeric")
        }
    }
}

/// Reading and writing `.npy` files and their byte images (the entries of `.npz` archives).
public enum NPY {
    /// Reads the `.npy` file at `path`. Malformed files throw `FileError`.
    public static func read(_ path: String) throws -> NPYArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path, "cannot read the file (missing or unreadable)")
        }
        return try decode([UInt8](data), path: path)
    }

    /// Writes `array` to `path` as a version 1.0 `.npy` file, atomically.
    public static func write(_ array: NPYArray, to path: String) throws {
        let bytes = encode(array)
        try writeAtomically(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw FileError(path, "cannot create \(temporary)")
            }
        }
    }

    /// Decodes the bytes of an `.npy` file. Errors are `FileError`s for `path`, their reason
    /// prefixed with `entry` (for example "entry 'gaussians.npy': ") when given.
    public static func decode(_ bytes: [UInt8], path: String, entry: String? = nil) throws -> NPYArray {
        func failure(_ reason: String) -> FileError {
            FileError(path, (entry.map { "entry '\($0)': " } ?? "") + reason)
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw failure("not a .npy array (bad magic; expected \\x93NUMPY)")
        }
        let (major, minor) = (bytes[6], bytes[7])
        let headerStart: Int, headerLength: Int
        switch (major, minor) {
        case (1, 0):
            guard bytes.count >= 10 else { throw failure("truncated .npy header") }
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else { throw failure("truncated .npy header") }
            headerStart = 12
            headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
        default:
            throw failure("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw failure("truncated .npy header (declares \(headerLength) bytes, \(bytes.count - headerStart) present)")
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        let headerText: String
        if major == 3 {
            guard let text = String(bytes: headerBytes, encoding: .utf8) else {
                throw failure("the .npy header is not valid UTF-8")
            }
            headerText = text
        } else {
            headerText = String(headerBytes.map { Character(Unicode.Scalar($0)) })  // latin-1
        }
        let header = try NPYHeader(parsing: headerText, failure: failure)

        let elementCount = try header.shape.reduce(1) { product, dimension in
            let (result, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw failure("shape \(header.shape) is too large") }
            return result
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        let (needed, overflow) = elementCount.multipliedReportingOverflow(by: header.dtype.size)
        guard !overflow, needed == available else {
            throw failure("shape \(NPYHeader.pythonTuple(header.shape)) of \(header.dtype.descriptor) needs "
                          + "\(overflow ? "too many" : String(needed)) data bytes, the array has \(available)"
                          + (available < needed || overflow ? " (truncated)" : ""))
        }
        let values = bytes.withUnsafeBytes { raw in
            header.dtype.decode(UnsafeRawBufferPointer(rebasing: raw[dataStart...]), count: elementCount)
        }
        return NPYArray(shape: header.shape, values: values)
    }

    /// The bytes of `array` as a version 1.0 `.npy` file (2.0 if the header exceeds 65535
    /// bytes), identical to what `np.save` writes for the same array.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        var header = "{'descr': '\(array.values.descriptor)', 'fortran_order': False, 'shape': "
            + NPYHeader.pythonTuple(array.shape) + ", }"
        if let first = array.shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        let text = Array(header.utf8)  // ASCII: descriptors and digits only
        // numpy: hlen = len(header) + 1 (the newline); pad with spaces so prefix + hlen + pad is
        // a multiple of 64 (a full 64 when already aligned); version 1.0 if that fits a UInt16.
        func padded(prefixLength: Int) -> [UInt8] {
            let unpadded = prefixLength + text.count + 1
            return text + [UInt8](repeating: 0x20, count: 64 - unpadded % 64) + [0x0A]
        }
        var version: UInt8 = 1, lengthBytes = 2
        var headerBytes = padded(prefixLength: 10)
        if headerBytes.count > Int(UInt16.max) {
            (version, lengthBytes) = (2, 4)
            headerBytes = padded(prefixLength: 12)
        }
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        for index in 0..<lengthBytes { bytes.append(UInt8(truncatingIfNeeded: headerBytes.count >> (8 * index))) }
        bytes += headerBytes
        appendLittleEndian(array.values, to: &bytes)
        return bytes
    }

    private static func appendLittleEndian(_ values: NPYValues, to bytes: inout [UInt8]) {
        func append<T: FixedWidthInteger>(_ integers: [T]) {
            bytes.reserveCapacity(bytes.count + integers.count * MemoryLayout<T>.size)
            for value in integers {
                withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        switch values {
        case .float32(let v): append(v.map(\.bitPattern))
        case .float64(let v): append(v.map(\.bitPattern))
        case .int32(let v): append(v)
        case .int64(let v): append(v)
        case .uint8(let v): bytes += v
        case .bool(let v): bytes += v.map { $0 ? 1 : 0 }
        }
    }
}

/// A supported element type of a `.npy` file and its byte order.
struct NPYDataType {
    enum Kind { case float32, float64, int32, int64, uint8, bool }
    let kind: Kind
    let bigEndian: Bool
    let descriptor: String

    var size: Int {
        switch kind {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8, .bool: return 1
        }
    }

    /// The type of a numpy descriptor such as '<f4', or nil if unsupported.
    init?(descriptor: String) {
        let characters = Array(descriptor)
        guard characters.count == 3, "<>|=".contains(characters[0]) else { return nil }
        switch String(characters[1...]) {
        case "f4": kind = .float32
        case "f8": kind = .float64
        case "i4": kind = .int32
        case "i8": kind = .int64
        case "u1": kind = .uint8
        case "b1": kind = .bool
        default: return nil
        }
        // '|' (not applicable) is only valid for one-byte types, as in numpy.
        if characters[0] == "|" && kind != .uint8 && kind != .bool { return nil }
        bigEndian = characters[0] == ">"
        self.descriptor = descriptor
    }

    /// Decodes `count` elements from `raw` (which holds exactly count × size bytes).
    func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> NPYValues {
        func integers<T: FixedWidthInteger>(_: T.Type) -> [T] {
            (0..<count).map { index in
                let stored = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
                return bigEndian ? T(bigEndian: stored) : T(littleEndian: stored)
            }
        }
        switch kind {
        case .float32: return .float32(integers(UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(integers(UInt64.self).map(Double.init(bitPattern:)))
        case .int32: return .int32(integers(Int32.self))
        case .int64: return .int64(integers(Int64.self))
        case .uint8: return .uint8(Array(raw[0..<count]))
        case .bool: return .bool(raw[0..<count].map { $0 != 0 })
        }
    }
}

/// The parsed header dict of a `.npy` file: exactly the keys 'descr', 'fortran_order' and
/// 'shape', as numpy requires.
struct NPYHeader {
    let dtype: NPYDataType
    let shape: [Int]

    /// A Python literal: the subset `ast.literal_eval` accepts in numpy headers.
    private indirect enum Literal {
        case string(String), integer(Int), boolean(Bool), none, sequence([Literal]), dictionary([(String, Literal)])
    }

    init(parsing text: String, failure: @escaping (String) -> FileError) throws {
        var parser = LiteralParser(text: Array(text.unicodeScalars), failure: failure)
        let literal = try parser.parseTopLevel()
        guard case .dictionary(let entries) = literal else {
            throw failure("the .npy header is not a dict: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let keys = entries.map(\.0)
        guard keys.sorted() == ["descr", "fortran_order", "shape"] else {
            throw failure("the .npy header has keys \(keys.sorted()), expected ['descr', 'fortran_order', 'shape']")
        }
        let dictionary = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        guard case .string(let descriptor)? = dictionary["descr"] else {
            throw failure("unsupported dtype (structured or non-string descr) in header \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard let dtype = NPYDataType(descriptor: descriptor) else {
            throw failure("unsupported dtype '\(descriptor)' (supported: f4, f8, i4, i8 with '<' or '>', u1, b1)")
        }
        guard case .boolean(let fortranOrder)? = dictionary["fortran_order"] else {
            throw failure("'fortran_order' in the .npy header is not True or False")
        }
        guard !fortranOrder else {
            throw failure("Fortran-order (column-major) arrays are not supported; save with np.ascontiguousarray")
        }
        guard case .sequence(let dimensions)? = dictionary["shape"] else {
            throw failure("'shape' in the .npy header is not a tuple")
        }
        self.shape = try dimensions.map { dimension in
            guard case .integer(let value) = dimension, value >= 0 else {
                throw failure("'shape' in the .npy header has a dimension that is not a non-negative integer")
            }
            return value
        }
        self.dtype = dtype
    }

    /// Python's repr of a tuple of ints: `()`, `(3,)`, `(2, 3)`.
    static func pythonTuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Recursive descent over the header's characters; every read is bounds-checked.
    private struct LiteralParser {
        let text: [Unicode.Scalar]
        let failure: (String) -> FileError
        var position = 0
        var depth = 0

        init(text: [Unicode.Scalar], failure: @escaping (String) -> FileError) {
            self.text = text
            self.failure = failure
        }

        mutating func parseTopLevel() throws -> Literal {
            let value = try parseValue()
            skipWhitespace()
            guard position == text.count else { throw error("unexpected text after the header dict") }
            return value
        }

        private func error(_ reason: String) -> FileError {
            failure("malformed .npy header (\(reason) at character \(position))")
        }

        private mutating func skipWhitespace() {
            while position < text.count, text[position].properties.isWhitespace { position += 1 }
        }

        private mutating func peek() -> Unicode.Scalar? {
            skipWhitespace()
            return position < text.count ? text[position] : nil
        }

        private mutating func parseValue() throws -> Literal {
            guard let next = peek() else { throw error("unexpected end") }
            switch next {
            case "{": return try parseDictionary()
            case "(": return try parseSequence(closing: ")")
            case "[": return try parseSequence(closing: "]")
            case "'", "\"": return .string(try parseString())
            case "0"..."9", "-", "+": return .integer(try parseInteger())
            default:
                for (word, literal) in [("True", Literal.boolean(true)), ("False", .boolean(false)), ("None", .none)]
                where text[position...].starts(with: word.unicodeScalars) {
                    position += word.unicodeScalars.count
                    return literal
                }
                throw error("unexpected '\(next)'")
            }
        }

        private mutating func enter() throws {
            depth += 1
            guard depth <= 32 else { throw error("nesting too deep") }
        }

        private mutating func parseDictionary() throws -> Literal {
            try enter()
            defer { depth -= 1 }
            position += 1  // "{"
            var entries: [(String, Literal)] = []
            while true {
                if peek() == "}" { position += 1; return .dictionary(entries) }
                guard case .string(let key) = try parseValue() else { throw error("dict key is not a string") }
                guard peek() == ":" else { throw error("expected ':'") }
                position += 1
                entries.append((key, try parseValue()))
                switch peek() {
                case ",": position += 1
                case "}": continue
                default: throw error("expected ',' or '}'")
                }
            }
        }

        private mutating func parseSequence(closing: Unicode.Scalar) throws -> Literal {
            try enter()
            defer { depth -= 1 }
            position += 1  // "(" or "["
            var elements: [Literal] = []
            while true {
                if peek() == closing { position += 1; return .sequence(elements) }
                elements.append(try parseValue())
                switch peek() {
                case ",": position += 1
                case closing: continue
                default: throw error("expected ',' or '\(closing)'")
                }
            }
        }

        private mutating func parseString() throws -> String {
            let quote = text[position]
            position += 1
            var scalars = String.UnicodeScalarView()
            while position < text.count, text[position] != quote {
                if text[position] == "\\" { throw error("escape sequences are not supported in strings") }
                scalars.append(text[position])
                position += 1
            }
            guard position < text.count else { throw error("unterminated string") }
            position += 1
            return String(scalars)
        }

        private mutating func parseInteger() throws -> Int {
            var digits = ""
            if text[position] == "-" || text[position] == "+" {
                digits.unicodeScalars.append(text[position])
                position += 1
            }
            while position < text.count, ("0"..."9").contains(text[position]) {
                digits.unicodeScalars.append(text[position])
                position += 1
            }
            if position < text.count, text[position] == "L" { position += 1 }  // Python 2 long suffix
            guard let value = Int(digits) else { throw error("bad integer '\(digits)'") }
            return value
        }
    }
}
