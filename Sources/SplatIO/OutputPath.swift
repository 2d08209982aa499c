import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Where SplatKit may write a file. One home for every command's checks:
//   - an output never replaces one of the command's inputs (`requireOutputs(_:notAmong:)`: the
//     same file by device and inode, so another spelling, a symbolic or a hard link is caught);
//   - an existing output is replaced only when it is a regular file that may be written
//     (`requireReplaceable`, which `writeAtomically` runs before it writes anything): a folder,
//     a device, a FIFO or a socket is refused, and so is a file whose permissions forbid
//     writing (read-only, 0444), which a rename would otherwise replace silently — even for
//     root, whom the kernel would let write.

/// Throws a `FileError` naming the output when one of `outputs` is one of `inputs`, or another
/// of `outputs`, or cannot be replaced (see `requireReplaceable`). Every command that writes
/// checks its outputs (nil: an optional output not asked for) with this before it reads or
/// computes anything.
public func requireOutputs(_ outputs: [String?], notAmong inputs: [String?]) throws {
    let outputs = outputs.compactMap { $0 }, inputs = inputs.compactMap { $0 }
    for (index, output) in outputs.enumerated() {
        for input in inputs where isSameFile(output, input) {
            throw FileError(output, "is an input of this command (\(input)); choose another output path")
        }
        for other in outputs[..<index] where isSameFile(output, other) {
            throw FileError(output, "is also another output of this command (\(other)); give each output its own path")
        }
        try requireReplaceable(output)
    }
}

/// Throws a `FileError` when `path` exists and is not a regular file, or is a regular file whose
/// permission bits allow nobody to write it. A missing path passes.
public func requireReplaceable(_ path: String) throws {
    var status = stat()
    guard stat(path, &status) == 0 else { return }  // missing (or unreachable: the write will say why)
    let kind = status.st_mode & S_IFMT
    guard kind == S_IFREG else {
        throw FileError(path, "exists and is \(fileKindName(kind)), not a regular file; choose another output path")
    }
    guard status.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH) != 0, access(path, W_OK) == 0 else {
        throw FileError(path, "exists and is not writable (its permissions forbid it); it is left as it is: "
                        + "make it writable, remove it, or choose another output path")
    }
}

/// Whether `a` and `b` name the same file: the same device and inode when both exist, else the
/// same absolute path once symbolic links and `.`/`..` are resolved.
public func isSameFile(_ a: String, _ b: String) -> Bool {
    var first = stat(), second = stat()
    if stat(a, &first) == 0, stat(b, &second) == 0 {
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }
    func resolved(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardized.path }
    return resolved(a) == resolved(b)
}

private func fileKindName(_ kind: mode_t) -> String {
    switch kind {
    case S_IFDIR: return "a folder"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "of an unknown kind"
    }
}
