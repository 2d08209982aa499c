import Foundation
import SplatIO
import TestSupport
import XCTest

/// `writeAtomically`'s temporary files (`.<file>.tmp-<pid>-<random>`) of writers that died are
/// removed when a folder is next prepared for writing; those of live writers are kept.
final class StaleTemporaryFilesTests: TemporaryDirectoryTestCase {
    /// The pid of a process that has exited.
    private func deadProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    func testTemporaryFileNamesAreRecognised() {
        XCTAssertEqual(temporaryFileOwner(".last.h5.tmp-1234-9f3a"), 1234)
        XCTAssertEqual(temporaryFileOwner(".a.tmp-b.png.tmp-77-0"), 77)
        for name in ["last.h5", ".last.h5", "last.h5.tmp-12-ab", ".x.tmp-12", ".x.tmp-abc-12", ".x.tmp-12-xyz", ".x.tmp--5-1"] {
            XCTAssertNil(temporaryFileOwner(name), name)
        }
    }

    func testStaleFilesOfDeadWritersAreRemovedOnTheNextRun() throws {
        let dead = try deadProcessID()
        let folder = temporaryPath("run")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let names = [".last.h5.tmp-\(dead)-1f", ".best.h5.tmp-\(dead)-2e", ".mine.h5.tmp-\(getpid())-3d",
                     ".live.h5.tmp-1-4c", "last.h5", ".hidden"]
        for name in names { try Data("x".utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name))) }

        try createOutputFolder(folder, purpose: "run folder")
        // pid 1 (init) is alive; this process's own temporary files are its business.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(),
                       [".hidden", ".live.h5.tmp-1-4c", ".mine.h5.tmp-\(getpid())-3d", "last.h5"])
        XCTAssertEqual(removeStaleTemporaryFiles(in: folder), [])
    }
}
