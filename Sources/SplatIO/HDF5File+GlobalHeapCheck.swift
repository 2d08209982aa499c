import Foundation

// A bounded walk of the global heap collections of an unsealed HDF5 file, before libhdf5 reads it.
//
// Variable-length strings (attributes that h5py writes, and that SplatKit wrote into datasets
// before their strings became fixed-length) live in global heap collections: the one part of an
// HDF5 file that the 1.8+ format leaves without a checksum.
// libhdf5 1.10 decodes a collection's objects in a loop that trusts their sizes: a free-space
// object of size 0 never advances (the endless loop scripts/fuzz found in spliced datasets; the
// rerun of a build whose heap is so damaged hangs too), and a size past the collection's end
// makes it copy bytes from past its buffer. Sealed files are safe (their CRC-32 is checked first); for every other file
// `HDF5File(opening:)` runs `verify` first, which finds each place libhdf5 could load a
// collection from and walks it, bounded by the collection's end and the file's.
//
// A collection (HDF5 file format specification, "Global Heap"; L = the superblock's size of
// lengths, 8 in every file SplatKit or h5py writes):
//
//   "GCOL", version 1, 3 reserved bytes, the collection's size (L bytes, counted from "GCOL")
//   objects, one after another:
//     index (UInt16), reference count (UInt16), 4 reserved zero bytes, size (L bytes),
//     then the object's bytes, padded with zeros to a multiple of 8
//   index 0 is the free space: its size counts its own header, and it runs to the end; fewer
//   than 8 + L bytes left at the end are free space without a header
//
// libhdf5 loads a collection only from an address that holds "GCOL" and version 1, and reads
// nothing past the end of the file (its open checks the stored end against the file's length),
// so every other place is left to libhdf5's own errors. The walk refuses what libhdf5 never
// writes: a collection under its 4096-byte minimum, an object or free space that does not fit
// before the collection's end, free space smaller than its header, an index used twice, and
// non-zero reserved bytes (what an object header read from the middle of an object shows).
// What no walk can see is which object each string names and how long it is (that is in the
// object headers, checksummed in 1.8+ files): libhdf5 copies an object whole into a buffer of
// the string's length. So SplatKit writes no global heap into a file it does not seal
// (HDF5File+Attributes.swift), and this walk guards the files written before, and h5py's.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum HDF5GlobalHeapCheck {
    static let signature: [UInt8] = Array("GCOL".utf8)
    static let version: UInt8 = 1
    /// libhdf5 makes every collection at least this large (H5HG_MINSIZE).
    static let minimumCollectionSize = 4096
    /// Bytes read at a time while looking for collections.
    static let pieceSize = 1 << 20

    /// Throws a `FileError` naming `path` when a global heap collection of the file would make
    /// libhdf5 loop or read out of bounds. A file without HDF5's superblock passes (H5Fopen
    /// refuses it).
    static func verify(_ path: String) throws {
        var file = try FileWindow(path: path)
        defer { file.close() }
        guard let superblock = try HDF5Superblock(in: &file) else { return }
        for offset in try candidateOffsets(in: &file, from: superblock.offset) {
            if let problem = try problem(ofCollectionAt: offset, lengthSize: superblock.lengthSize, in: &file) {
                throw FileError(path, "damaged: the global heap collection at byte \(offset) \(problem) (HDF5 checksums "
                                + "no global heap; libhdf5 would loop or read out of bounds on it)")
            }
        }
    }

    /// The offsets from `start` on that hold "GCOL" and version 1.
    private static func candidateOffsets(in file: inout FileWindow, from start: Int) throws -> [Int] {
        var offsets: [Int] = []
        var pieceStart = start
        while pieceStart + signature.count < file.length {
            // Each piece overlaps the next by the signature and version, so none is missed at a seam.
            let count = min(pieceSize + signature.count, file.length - pieceStart)
            let piece = Array(try file.bytes(at: pieceStart, count: count))
            piece.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var searched = 0
                let lastStart = min(pieceSize - 1, count - signature.count - 1)  // its version byte in the piece too
                while searched <= lastStart,
                      let found = memchr(base + searched, Int32(signature[0]), lastStart - searched + 1) {
                    let offset = base.distance(to: UnsafeRawPointer(found))
                    if bytes[offset + 1] == signature[1], bytes[offset + 2] == signature[2], bytes[offset + 3] == signature[3],
                       bytes[offset + 4] == version {
                        offsets.append(pieceStart + offset)
                    }
                    searched = offset + 1
                }
            }
            pieceStart += pieceSize
        }
        return offsets
    }

    /// What is wrong with the collection at `start` (nil when nothing is, or when libhdf5 cannot
    /// load it at all: its size runs past the end of the file).
    private static func problem(ofCollectionAt start: Int, lengthSize: Int, in file: inout FileWindow) throws -> String? {
        let headerSize = 8 + lengthSize  // signature, version, reserved, size
        guard file.length - start >= headerSize else { return nil }
        let header = try file.bytes(at: start, count: headerSize)
        guard let size = littleEndian(header.dropFirst(8)), size <= UInt64(file.length - start) else { return nil }
        guard size >= UInt64(minimumCollectionSize) else {
            return "is \(size) bytes, under HDF5's minimum of \(minimumCollectionSize)"
        }
        let end = start + Int(size), objectHeaderSize = 8 + lengthSize
        var position = start + headerSize
        var indices = Set<Int>()
        while end - position >= objectHeaderSize {
            let object = try file.bytes(at: position, count: objectHeaderSize)
            let index = Int(object[object.startIndex]) | Int(object[object.startIndex + 1]) << 8
            guard object.dropFirst(4).prefix(4).allSatisfy({ $0 == 0 }) else {
                return "has an object header at byte \(position) with non-zero reserved bytes"
            }
            let room = end - position
            guard let objectSize = littleEndian(object.dropFirst(8)), objectSize <= UInt64(room) else {
                return "has an object at byte \(position) larger than the \(room) bytes left in the collection"
            }
            let extent: Int
            if index == 0 {
                guard objectSize >= UInt64(objectHeaderSize) else {
                    return "has free space at byte \(position) of \(objectSize) bytes, less than its own header"
                }
                extent = Int(objectSize)
            } else {
                guard indices.insert(index).inserted else { return "holds object \(index) twice" }
                extent = objectHeaderSize + (Int(objectSize) + 7) / 8 * 8
                guard extent <= room else {
                    return "has an object at byte \(position) of \(extent) bytes, more than the \(room) left in the collection"
                }
            }
            position += extent
        }
        return nil
    }

    /// The little-endian unsigned integer in `bytes`, or nil when it exceeds 64 bits.
    private static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for (shift, byte) in bytes.enumerated() {
            guard byte != 0 else { continue }
            guard shift < 8 else { return nil }
            value |= UInt64(byte) << (8 * shift)
        }
        return value
    }
}

