import Foundation

// Whole small files as bytes: read with a size bound checked first, written atomically.

/// The bytes of the regular file at `path`, refusing (with a `FileError` naming it) a missing or
/// unreadable file, something that is not a regular file, or one over `maximumBytes` — checked
/// before anything is read. `what` names the kind of file in the size error ("compressed files").
public func readBoundedFile(at path: String, maximumBytes: Int, what: String) throws -> [UInt8] {
    let attributes: [FileAttributeKey: Any]
    do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
        throw FileError(path, "cannot be read (\(FileManager.default.fileExists(atPath: path) ? "no permission" : "no such file"))")
    }
    guard attributes[.type] as? FileAttributeType == .typeRegular else { throw FileError(path, "is not a regular file") }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    guard size <= maximumBytes else { throw FileError(path, "is \(size) bytes; \(what) are at most \(maximumBytes) bytes") }
    guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path, "cannot be read") }
    return [UInt8](data)
}

/// Writes `bytes` to `path` atomically (`writeAtomically`): the old file or the whole new one.
public func writeBytesAtomically(_ bytes: [UInt8], to path: String) throws {
    let data = Data(bytes)
    try writeAtomically(to: path) { temporary in
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { throw FileError(path, "cannot be written") }
    }
}
