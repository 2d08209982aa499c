import Foundation

// A fitted item (or the error its fit threw) as bytes, for sending from the rank that fitted
// it to rank 0, which writes the dataset (DatasetBuilder with a `Communicator`). Layout,
// little-endian: kind (UInt8: 1 = item, 0 = error); an item: name length (UInt32), name
// (UTF-8), row scalar count (UInt32), the rows' float32 bit patterns, psnr and ssim (float32),
// source width and height (Int64); an error: message length (UInt32), message (UTF-8). Floats
// travel as bit patterns, so rank 0 writes exactly what the fitting rank computed.

/// A fit's outcome on another rank, as rank 0 reports it.
public struct RemoteFitError: Error, CustomStringConvertible {
    public let rank: Int
    public let message: String
    public var description: String { "rank \(rank): \(message)" }
}

extension DatasetItem {
    /// The outcome of fitting one item, as bytes.
    static func encoded(_ outcome: Result<DatasetItem, Error>) -> [UInt8] {
        var bytes: [UInt8] = []
        func append<Value: FixedWidthInteger>(_ value: Value) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append(text: String) {
            let utf8 = Array(text.utf8)
            append(UInt32(utf8.count))
            bytes += utf8
        }
        switch outcome {
        case .success(let item):
            bytes.append(1)
            append(text: item.name)
            append(UInt32(item.gaussians.count))
            for value in item.gaussians { append(value.bitPattern) }
            append(item.psnr.bitPattern)
            append(item.ssim.bitPattern)
            append(Int64(item.sourceWidth))
            append(Int64(item.sourceHeight))
        case .failure(let error):
            bytes.append(0)
            append(text: "\(error)")
        }
        return bytes
    }

    /// The outcomes in `bytes` (several `encoded` outcomes back to back), sent by `rank`.
    static func decodedOutcomes(_ bytes: [UInt8], rank: Int) -> [Result<DatasetItem, Error>] {
        var offset = 0
        func read<Value: FixedWidthInteger>(_: Value.Type) -> Value {
            precondition(offset + MemoryLayout<Value>.size <= bytes.count, "DatasetItem.decodedOutcomes: truncated message from rank \(rank)")
            let value = bytes[offset..<(offset + MemoryLayout<Value>.size)].withUnsafeBytes { $0.loadUnaligned(as: Value.self) }
            offset += MemoryLayout<Value>.size
            return Value(littleEndian: value)
        }
        func readText() -> String {
            let length = Int(read(UInt32.self))
            defer { offset += length }
            return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
        }
        var outcomes: [Result<DatasetItem, Error>] = []
        while offset < bytes.count {
            guard read(UInt8.self) == 1 else {
                outcomes.append(.failure(RemoteFitError(rank: rank, message: readText())))
                continue
            }
            let name = readText()
            let gaussians = (0..<Int(read(UInt32.self))).map { _ in Float(bitPattern: read(UInt32.self)) }
            let psnr = Float(bitPattern: read(UInt32.self)), ssim = Float(bitPattern: read(UInt32.self))
            let width = Int(read(Int64.self)), height = Int(read(Int64.self))
            outcomes.append(.success(DatasetItem(name: name, gaussians: gaussians, psnr: psnr, ssim: ssim,
                                                 sourceWidth: width, sourceHeight: height)))
        }
        return outcomes
    }
}
