import Foundation

// Lists of file names (image lists of evaluations and training splits): one name a line, blank
// lines and lines starting with `#` ignored, surrounding spaces trimmed. A name may hold
// subfolders ("photos/a.png"), relative to the folder the list is used with.

/// The names listed in the file at `path` (at most 16 MiB; errors name the file).
public func readNameList(at path: String) throws -> [String] {
    let bytes = try readBoundedFile(at: path, maximumBytes: 16 << 20, what: "name lists")
    guard let text = String(bytes: bytes, encoding: .utf8) else { throw FileError(path, "is not UTF-8 text (a list of file names)") }
    return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
}

/// The sorted names of the PNG files directly in `folder` (a `FileError` naming it when it is
/// not a readable folder).
public func pngNames(in folder: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw FileError(folder, "no such folder")
    }
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { throw FileError(folder, "is not a readable folder") }
    return names.filter { $0.lowercased().hasSuffix(".png") }.sorted()
}
