import Foundation
import SplatIO
import TestSupport
import XCTest

extension TemporaryDirectoryTestCase {
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
