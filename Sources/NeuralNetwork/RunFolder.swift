import Foundation
import SplatIO

// The folder a training run (train, train-inpaint) writes: which folders a new run may take.
//
// A new run takes a missing or empty folder. A folder that holds a checkpoint belongs to an
// earlier run: it is refused, pointing at --resume when there is a last.h5 to resume. A folder
// that holds only what a run writes before its first checkpoint (`runStartFiles`, TensorBoard
// event files under logs/, and `writeAtomically`'s temporary files) is a run killed before it
// saved anything: nothing in it can be resumed, so those files are removed and the new run
// starts there. Anything else in the folder (a file the user put there) is never removed.

public enum RunFolder {
    /// What the trainers write into a run folder before the first checkpoint.
    public static let runStartFiles: Set<String> = ["config.yaml", "metrics.csv", "validation.txt", "train.csv", "validation.csv"]
    /// The TensorBoard folder, restartable when it holds only event files.
    public static let logFolder = "logs"
    /// The checkpoint a run is resumed from.
    public static let lastCheckpointName = "last.h5"

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
        if runStartFiles.contains(name) || temporaryFileOwner(name) != nil { return true }
        guard name == logFolder else { return false }
        let logs = (folder as NSString).appendingPathComponent(name)
        guard let events = try? FileManager.default.contentsOfDirectory(atPath: logs) else { return false }
        return events.allSatisfy { $0.hasPrefix("events.out.tfevents.") || temporaryFileOwner($0) != nil }
    }
}
