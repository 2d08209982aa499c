import Foundation
import SplatIO
import TestSupport
import XCTest

/// `writeAtomically`: the destination is either the old file or the complete new one, and no
/// temporary file survives.
final class AtomicWriteTests: TemporaryDirectoryTestCase {
    private struct WriterFailed: Error {}

    func testSuccessReplacesTheFileAndLeavesNoTemporary() throws {
        let path = temporaryPath("state.txt")
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        var seenTemporary: String?
        try writeAtomically(to: path) { temporary in
            seenTemporary = temporary
            try "new".write(toFile: temporary, atomically: false, encoding: .utf8)
        }
        let temporaryName = try XCTUnwrap(seenTemporary.map { URL(fileURLWithPath: $0).lastPathComponent })
        XCTAssertTrue(temporaryName.hasPrefix(".state.txt.tmp-\(ProcessInfo.processInfo.processIdentifier)-"), temporaryName)
        XCTAssertEqual(URL(fileURLWithPath: seenTemporary!).deletingLastPathComponent().path, directory.path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
        XCTAssertEqual(try directoryEntries(), ["state.txt"])
    }

    func testFailureInBodyKeepsTheOldFileAndRemovesTheTemporary() throws {
        let path = temporaryPath("state.txt")
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try writeAtomically(to: path) { temporary in
            try "partial".write(toFile: temporary, atomically: false, encoding: .utf8)
            throw WriterFailed()
        }) { error in
            XCTAssertTrue(error is WriterFailed, "the body's own error must come back: \(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try directoryEntries(), ["state.txt"])
    }

    func testBodyThatWritesNothingThrowsFileError() throws {
        let path = temporaryPath("state.txt")
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        let error = assertThrowsFileError(try writeAtomically(to: path) { _ in })
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason.hasPrefix("the writer did not create the temporary file"), true)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try directoryEntries(), ["state.txt"])
    }

    func testFailedRenameRemovesTheTemporary() throws {
        // The destination becomes a non-empty directory while the body runs (a folder there from
        // the start is refused before the body: OutputPathTests), so rename(2) fails after it.
        let path = temporaryPath("occupied")
        let error = assertThrowsFileError(try writeAtomically(to: path) { temporary in
            try "new".write(toFile: temporary, atomically: false, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        })
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason.hasPrefix("cannot replace the file with"), true, "\(String(describing: error))")
        XCTAssertEqual(try directoryEntries(), ["occupied"])
    }

    func testHDF5CheckpointWrittenAtomically() throws {
        let path = temporaryPath("checkpoint.h5")
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write([Float](arrayLiteral: 1, 2, 3), shape: [3], to: "weights")
            try file.close()
        }
        // A failing second write leaves the first checkpoint readable.
        XCTAssertThrowsError(try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write([Float](arrayLiteral: 9), shape: [1], to: "weights")
            throw WriterFailed()
        })
        let file = try HDF5File(opening: path)
        XCTAssertEqual(try file.read(Float.self, from: "weights").values, [1, 2, 3])
        XCTAssertEqual(try directoryEntries(), ["checkpoint.h5"])
    }
}
