import Foundation

// Files the repository ships beside the code (models/…), found from the running executable:
// `swift build` puts it at .build/<triple>/<config>/splatkit (or .build/<config>/…), so the
// repository is two to four folders up; the current folder is the last resort.

/// Where the shipped file at `relativePath` (inside the repository) is looked for, in order.
public func shippedFileCandidates(_ relativePath: String, executable: String = CommandLine.arguments[0]) -> [String] {
    let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
    var candidates: [String] = []
    var folder = resolved
    for _ in 0..<4 {
        folder = folder.deletingLastPathComponent()
        candidates.append(folder.appendingPathComponent(relativePath).path)
    }
    candidates.append(FileManager.default.currentDirectoryPath + "/" + relativePath)
    return candidates
}

/// The first existing candidate of `shippedFileCandidates`, or a `FileError` that lists where
/// it looked and says what to pass instead.
public func locateShippedFile(_ relativePath: String, instead: String) throws -> String {
    let candidates = shippedFileCandidates(relativePath)
    guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
        throw FileError(relativePath, "the shipped file was not found (looked in \(candidates.joined(separator: ", "))); \(instead)")
    }
    return found
}
