import Foundation
import SplatIO
#if canImport(Glibc)
import Glibc
#endif

// The folder a training run (train, train-inpaint) writes: which folders a new run may take.
//
// A new run takes a missing or empty folder. A folder that holds a checkpoint belongs to an
// earlier run: it is refused, pointing at --resume when there is a last.h5 to resume. A folder
// that holds only what a run writes before its first checkpoint (`runStartFiles`, TensorBoard
// event files under logs/, and `writeAtomically`'s temporary files) is a run killed before it
// saved anything: nothing in it can be resumed, so those files are removed and the new run
// starts there. Anything else in the folder (a file the user put there) is never removed.
//
// While a run writes its folder it holds an exclusive flock(2) on `<folder>/.lock`
// (`RunFolder.Lock`); a second run into the same folder, new or resumed, is refused while the
// first lives (the kernel drops the lock when a process dies, even by SIGKILL).

public enum RunFolder {
    /// What the trainers write into a run folder before the first checkpoint.
    public static let runStartFiles: Set<String> = ["config.yaml", "metrics.csv", "validation.txt", "train.csv", "validation.csv"]
    /// The TensorBoard folder, restartable when it holds only event files.
    public static let logFolder = "logs"
    /// The checkpoint a run is resumed from.
    public static let lastCheckpointName = "last.h5"
    /// The file whose flock marks a folder in use by a run.
    public static let lockName = ".lock"

    /// An exclusive flock on a run folder's `.lock`, held until this is released (deinit).
    public final class Lock {
        private let descriptor: Int32

        /// Takes the lock of `folder` (which must exist), or throws a `FileError` when another
        /// process holds it.
        public init(folder: String) throws {
            let path = (folder as NSString).appendingPathComponent(RunFolder.lockName)
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw FileError(path, "cannot open the run folder's lock: \(String(cString: strerror(errno)))")
            }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                _ = close(descriptor)
                throw FileError(folder, "is in use by another run (it holds \(RunFolder.lockName)); wait for it to end or "
                                + "choose another --output")
            }
        }

        deinit { _ = close(descriptor) }  // closing releases the flock
    }

    /// Checks that `folder` (which may be missing) may take a run: any folder when `resuming`,
    /// else a missing or empty one, or one a run killed before its first checkpoint left (whose
    /// files are then removed; their names are returned).
    ///
    /// - Throws: `FileError` naming `folder` when it is not a folder, or holds an earlier run or
    ///   files of its own.
    @discardableResult
    public static func prepare(_ folder: String, resuming: Bool) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw FileError(folder, "exists and is not a folder") }
        if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(lockName)) {
            _ = try Lock(folder: folder)  // throws while another run holds it; released at once
        }
        guard !resuming else { return [] }
        let contents = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        guard !contents.isEmpty else { return [] }
        let last = (folder as NSString).appendingPathComponent(lastCheckpointName)
        if FileManager.default.fileExists(atPath: last) {
            throw FileError(folder, "is not empty (\(contents.count) entries); refusing to overwrite an earlier run: choose another "
                            + "--output, delete it, or continue it with --resume \(last)")
        }
        if let writer = contents.compactMap(temporaryFileOwner).first(where: { $0 != getpid() && kill($0, 0) == 0 }) {
            throw FileError(folder, "another process (pid \(writer)) is writing into this run folder; choose another --output")
        }
        let foreign = contents.filter { !isRunStartEntry($0, in: folder) }
        guard foreign.isEmpty else {
            throw FileError(folder, "is not empty and holds no checkpoint to resume (\(foreign.prefix(3).joined(separator: ", "))"
                            + "\(foreign.count > 3 ? ", …" : "")); choose another --output or delete it")
        }
        for name in contents {
            let path = (folder as NSString).appendingPathComponent(name)
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw FileError(path, "cannot remove what a killed run left before its first checkpoint: \(error.localizedDescription)")
            }
        }
        return contents
    }

    /// Whether `name` in `folder` is something a run writes before its first checkpoint.
    private static func isRunStartEntry(_ name: String, in folder: String) -> Bool {
        if runStartFiles.contains(name) || name == lockName || temporaryFileOwner(name) != nil { return true }
        guard name == logFolder else { return false }
        let logs = (folder as NSString).appendingPathComponent(name)
        guard let events = try? FileManager.default.contentsOfDirectory(atPath: logs) else { return false }
        return events.allSatisfy { $0.hasPrefix("events.out.tfevents.") || temporaryFileOwner($0) != nil }
    }
}
