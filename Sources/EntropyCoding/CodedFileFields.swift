// What every SplatKit coded file (.sgi) shares, whatever it codes (docs/FORMATS.md, "Compressed
// images"): the 6-byte preamble — magic "SKGC", format version, payload kind — little-endian
// fixed-width fields, and a CRC-32 of everything before it as the last 4 bytes. Each payload
// kind's container (GaussianCodec's per-image sets, LatentCoding's learned latent codes) lays out
// the rest.

/// The preamble of a coded file, and the kinds of payload it may hold.
public enum CodedFilePreamble {
    public static let magic: [UInt8] = Array("SKGC".utf8)
    public static let version: UInt8 = 1
    public static let size = 6

    public enum Kind: UInt8, CaseIterable, Sendable {
        /// A per-image Gaussian set, quantised and range-coded (GaussianCodec).
        case gaussianSet = 1
        /// A learned code: quantised VAE latents and the model they need (LatentCoding).
        case latentCode = 2

        /// What the payload is, for messages.
        public var name: String { self == .gaussianSet ? "a per-image Gaussian set" : "a learned latent code" }
    }

    /// The preamble's bytes for `kind`.
    public static func bytes(_ kind: Kind) -> [UInt8] { magic + [version, kind.rawValue] }

    /// The kind of the file `bytes` begins, or why it is not a coded file this build reads.
    public static func kind(of bytes: [UInt8]) -> Result<Kind, PreambleError> {
        guard bytes.count >= size, Array(bytes[0..<4]) == magic else { return .failure(.notCoded) }
        guard bytes[4] == version else { return .failure(.version(bytes[4])) }
        guard let kind = Kind(rawValue: bytes[5]) else { return .failure(.kind(bytes[5])) }
        return .success(kind)
    }

    /// Why `bytes` cannot be a coded file of `kind` at least `minimumSize` long (a header and a
    /// checksum), or nil: the length, the preamble and the payload kind, checked before any field
    /// is read. Both decoders (per-image sets, learned codes) start here.
    public static func problem(in bytes: [UInt8], expecting expected: Kind, minimumSize: Int) -> String? {
        guard bytes.count >= minimumSize else {
            return "is \(bytes.count) bytes, shorter than the \(minimumSize)-byte minimum (truncated, or not a SplatKit compressed file)"
        }
        switch kind(of: bytes) {
        case .failure(let problem): return problem.description
        case .success(let found) where found != expected:
            return "holds payload kind \(found.rawValue) (\(found.name)), not \(expected.rawValue) (\(expected.name))"
        case .success: return nil
        }
    }

    /// Why bytes are not a readable coded file.
    public enum PreambleError: Error, CustomStringConvertible {
        case notCoded, version(UInt8), kind(UInt8)

        public var description: String {
            switch self {
            case .notCoded: "does not start with \"SKGC\" (not a SplatKit compressed file)"
            case .version(let found): "has format version \(found); this build reads version \(CodedFilePreamble.version)"
            case .kind(let found): "holds payload kind \(found); known: 1 (per-image Gaussian set), 2 (learned latent code)"
            }
        }
    }

    /// Whether the last 4 bytes are the CRC-32 of the rest (`bytes` at least 4 long).
    public static func checksumMatches(_ bytes: [UInt8]) -> Bool {
        var reader = LittleEndianReader(bytes: bytes, offset: bytes.count - 4)
        return reader.uint32() == crc32(bytes[0..<(bytes.count - 4)])
    }
}

/// Appends `value` little-endian.
public func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: Value.bitWidth, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
}

/// Reads little-endian fields; callers have checked the length first.
public struct LittleEndianReader {
    public let bytes: [UInt8]
    public var offset: Int

    public init(bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    public mutating func byte() -> UInt8 {
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func uint16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

    public mutating func uint32() -> UInt32 { UInt32(uint16()) | UInt32(uint16()) << 16 }
}
