import Foundation
import NeuralNetwork
import SplatIO
import XCTest

/// RunFolder.prepare: which folders a new training run may take (issue 23: a run killed before
/// its first checkpoint leaves a folder that can be restarted; an earlier run's is refused).
final class RunFolderTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("RunFolderTests-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
        try super.tearDownWithError()
    }

    private func write(_ names: [String]) throws {
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    private func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

    func testMissingAndEmptyFoldersAreTaken() throws {
        XCTAssertEqual(try RunFolder.prepare(folder, resuming: false), [])
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        XCTAssertEqual(try RunFolder.prepare(folder, resuming: false), [])
    }

    func testARunKilledBeforeItsFirstCheckpointIsRestarted() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let left = ["config.yaml", "metrics.csv", "logs/events.out.tfevents.1765000000.host", ".last.h5.tmp-\(process.processIdentifier)-a1"]
        try write(left)
        XCTAssertEqual(try RunFolder.prepare(folder, resuming: false), [".last.h5.tmp-\(process.processIdentifier)-a1", "config.yaml",
                                                                      "logs", "metrics.csv"])
        XCTAssertEqual(try contents(), [])
    }

    func testAnEarlierRunIsRefusedWithTheResumeHint() throws {
        try write(["config.yaml", "last.h5", "best.h5"])
        let last = (folder as NSString).appendingPathComponent("last.h5")
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: false)) { error in
            XCTAssertEqual(error as? FileError, FileError(folder, "is not empty (3 entries); refusing to overwrite an earlier run: "
                                                          + "choose another --output, delete it, or continue it with --resume \(last)"))
        }
        XCTAssertEqual(try RunFolder.prepare(folder, resuming: true), [])
        XCTAssertEqual(try contents(), ["best.h5", "config.yaml", "last.h5"])
    }

    func testFilesOfTheUsersOwnAreNeverRemoved() throws {
        try write(["config.yaml", "notes.txt", "logs/plot.png"])
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: false)) { error in
            XCTAssertEqual(error as? FileError, FileError(folder, "is not empty and holds no checkpoint to resume (logs, notes.txt); "
                                                          + "choose another --output or delete it"))
        }
        XCTAssertEqual(try contents(), ["config.yaml", "logs", "notes.txt"])
    }

    func testAFolderAnotherLiveRunWritesIsRefused() throws {
        try write(["config.yaml", ".metrics.csv.tmp-1-ff"])  // pid 1 is alive
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: false)) { error in
            XCTAssertEqual(error as? FileError, FileError(folder, "another process (pid 1) is writing into this run folder; "
                                                          + "choose another --output"))
        }
    }

    func testAFileIsNotARunFolder() throws {
        try Data().write(to: URL(fileURLWithPath: folder))
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: true)) { error in
            XCTAssertEqual(error as? FileError, FileError(folder, "exists and is not a folder"))
        }
    }

    func testAFolderIsLockedWhileARunWritesIt() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var lock: RunFolder.Lock? = try RunFolder.Lock(folder: folder)
        XCTAssertNotNil(lock)
        try write(["config.yaml"])
        let inUse = FileError(folder, "is in use by another run (it holds .lock); wait for it to end or choose another --output")
        XCTAssertThrowsError(try RunFolder.Lock(folder: folder)) { XCTAssertEqual($0 as? FileError, inUse) }
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: false)) { XCTAssertEqual($0 as? FileError, inUse) }
        XCTAssertThrowsError(try RunFolder.prepare(folder, resuming: true)) { XCTAssertEqual($0 as? FileError, inUse) }
        XCTAssertEqual(try contents(), [".lock", "config.yaml"], "nothing removed while the run lives")
        lock = nil  // the run ends (or dies: the kernel drops the lock)
        XCTAssertEqual(try RunFolder.prepare(folder, resuming: false), [".lock", "config.yaml"])
        XCTAssertNotNil(try RunFolder.Lock(folder: folder))
    }
}
