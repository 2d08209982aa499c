import Foundation

// TensorBoard event files (`events.out.tfevents.<time>.<host>`), written without TensorFlow:
// a sequence of records, each
//   uint64 length (little-endian) · uint32 masked CRC-32C of the length bytes ·
//   `length` bytes of a serialized `Event` protobuf · uint32 masked CRC-32C of those bytes,
// where mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The first event carries
// file_version "brain.Event:2"; each later one a `Summary` of scalar values:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// Records are appended and flushed per call, so a run that stops keeps what it logged.

/// Appends scalar summaries to a TensorBoard event file.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates `folder` if needed and a new event file in it.
    public init(folder: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        try createOutputFolder(folder, purpose: "log folder")
        let host = ProcessInfo.processInfo.hostName
        path = (folder as NSString).appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host)")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw FileError(path, "cannot create the TensorBoard event file")
        }
        self.handle = handle
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        try append(event.bytes)
    }

    deinit { try? handle.close() }

    /// Logs `values` (tag → value) at `step`.
    public func add(scalars values: [(tag: String, value: Float)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var summary = ProtobufWriter()
        for (tag, value) in values {
            var entry = ProtobufWriter()
            entry.string(1, tag)
            entry.float(2, value)
            summary.message(1, entry.bytes)
        }
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.int64(2, Int64(step))
        event.message(5, summary.bytes)
        try append(event.bytes)
    }

    private func append(_ data: [UInt8]) throws {
        var record: [UInt8] = []
        let length = littleEndianBytes(UInt64(data.count))
        record += length
        record += littleEndianBytes(TensorBoardWriter.maskedCRC(length))
        record += data
        record += littleEndianBytes(TensorBoardWriter.maskedCRC(data))
        do {
            try handle.write(contentsOf: Data(record))
            try handle.synchronize()
        } catch {
            throw FileError(path, "cannot write the TensorBoard event file: \(error.localizedDescription)")
        }
    }

    /// TFRecord's masked CRC-32C.
    static func maskedCRC(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }
}

private func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// The few protobuf wire encodings an Event needs.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        bytes += littleEndianBytes(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        bytes += littleEndianBytes(value.bitPattern)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func message(_ field: Int, _ payload: [UInt8]) {
        key(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(_ field: Int, _ text: String) { message(field, Array(text.utf8)) }
}
