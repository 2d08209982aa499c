import Foundation
import SplatIO
import TestSupport
import XCTest

/// Global heaps in unsealed files (HDF5File+GlobalHeapCheck.swift): the files SplatKit writes
/// unsealed hold none, and a damaged one in any other unsealed file is a `FileError` naming the
/// file before libhdf5 can loop on it. Every open that could loop runs under a deadline.
final class HDF5GlobalHeapTests: TemporaryDirectoryTestCase {
    private let strings = ["format": "splatkit-dataset", "recipe": "imagegs", "note": "naïve ✓ 名前", "empty": ""]

    /// A file with string attributes in a global heap, unsealed: written sealed (strings
    /// variable-length), then its seal cleared, as h5py's files and older datasets are.
    /// Returns the path and the offset of its one collection, whose objects are "splatkit-dataset"
    /// (bytes 16..<48 of it), then "imagegs" (48..<72), then the others.
    private func writeUnsealedFileWithAHeap(_ name: String) throws -> (path: String, heap: Int) {
        let path = temporaryPath(name)
        let file = try HDF5File(creating: path)
        try file.write([1, 2, 3] as [Float], shape: [3], to: "values")
        for name in ["format", "recipe", "note", "empty"] { try file.setAttribute(name, to: strings[name]!) }
        try file.close()
        try clearSeal(of: path)
        let heaps = try globalHeapOffsets(in: path)
        XCTAssertEqual(heaps.count, 1)
        return (path, try XCTUnwrap(heaps.first))
    }

    private func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: bytes)
    }

    private func littleEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    /// The error of opening `path` (read-only and for writing), each within a deadline.
    private func openingError(_ path: String, line: UInt = #line) -> [FileError?] {
        [HDF5File.AccessMode.readOnly, .readWrite].map { mode in
            switch withinDeadline(seconds: 10, line: line, { try HDF5File(opening: path, mode: mode) }) {
            case .failure(let error as FileError): return error
            case .failure(let error): XCTFail("expected a FileError, got \(error)", line: line); return nil
            case .success: XCTFail("\(path) opened", line: line); return nil
            }
        }
    }

    func testStringsOfAnUnsealedFileNeedNoGlobalHeap() throws {
        for sealed in [false, true] {
            let path = temporaryPath(sealed ? "sealed.h5" : "unsealed.h5")
            let file = try HDF5File(creating: path, sealed: sealed)
            for (name, value) in strings { try file.setAttribute(name, to: value) }
            try file.close()
            // Unsealed: fixed-length strings, no heap at all; sealed: variable-length, in one heap.
            XCTAssertEqual(try globalHeapOffsets(in: path).count, sealed ? 1 : 0, path)
            let reopened = try HDF5File(opening: path)
            for (name, value) in strings { XCTAssertEqual(try reopened.stringAttribute(name), value, "\(path) \(name)") }
        }
    }

    func testAnIntactHeapOfAnUnsealedFileReadsAndCanBeWritten() throws {
        let (path, _) = try writeUnsealedFileWithAHeap("intact.h5")
        let file = try HDF5File(opening: path, mode: .readWrite)
        for (name, value) in strings { XCTAssertEqual(try file.stringAttribute(name), value, name) }
        try file.setAttribute("added", to: "later")
        try file.close()
        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.stringAttribute("added"), "later")
        XCTAssertEqual(try reopened.stringAttribute("format"), "splatkit-dataset")
    }

    /// The damage libhdf5 1.10 loops on forever (scripts/fuzz found it in a spliced dataset).
    func testFreeSpaceOfSizeZeroIsAFileErrorNotAnEndlessLoop() throws {
        let (path, heap) = try writeUnsealedFileWithAHeap("endless.h5")
        try makeFirstHeapObjectEndlessFreeSpace(in: path, collectionAt: heap)
        let expected = FileError(path, "damaged: the global heap collection at byte \(heap) has free space at byte \(heap + 16) "
                                 + "of 0 bytes, less than its own header (HDF5 checksums no global heap; libhdf5 would loop or "
                                 + "read out of bounds on it)")
        XCTAssertEqual(openingError(path), [expected, expected])
    }

    func testObjectsPastTheCollectionOrTwiceAndSmallCollectionsAreFileErrors() throws {
        let suffix = " (HDF5 checksums no global heap; libhdf5 would loop or read out of bounds on it)"
        let damages: [(name: String, damage: (String, Int) throws -> Void, reason: (Int) -> String)] = [
            ("past-the-end.h5", { try self.overwrite($0, at: $1 + 24, with: self.littleEndian(5000)) },
             { "has an object at byte \($0 + 16) larger than the 4080 bytes left in the collection" }),
            ("padded-past-the-end.h5", { try self.overwrite($0, at: $1 + 24, with: self.littleEndian(4065)) },
             { "has an object at byte \($0 + 16) of 4088 bytes, more than the 4080 left in the collection" }),
            ("twice.h5", { try self.overwrite($0, at: $1 + 48, with: [1, 0]) }, { _ in "holds object 1 twice" }),
            ("misaligned.h5", { try self.overwrite($0, at: $1 + 24, with: self.littleEndian(8)) },
             { "has an object header at byte \($0 + 40) with non-zero reserved bytes" }),
            ("small.h5", { try self.overwrite($0, at: $1 + 8, with: self.littleEndian(200)) },
             { _ in "is 200 bytes, under HDF5's minimum of 4096" }),
        ]
        for (name, damage, reason) in damages {
            let (path, heap) = try writeUnsealedFileWithAHeap(name)
            try damage(path, heap)
            let expected = FileError(path, "damaged: the global heap collection at byte \(heap) \(reason(heap))" + suffix)
            XCTAssertEqual(openingError(path), [expected, expected], name)
        }
    }

    /// A collection whose size runs past the end of the file is libhdf5's to refuse: it reads
    /// nothing past the file's end, so it cannot loop on it. (Read on this thread: HDF5's
    /// printing of its errors is switched off per thread.)
    func testACollectionPastTheEndOfTheFileIsLibhdf5sError() throws {
        let (path, heap) = try writeUnsealedFileWithAHeap("beyond.h5")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        try overwrite(path, at: heap + 8, with: littleEndian(UInt64(size - heap + 8)))
        let error = assertThrowsFileError(try HDF5File(opening: path).stringAttribute("format"))
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason.contains("exceeds EOA"), true, "\(String(describing: error))")
    }
}
