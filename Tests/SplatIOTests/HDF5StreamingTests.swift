import Foundation
import SplatIO
import TestSupport
import XCTest

/// Chunked, gzip-compressed, extendable datasets: append, row-range reads, overwrites.
final class HDF5StreamingTests: TemporaryDirectoryTestCase {
    /// Row r of the test data: [r, r + 0.25, r + 0.5, r + 0.75] (exact in float32).
    private func rows(_ range: Range<Int>) -> [Float] {
        range.flatMap { row in (0..<4).map { Float(row) + Float($0) * 0.25 } }
    }

    func testAppendReadRangesAndOverwrite() throws {
        let path = temporaryPath("stream.h5")
        let file = try HDF5File(creating: path)
        try file.createExtendableDataset("gaussians/params", of: Float.self, rowShape: [4], chunkShape: [16, 4])
        XCTAssertEqual(try file.rowCount(of: "gaussians/params"), 0)

        // Batches that do not line up with the 16-row chunks.
        try file.appendRows(rows(0..<10), to: "gaussians/params")
        try file.appendRows(rows(10..<35), to: "gaussians/params")
        try file.appendRows([Float](), to: "gaussians/params")
        try file.appendRows(rows(35..<42), to: "gaussians/params")
        XCTAssertEqual(try file.rowCount(of: "gaussians/params"), 42)

        let info = try file.datasetInfo("gaussians/params")
        XCTAssertEqual(info.shape, [42, 4])
        XCTAssertEqual(info.maximumShape, [nil, 4])
        XCTAssertEqual(info.chunkShape, [16, 4])
        XCTAssertEqual(info.elementType, .float32)

        let middle = try file.readRows(Float.self, from: "gaussians/params", range: 5..<30)
        XCTAssertEqual(middle.shape, [25, 4])
        XCTAssertEqual(middle.values, rows(5..<30))
        XCTAssertEqual(try file.readRows(Float.self, from: "gaussians/params", range: 41..<42).values, rows(41..<42))
        XCTAssertEqual(try file.readRows(Float.self, from: "gaussians/params", range: 42..<42).shape, [0, 4])

        let replacement = [Float](repeating: -3, count: 5 * 4)
        try file.overwriteRows(replacement, in: "gaussians/params", startingAt: 20)
        try file.close()

        let reopened = try HDF5File(opening: path)
        let all = try reopened.read(Float.self, from: "gaussians/params")
        XCTAssertEqual(all.shape, [42, 4])
        XCTAssertEqual(all.values, rows(0..<20) + replacement + rows(25..<42))
        XCTAssertEqual(try reopened.readRows(Float.self, from: "gaussians/params", range: 18..<27).values,
                       rows(18..<20) + replacement + rows(25..<27))
    }

