import Foundation
import SplatIO

// .sgi files: reading checks the size before reading and names the file in every error; writing
// is atomic (a temporary file renamed into place), so a failed run leaves nothing half-written.

extension CompressedGaussianImage {
    /// The largest .sgi file read (a 16384² image at 8 bits per pixel is 256 MiB).
    public static let maximumFileBytes = 256 << 20

    /// Reads and validates an .sgi file.
    public init(contentsOf path: String) throws {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw FileError(path, "cannot be read (\(FileManager.default.fileExists(atPath: path) ? "no permission" : "no such file"))")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw FileError(path, "is not a regular file") }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= Self.maximumFileBytes else {
            throw FileError(path, "is \(size) bytes; compressed images are at most \(Self.maximumFileBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path, "cannot be read") }
        do { try self.init(bytes: [UInt8](data)) } catch let error as CodecError {
            throw FileError(path, error.description)
        }
    }

    /// Writes the stream to `path` atomically.
    public func write(to path: String) throws {
        let data = Data(bytes)
        try writeAtomically(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw FileError(path, "cannot be written")
            }
        }
    }
}
