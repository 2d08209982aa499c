import EntropyCoding
import TensorCore

// The .sgi container of a learned latent code (payload kind 2; docs/FORMATS.md, "Compressed
// images"). Little-endian:
//
//   offset  size  field
//   0       6     preamble: "SKGC", version 1, kind 2 (CodedFilePreamble)
//   6       4     model fingerprint: which model's code tables and decoder the latents need
//   10      2     width  } the size the decoded set is drawn at by default (its source image's)
//   12      2     height }
//   14      2     latent dimensions L
//   16      4     items: latents coded (1 for one set)
//   20      4     S, the stream's bytes
//   24      S     the latents, items × L, range-coded with the model's tables (LatentStream)
//   24 + S  4     CRC-32 of bytes 0 ..< 24 + S
//
// The reader checks the size, the checksum and every field before it allocates; the latents
// themselves are decoded against the model's tables (`latents(tables:)`), which also checks that
// the stream holds exactly what the header declares.

/// A learned code as stored: the header's facts and the coded latents.
public struct LatentCodeFile: Equatable, Sendable {
    public static let headerSize = 24, checksumSize = 4
    public static let maximumSide = 16_384, maximumLatentDimensions = 65_536, maximumItems = 1 << 16

    public let fingerprint: UInt32
    public let width: Int, height: Int
    public let latentDimensions: Int
    public let items: Int
    /// The range-coded latents.
    public let stream: [UInt8]

    /// Codes `latents` (items × L, item-major) with a factorised prior's `tables` (L channels).
    public init(latents: [Int32], tables: FactorizedCodeTables, fingerprint: UInt32, width: Int, height: Int) {
        let dimensions = tables.channels
        precondition(!latents.isEmpty && latents.count % dimensions == 0, "LatentCodeFile: \(latents.count) latents of \(dimensions)")
        self.init(stream: LatentStream.encode(latents, tables: tables), latentDimensions: dimensions, items: latents.count / dimensions,
                  fingerprint: fingerprint, width: width, height: height)
    }

    /// A file of `stream`, which holds `items` latents of `latentDimensions` values coded by the
    /// model of `fingerprint` (its LatentStream or HyperpriorStream).
    public init(stream: [UInt8], latentDimensions: Int, items: Int, fingerprint: UInt32, width: Int, height: Int) {
        precondition((1...Self.maximumSide).contains(width) && (1...Self.maximumSide).contains(height),
                     "LatentCodeFile: size \(width)×\(height) outside 1...\(Self.maximumSide)")
        precondition((1...Self.maximumLatentDimensions).contains(latentDimensions) && (1...Self.maximumItems).contains(items),
                     "LatentCodeFile: \(items) latents of \(latentDimensions) dimensions")
        self.fingerprint = fingerprint
        (self.width, self.height, self.latentDimensions, self.items) = (width, height, latentDimensions, items)
        self.stream = stream
    }

    /// The file's bytes.
    public var bytes: [UInt8] {
        var out = CodedFilePreamble.bytes(.latentCode)
        appendLittleEndian(fingerprint, to: &out)
        appendLittleEndian(UInt16(width), to: &out)
        appendLittleEndian(UInt16(height), to: &out)
        appendLittleEndian(UInt16(truncatingIfNeeded: latentDimensions), to: &out)  // 65,536 is stored as 0
        appendLittleEndian(UInt32(items), to: &out)
        appendLittleEndian(UInt32(stream.count), to: &out)
        out += stream
        appendLittleEndian(crc32(out), to: &out)
        return out
    }

    /// Reads a file's bytes, checking every field; damaged, truncated or forged files throw.
    public init(bytes: [UInt8]) throws {
        func fail(_ problem: String) -> LatentCodingError { .corruptStream(problem) }
        if let problem = CodedFilePreamble.problem(in: bytes, expecting: .latentCode, minimumSize: Self.headerSize + Self.checksumSize) {
            throw fail(problem)
        }
        var reader = LittleEndianReader(bytes: bytes, offset: CodedFilePreamble.size)
        let fingerprint = reader.uint32()
        let width = Int(reader.uint16()), height = Int(reader.uint16())
        let storedDimensions = Int(reader.uint16())
        let items = Int(reader.uint32()), streamSize = Int(reader.uint32())
        guard streamSize == bytes.count - Self.headerSize - Self.checksumSize else {
            throw fail("declares \(streamSize) stream bytes but holds \(bytes.count - Self.headerSize - Self.checksumSize) (truncated or extended)")
        }
        guard CodedFilePreamble.checksumMatches(bytes) else { throw fail("fails its CRC-32 check (damaged)") }
        guard (1...Self.maximumSide).contains(width) && (1...Self.maximumSide).contains(height) else {
            throw fail("declares an image of \(width)×\(height); sides must be 1...\(Self.maximumSide)")
        }
        guard (1...Self.maximumItems).contains(items) else { throw fail("declares \(items) latents; 1...\(Self.maximumItems) are read") }
        self.fingerprint = fingerprint
        (self.width, self.height, self.items) = (width, height, items)
        latentDimensions = storedDimensions == 0 ? Self.maximumLatentDimensions : storedDimensions
        stream = Array(bytes[Self.headerSize..<(Self.headerSize + streamSize)])
    }

    /// Whether `bytes` begin as a learned latent code (the preamble of kind 2).
    public static func isLatentCode(_ bytes: [UInt8]) -> Bool {
        if case .success(.latentCode) = CodedFilePreamble.kind(of: bytes) { return true }
        return false
    }

    /// The latents (items × L, item-major), decoded with `tables`, which must have L channels.
    public func latents(tables: FactorizedCodeTables) throws -> [Int32] {
        guard tables.channels == latentDimensions else {
            throw LatentCodingError.corruptStream("holds latents of \(latentDimensions) dimensions; the model's have \(tables.channels)")
        }
        return try LatentStream.decode(stream, items: items, tables: tables)
    }
}

/// The fingerprint a latent code records of its model: the CRC-32 of the code tables' integers
/// (each of `tables` in turn) and of the float bits of `parameters` (the model's, as it lists
/// them, then any other floats the coder reads, such as a hyperprior's scale boundaries). A
/// decoder given another model (or another training of the same one) refuses the file.
public func latentModelFingerprint(tables: [FactorizedCodeTables], parameters: [Tensor]) -> UInt32 {
    var bytes: [UInt8] = []
    for table in tables {
        for (offset, row) in zip(table.offsets, table.frequencies) {
            appendLittleEndian(offset, to: &bytes)
            appendLittleEndian(UInt32(row.count), to: &bytes)
            for frequency in row { appendLittleEndian(frequency, to: &bytes) }
        }
    }
    var checksum = crc32(bytes)
    for parameter in parameters {
        let scalars = parameter.scalars
        if UInt32(1).littleEndian == 1 {  // the floats' memory is already their little-endian bytes
            checksum = scalars.withUnsafeBytes { crc32($0, continuing: checksum) }
        } else {
            var block: [UInt8] = []
            block.reserveCapacity(scalars.count * 4)
            for value in scalars { appendLittleEndian(value.bitPattern, to: &block) }
            checksum = crc32(block, continuing: checksum)
        }
    }
    return checksum
}