    func testCompressionShrinksRepetitiveData() throws {
        let path = temporaryPath("compressed.h5")
        let file = try HDF5File(creating: path)
        try file.createExtendableDataset("zeros", of: Double.self, rowShape: [8], chunkShape: [1024, 8], compressionLevel: 6)
        let batch = [Double](repeating: 0, count: 5_000 * 8)
        try file.appendRows(batch, to: "zeros")
        try file.appendRows(batch, to: "zeros")
        try file.close()
        // 10_000 × 8 float64 is 640 kB raw; gzip'ed zero chunks are a few hundred bytes each.
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertLessThan(size, 64 * 1024, "file is \(size) bytes: chunks were not compressed")
        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.rowCount(of: "zeros"), 10_000)
        XCTAssertEqual(try reopened.readRows(Double.self, from: "zeros", range: 4_990..<5_010).values,
                       [Double](repeating: 0, count: 20 * 8))
    }

    func testIntegerRowsAndOneDimensionalStreams() throws {
        let file = try HDF5File(creating: temporaryPath("ints.h5"))
        try file.createExtendableDataset("ids", of: Int64.self, rowShape: [], chunkShape: [4])
        try file.appendRows((0..<10).map { Int64($0) * 1_000_000_007 }, to: "ids")
        let slice = try file.readRows(Int64.self, from: "ids", range: 3..<6)
        XCTAssertEqual(slice.shape, [3])
        XCTAssertEqual(slice.values, [3_000_000_021, 4_000_000_028, 5_000_000_035])
        // Row ranges also work on ordinary (contiguous) datasets.
        try file.write([UInt8](0..<12), shape: [4, 3], to: "plain")
        XCTAssertEqual(try file.readRows(UInt8.self, from: "plain", range: 1..<3).values, [3, 4, 5, 6, 7, 8])
        try file.overwriteRows([UInt8](arrayLiteral: 9, 9, 9), in: "plain", startingAt: 3)
        XCTAssertEqual(try file.read(UInt8.self, from: "plain").values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9])
    }

    func testRowErrorsNameTheDataset() throws {
        let path = temporaryPath("row-errors.h5")
        let file = try HDF5File(creating: path)
        try file.createExtendableDataset("stream", of: Float.self, rowShape: [4], chunkShape: [8, 4])
        try file.appendRows(rows(0..<3), to: "stream")
        try file.write([Float](repeating: 0, count: 8), shape: [2, 4], to: "fixed")

        let outOfRange = assertThrowsFileError(try file.readRows(Float.self, from: "stream", range: 2..<5))
        XCTAssertEqual(outOfRange?.path, path)
        XCTAssertEqual(outOfRange?.reason, "rows 2..<5 are out of range: dataset '/stream' has 3 rows")

        let overwritePastEnd = assertThrowsFileError(try file.overwriteRows(rows(0..<2), in: "stream", startingAt: 2))
        XCTAssertEqual(overwritePastEnd?.reason, "rows 2..<4 are out of range: dataset '/stream' has 3 rows")

        let partialRow = assertThrowsFileError(try file.appendRows([Float](repeating: 1, count: 6), to: "stream"))
        XCTAssertEqual(partialRow?.reason.hasPrefix("6 values are not a whole number of rows of shape [4]"), true)

        let wrongType = assertThrowsFileError(try file.appendRows([Double](repeating: 1, count: 4), to: "stream"))
        XCTAssertEqual(wrongType?.reason, "dataset '/stream' holds float32 elements, but float64 was expected")

        let notExtendable = assertThrowsFileError(try file.appendRows(rows(0..<1), to: "fixed"))
        XCTAssertEqual(notExtendable?.reason.hasPrefix("cannot append 1 rows to '/fixed': its first axis is limited to 2 rows"), true)

        let exists = assertThrowsFileError(
            try file.createExtendableDataset("stream", of: Float.self, rowShape: [4], chunkShape: [8, 4]))
        XCTAssertEqual(exists?.reason, "cannot create dataset '/stream': a dataset exists there")
        XCTAssertEqual(try file.rowCount(of: "stream"), 3, "failed calls must not change the dataset")
    }

    /// A streaming file of 4 rows in 2 uncompressed chunks, with one byte of chunk `chunk` flipped.
    private func streamWithDamagedChunk(_ chunk: Int) throws -> (path: String, rows: [Float]) {
        let path = temporaryPath("stream.h5")
        let file = try HDF5File(creating: path, sealed: false)
        try file.createExtendableDataset("stream", of: Float.self, rowShape: [4], chunkShape: [2, 4], compressionLevel: 0)
        let rows = (0..<16).map { Float(bitPattern: 0x3F80_0000 + UInt32($0 * 37 + 11)) }  // distinct low bytes
        try file.appendRows(rows, to: "stream")
        try file.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // Uncompressed but shuffled: a chunk's 8 values begin with their 8 low bytes.
        let lowBytes = rows[(8 * chunk)..<(8 * chunk + 8)].map { UInt8(truncatingIfNeeded: $0.bitPattern) }
        let offset = try XCTUnwrap(bytes.firstRange(of: Data(lowBytes))?.lowerBound)
        bytes[offset] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, rows)
    }

    /// A build killed mid-append leaves a torn last chunk: the rows from that chunk on are
    /// dropped, so a rerun rewrites them instead of failing on the chunk.
    func testATornTailChunkIsDroppedAndRewritten() throws {
        let (path, rows) = try streamWithDamagedChunk(1)
        let file = try HDF5File(opening: path, mode: .readWrite)
        XCTAssertThrowsError(try file.readRows(Float.self, from: "stream", range: 2..<4))
        XCTAssertEqual(try file.dropUnreadableTailRows(of: "stream"), 2)
        XCTAssertEqual(try file.rowCount(of: "stream"), 2)
        try file.appendRows(Array(rows[8...]), to: "stream")
        XCTAssertEqual(try file.readRows(Float.self, from: "stream", range: 0..<4).values, rows)
        XCTAssertEqual(try file.dropUnreadableTailRows(of: "stream"), 4, "a whole dataset is left as it is")
    }

    /// Streaming files are not sealed (they grow); each stored chunk carries a Fletcher-32
    /// checksum instead, so a damaged chunk is an error naming the file, never data.
    func testADamagedChunkIsAnErrorNotData() throws {
        let (path, rows) = try streamWithDamagedChunk(0)
        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.readRows(Float.self, from: "stream", range: 2..<4).values, Array(rows[8..<16]))
        XCTAssertThrowsError(try reopened.readRows(Float.self, from: "stream", range: 0..<2)) { error in
            XCTAssertEqual((error as? FileError)?.path, path)
            XCTAssertTrue("\(error)".contains("H5Dread(/stream, rows 0..<2) failed"), "\(error)")
        }
    }
}
