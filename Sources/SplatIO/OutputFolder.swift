import Foundation

// The one way SplatKit makes a folder it writes into: created with its parents when missing,
// accepted when it is already a folder (less the temporary files of writers killed mid-write),
// and a clear error naming it otherwise.

/// Makes sure `folder` exists as a folder (creating it and its parents); `purpose` names it in
/// the error ("report folder", "log folder", …). In an existing folder, the temporary files that
/// killed writers left behind are removed (`removeStaleTemporaryFiles`).
public func createOutputFolder(_ folder: String, purpose: String = "output folder") throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw FileError(folder, "exists and is not a folder (wanted as the \(purpose))") }
        removeStaleTemporaryFiles(in: folder)
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw FileError(folder, "cannot create the \(purpose): \(error.localizedDescription)")
    }
}
