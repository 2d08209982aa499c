import Foundation
import SplatIO
import TestSupport
import XCTest

/// Files that are not (complete) HDF5 files must throw `FileError`, never crash.
final class HDF5DamagedFileTests: TemporaryDirectoryTestCase {
    func testTruncatedFileThrows() throws {
        let path = temporaryPath("truncated.h5")
        let file = try HDF5File(creating: path, sealed: false)  // HDF5's own check (HDF5SealTests: sealed files)
        try file.write((0..<4096).map { Float($0) }, shape: [64, 64], to: "model/weight")
        try file.setAttribute("note", to: "complete")
        try file.close()

        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()

        let error = assertThrowsFileError(try HDF5File(opening: path))
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason.hasPrefix("not an HDF5 file, or damaged: H5Fopen failed: unable to open file: truncated file"), true, "\(String(describing: error))")
    }

    func testRandomBytesAndEmptyFilesThrow() throws {
        var generator = SystemRandomNumberGenerator()
        let randomPath = temporaryPath("random.h5")
        let randomBytes = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(randomBytes).write(to: URL(fileURLWithPath: randomPath))
        let random = assertThrowsFileError(try HDF5File(opening: randomPath))
        XCTAssertEqual(random?.path, randomPath)
        XCTAssertEqual(random?.reason.hasPrefix("not an HDF5 file, or damaged: H5Fopen failed"), true, "\(String(describing: random))")

        let emptyPath = temporaryPath("empty.h5")
        try Data().write(to: URL(fileURLWithPath: emptyPath))
        XCTAssertEqual(assertThrowsFileError(try HDF5File(opening: emptyPath))?.path, emptyPath)

        // Read-write opening of a damaged file fails the same way.
        XCTAssertNotNil(assertThrowsFileError(try HDF5File(opening: randomPath, mode: .readWrite)))
    }

    func testMissingFileAndDirectoryThrow() throws {
        let missingPath = temporaryPath("missing.h5")
        let missing = assertThrowsFileError(try HDF5File(opening: missingPath))
        XCTAssertEqual(missing, FileError(missingPath, "no such file"))

        let directoryError = assertThrowsFileError(try HDF5File(opening: directory.path))
        XCTAssertEqual(directoryError?.reason, "is a directory, not an HDF5 file")

        let unwritable = temporaryPath("no/such/dir/file.h5")
        let createError = assertThrowsFileError(try HDF5File(creating: unwritable))
        XCTAssertEqual(createError?.path, unwritable)
        XCTAssertEqual(createError?.reason.hasPrefix("H5Fcreate failed"), true, "\(String(describing: createError))")
    }
}
