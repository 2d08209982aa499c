import Foundation
import SplatIO
import TestSupport
import XCTest

/// Sealed files (HDF5File+Checksum.swift): any change after `close()` is a `FileError` naming the
/// file before HDF5 reads it; unsealed files and files reopened for writing still work.
final class HDF5SealTests: TemporaryDirectoryTestCase {
    private func writeSample(_ name: String, sealed: Bool = true) throws -> String {
        let path = temporaryPath(name)
        let file = try HDF5File(creating: path, sealed: sealed)
        try file.write((0..<4096).map { Float($0) }, shape: [64, 64], to: "model/weight")
        try file.setAttribute("note", to: "complete")
        try file.close()
        return path
    }

    private func flipBit(at offset: Int, in path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    func testSealedFileRoundTripsAndStartsWithTheSeal() throws {
        let path = try writeSample("sealed.h5")
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(16)
        XCTAssertEqual(String(decoding: header, as: UTF8.self), "SPLATKIT-CRC32\n\0")
        let file = try HDF5File(opening: path)
        XCTAssertEqual(try file.read(Float.self, from: "model/weight").values, (0..<4096).map { Float($0) })
    }

    func testEveryFlippedBitInDataOrMetadataIsAFileError() throws {
        let path = try writeSample("sealed.h5")
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        // The seal's magic, the superblock (512), metadata after it, raw data, the last byte.
        for offset in [0, 15, 512, 600, 1200, size / 2, size - 1] {
            let copy = temporaryPath("flipped-\(offset).h5")
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            try flipBit(at: offset, in: copy)
            let error = assertThrowsFileError(try HDF5File(opening: copy))
            XCTAssertEqual(error?.path, copy)
            XCTAssertEqual(error?.reason.hasPrefix(offset < 16 ? "damaged: the checksum's header" : "damaged: its CRC-32 is"), true,
                           "\(String(describing: error))")
        }
    }

    func testTruncatedOrExtendedSealedFileIsAFileError() throws {
        let path = try writeSample("sealed.h5")
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size - 100))
        try handle.close()
        let error = assertThrowsFileError(try HDF5File(opening: path))
        XCTAssertEqual(error, FileError(path, "damaged: \(size - 100) bytes, but \(size) were written "
                                        + "(the file was truncated or extended after it was written)"))
    }

    func testReopenedForWritingIsResealedAtClose() throws {
        let path = try writeSample("sealed.h5")
        let file = try HDF5File(opening: path, mode: .readWrite)
        try file.write([1, 2, 3] as [Float], shape: [3], to: "extra")
        try file.close()
        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.read(Float.self, from: "extra").values, [1, 2, 3])
        try reopened.close()
        try flipBit(at: 700, in: path)
        XCTAssertNotNil(assertThrowsFileError(try HDF5File(opening: path)))
    }

    func testAFileLeftOpenForWritingIsUnsealedNotWronglySealed() throws {
        let path = try writeSample("sealed.h5")
        var file: HDF5File? = try HDF5File(opening: path, mode: .readWrite)
        try file?.write([1] as [Float], shape: [1], to: "extra")
        file = nil  // deinit closes without sealing, as a killed run would leave it
        XCTAssertNil(file)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(16)
        XCTAssertEqual(Array(header), [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(try HDF5File(opening: path).read(Float.self, from: "extra").values, [1])
    }

    func testUnsealedFilesHaveAnEmptyUserBlockAndCanBeSealedWhenFinal() throws {
        let path = try writeSample("plain.h5", sealed: false)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(bytes.prefix(512)), [UInt8](repeating: 0, count: 512))
        XCTAssertEqual(Array(bytes[512..<520]), [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])  // HDF5's signature
        let file = try HDF5File(opening: path, mode: .readWrite)
        XCTAssertEqual(try file.read(Float.self, from: "model/weight").shape, [64, 64])
        try file.sealAtClose()
        try file.close()
        let sealed = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(String(decoding: sealed.prefix(16), as: UTF8.self), "SPLATKIT-CRC32\n\0")
        try flipBit(at: 2000, in: path)
        XCTAssertNotNil(assertThrowsFileError(try HDF5File(opening: path)))
        XCTAssertNotNil(assertThrowsFileError(try HDF5File(opening: writeSample("read-only.h5")).sealAtClose()))
    }
}
