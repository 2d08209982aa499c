import EntropyCoding
import Foundation

// A CRC-32 over every byte of a finished HDF5 file, kept in the file's user block.
//
// HDF5 1.10 trusts its own metadata: a few flipped bits in an object header or a B-tree can
// make the C library read wild pointers (SIGSEGV) rather than fail, and flipped bits in raw data
// are read back silently. So files written once (sets, checkpoints, models, latents, features)
// are sealed: `HDF5File(creating:)` reserves a 512-byte user block at the start of the file
// (HDF5 looks for its superblock at 0, 512, 1024 …, so h5py and every HDF5 tool still read
// the file), and `close()` writes into it
//
//   bytes 0..<16    "SPLATKIT-CRC32\n\0"
//   bytes 16..<24   UInt64 little-endian: the length of the checksummed part (the file from 512)
//   bytes 24..<28   UInt32 little-endian: its CRC-32 (EntropyCoding/CRC32.swift)
//   the rest        zeros
//
// `HDF5File(opening:)` checks a sealed file before HDF5 reads a byte of it: a damaged, truncated
// or extended file is a `FileError` naming it. Files without the seal (older files, h5py's,
// streaming datasets, which grow while a build runs and must survive being killed) open as before,
// once their global heaps, which HDF5 checksums nowhere, are walked (HDF5File+GlobalHeapCheck.swift).
// Opening a sealed file for writing removes the seal first and writes a new one at `close()`,
// so a run killed in between leaves an unsealed file, never a wrong seal.

enum HDF5FileSeal {
    /// HDF5 user blocks are powers of two from 512 bytes.
    static let userBlockSize = 512
    static let magic: [UInt8] = Array("SPLATKIT-CRC32\n\0".utf8)
    /// Bytes read at a time while checksumming.
    static let pieceSize = 1 << 20

    /// Writes the seal of the closed file at `path` (created with a user block).
    static func seal(_ path: String) throws {
        let handle = try openHandle(path, forWriting: true)
        defer { try? handle.close() }
        let (length, crc) = try checksum(of: handle, path: path)
        var header = magic
        header += withUnsafeBytes(of: UInt64(length).littleEndian, Array.init)
        header += withUnsafeBytes(of: crc.littleEndian, Array.init)
        do {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header)
            try handle.synchronize()
        } catch {
            throw FileError(path, "cannot write the checksum into the file: \(error.localizedDescription)")
        }
    }

    /// Checks the seal of the file at `path`; returns whether it had one. A file too short for
    /// a user block, or whose first bytes are not the seal's magic, has none.
    @discardableResult
    static func verify(_ path: String) throws -> Bool {
        let handle = try openHandle(path, forWriting: false)
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: userBlockSize), header.count == userBlockSize else { return false }
        let bytes = Array(header)
        guard Array(bytes.prefix(16)) == magic else {
            // A magic a few bytes away from the seal's is a damaged seal, not a file without one.
            let differing = zip(bytes.prefix(16), magic).filter { $0 != $1 }.count
            if differing <= 4 { throw FileError(path, "damaged: the checksum's header was changed after the file was written") }
            return false
        }
        guard bytes[28...].allSatisfy({ $0 == 0 }) else {
            throw FileError(path, "damaged: the checksum's header was changed after the file was written")
        }
        let storedLength = bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let storedCRC = bytes[24..<28].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let (length, crc) = try checksum(of: handle, path: path)
        guard UInt64(length) == storedLength else {
            throw FileError(path, "damaged: \(length + userBlockSize) bytes, but \(storedLength + UInt64(userBlockSize)) "
                            + "were written (the file was truncated or extended after it was written)")
        }
        guard crc == storedCRC else {
            throw FileError(path, "damaged: its CRC-32 is \(hex(crc)) but \(hex(storedCRC)) was written "
                            + "(the file was changed or corrupted after it was written)")
        }
        return true
    }

    /// Zeroes the seal of the file at `path`, before it is modified in place.
    static func removeSeal(_ path: String) throws {
        let handle = try openHandle(path, forWriting: true)
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: [UInt8](repeating: 0, count: magic.count))
            try handle.synchronize()
        } catch {
            throw FileError(path, "cannot clear the checksum before writing: \(error.localizedDescription)")
        }
    }

    /// The length and CRC-32 of everything after the user block.
    private static func checksum(of handle: FileHandle, path: String) throws -> (length: Int, crc: UInt32) {
        var crc: UInt32 = 0, length = 0
        do {
            try handle.seek(toOffset: UInt64(userBlockSize))
            while let piece = try handle.read(upToCount: pieceSize), !piece.isEmpty {
                crc = piece.withUnsafeBytes { crc32($0, continuing: crc) }
                length += piece.count
            }
        } catch {
            throw FileError(path, "cannot read the file to check it: \(error.localizedDescription)")
        }
        return (length, crc)
    }

    private static func openHandle(_ path: String, forWriting: Bool) throws -> FileHandle {
        let url = URL(fileURLWithPath: path)
        do {
            return forWriting ? try FileHandle(forUpdating: url) : try FileHandle(forReadingFrom: url)
        } catch {
            throw FileError(path, "cannot open the file \(forWriting ? "for writing" : "to read"): \(error.localizedDescription)")
        }
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
