import Foundation
import SplatIO

// .sgi files: reading checks the size before reading and names the file in every error; writing
// is atomic (a temporary file renamed into place), so a failed run leaves nothing half-written.

extension CompressedGaussianImage {
    /// The largest .sgi file read (a 16384² image at 8 bits per pixel is 256 MiB).
    public static let maximumFileBytes = 256 << 20

    /// Reads and validates an .sgi file.
    public init(contentsOf path: String) throws {
        try self.init(bytes: try readBoundedFile(at: path, maximumBytes: Self.maximumFileBytes, what: "compressed images"), readFrom: path)
    }

    /// Validates the bytes of the .sgi file at `path`, already read (errors name the file).
    public init(bytes: [UInt8], readFrom path: String) throws {
        do { try self.init(bytes: bytes) } catch let error as CodecError {
            throw FileError(path, error.description)
        }
    }

    /// Writes the stream to `path` atomically.
    public func write(to path: String) throws { try writeBytesAtomically(bytes, to: path) }
}
