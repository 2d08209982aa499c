import Foundation
import SplatIO
import XCTest

/// A test case with a fresh directory under the system temporary directory, removed after
/// each test.
class TemporaryDirectoryTestCase: XCTestCase {
    private(set) var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SplatIOTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        try super.tearDownWithError()
    }

    /// The path of `name` inside this test's directory.
    func temporaryPath(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// The names of the entries in this test's directory (including hidden ones), sorted.
    func directoryEntries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    /// Runs `body`, which must throw a `FileError`, and returns that error.
    @discardableResult
    func assertThrowsFileError(
        _ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line
    ) -> FileError? {
        do {
            _ = try body()
            XCTFail("expected a FileError, but nothing was thrown", file: file, line: line)
            return nil
        } catch let error as FileError {
            return error
        } catch {
            XCTFail("expected a FileError, got \(type(of: error)): \(error)", file: file, line: line)
            return nil
        }
    }
}
