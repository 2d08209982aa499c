import Foundation
import XCTest

/// A test case with a fresh directory under the system temporary directory, removed after
/// each test.
open class TemporaryDirectoryTestCase: XCTestCase {
    public private(set) var directory: URL!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SplatKitTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        try super.tearDownWithError()
    }

    /// The path of `name` inside this test's directory.
    public func temporaryPath(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// The names of the entries in this test's directory (including hidden ones), sorted.
    public func directoryEntries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }
}
