import Foundation

/// A problem with a file the user gave or asked for: it names the file and what is wrong.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The UTF-8 text of the file at `path`.
///
/// - Parameter missingHint: appended to the reason when there is no such file (what to do).
/// - Throws: `FileError` naming `path`: no such file, a folder, or not readable as UTF-8 text.
public func readTextFile(_ path: String, missingHint: String = "") throws -> String {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw FileError(path, "no such file" + missingHint)
    }
    guard !isFolder.boolValue else { throw FileError(path, "is a folder, not a file") }
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw FileError(path, "cannot read as UTF-8 text: \(error.localizedDescription)")
    }
}