/// Where HDF5's superblock is, and its size of lengths (the width of every size field).
private struct HDF5Superblock {
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The widths libhdf5 accepts for sizes.
    static let lengthSizes = [2, 4, 8, 16, 32]

    let offset: Int
    let lengthSize: Int

    /// Looks where libhdf5 looks: at byte 0, then at 512, 1024, 2048 … (after a user block).
    /// Nil when there is none, or its size of lengths is one libhdf5 refuses.
    init?(in file: inout FileWindow) throws {
        var offset = 0
        while offset + 16 <= file.length {
            let bytes = try file.bytes(at: offset, count: 16)
            if Array(bytes.prefix(8)) == Self.signature {
                // Versions 0 and 1 give the size of lengths at byte 14, versions 2 and 3 at byte 10.
                let lengthSize = Int(bytes[bytes.startIndex + (bytes[bytes.startIndex + 8] < 2 ? 14 : 10)])
                guard Self.lengthSizes.contains(lengthSize) else { return nil }
                self.offset = offset
                self.lengthSize = lengthSize
                return
            }
            offset = offset == 0 ? 512 : offset * 2
        }
        return nil
    }
}

/// A file read through a window: reads near each other (a walk through a collection) cost one
/// read of the file.
private struct FileWindow {
    static let windowSize = 1 << 16

    let path: String
    let length: Int
    private let handle: FileHandle
    private var windowStart = 0
    private var window: [UInt8] = []

    init(path: String) throws {
        self.path = path
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            length = Int(try handle.seekToEnd())
        } catch {
            throw FileError(path, "cannot open the file to read: \(error.localizedDescription)")
        }
    }

    func close() { try? handle.close() }

    /// `count` bytes from `offset`, all inside the file.
    mutating func bytes(at offset: Int, count: Int) throws -> ArraySlice<UInt8> {
        precondition(offset >= 0 && count >= 0 && offset + count <= length, "FileWindow \(path): bytes \(offset)..<\(offset + count) of \(length)")
        if offset < windowStart || offset + count > windowStart + window.count {
            do {
                try handle.seek(toOffset: UInt64(offset))
                let data = try handle.read(upToCount: max(count, Self.windowSize)) ?? Data()
                window = [UInt8](data)
                windowStart = offset
            } catch {
                throw FileError(path, "cannot read the file to check it: \(error.localizedDescription)")
            }
            guard window.count >= count else { throw FileError(path, "cannot read the file to check it: it shrank while being read") }
        }
        let start = offset - windowStart
        return window[start..<(start + count)]
    }
}
