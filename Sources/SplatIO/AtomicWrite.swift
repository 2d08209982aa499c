import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers (and a crash) see either the old file or the complete new
/// one, never a partial write.
///
/// `body` receives a temporary path in the same directory as `path` (named
/// `.<file>.tmp-<pid>-<random>`, so the final rename stays on one filesystem and is atomic)
/// and must create the complete file there. Then the temporary file is fsync'ed, renamed over
/// `path`, and the directory is fsync'ed so the rename itself is durable.
///
/// An existing `path` that is not a regular file, or not writable, is refused before `body` runs
/// (`requireReplaceable`).
///
/// If `body` throws, or any step fails, the temporary file is removed, any existing file at
/// `path` is left untouched, and the error is rethrown (steps after `body` throw `FileError`).
/// The new file gets the permissions `body` created it with (the old file's are not copied).
///
/// Used by HDF5 checkpoint writes and PNG writes:
/// ```swift
/// try writeAtomically(to: "model.h5") { temporary in
///     let file = try HDF5File(creating: temporary)
///     try file.write(weights, to: "encoder/weight")
///     try file.close()
/// }
/// ```
public func writeAtomically(to path: String, _ body: (_ temporaryPath: String) throws -> Void) throws {
    try requireReplaceable(path)  // a folder, a device or a read-only file is never replaced (OutputPath.swift)
    let destination = URL(fileURLWithPath: path)
    let directory = destination.deletingLastPathComponent().path
    let name = destination.lastPathComponent
    let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let temporary = (directory as NSString).appendingPathComponent(".\(name).tmp-\(getpid())-\(random)")

    do {
        try body(temporary)
        guard FileManager.default.fileExists(atPath: temporary) else {
            throw FileError(path, "the writer did not create the temporary file \(temporary)")
        }
        try synchronize(temporary, reportingAs: path)
        guard rename(temporary, path) == 0 else {
            throw FileError(path, "cannot replace the file with \(temporary): \(systemErrorMessage())")
        }
    } catch {
        if unlink(temporary) != 0 && errno != ENOENT {
            // The primary error matters more; note the leftover in the message when possible.
            if let fileError = error as? FileError {
                throw FileError(fileError.path, fileError.reason + " (and the temporary file \(temporary) could not be removed)")
            }
        }
        throw error
    }
    try synchronizeDirectory(directory, reportingAs: path)
}

/// The process that owns a temporary file of `writeAtomically`, by its name
/// (`.<file>.tmp-<pid>-<random>`), or nil for any other name.
public func temporaryFileOwner(_ name: String) -> Int32? {
    guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
    let parts = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt64(parts[1], radix: 16) != nil else { return nil }
    return pid
}

/// Removes the temporary files of `writeAtomically` in `folder` whose writer is no longer
/// running (a run killed mid-save leaves one), and returns their names. Files of live processes
/// (another run writing here now) are kept; nothing else is touched.
@discardableResult
public func removeStaleTemporaryFiles(in folder: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    var removed: [String] = []
    for name in names.sorted() {
        guard let owner = temporaryFileOwner(name), owner != getpid(), kill(owner, 0) != 0, errno == ESRCH else { continue }
        if unlink((folder as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
    }
    return removed
}

/// fsync(2) on the file at `target`; failures are reported for `reportedPath`.
private func synchronize(_ target: String, reportingAs reportedPath: String) throws {
    let descriptor = open(target, O_RDONLY)
    guard descriptor >= 0 else {
        throw FileError(reportedPath, "cannot open \(target) to flush it: \(systemErrorMessage())")
    }
    defer { _ = close(descriptor) }  // read-only descriptor: nothing left to lose on close.
    guard fsync(descriptor) == 0 else {
        throw FileError(reportedPath, "fsync of \(target) failed: \(systemErrorMessage())")
    }
}

/// fsync(2) on a directory so a rename inside it survives a crash. Filesystems that cannot
/// sync directories (EINVAL) are accepted: the rename is still atomic there.
private func synchronizeDirectory(_ directory: String, reportingAs reportedPath: String) throws {
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
    guard descriptor >= 0 else {
        throw FileError(reportedPath, "cannot open directory \(directory) to flush it: \(systemErrorMessage())")
    }
    defer { _ = close(descriptor) }
    if fsync(descriptor) != 0 && errno != EINVAL {
        throw FileError(reportedPath, "fsync of directory \(directory) failed: \(systemErrorMessage())")
    }
}

private func systemErrorMessage() -> String {
    String(cString: strerror(errno))
}
