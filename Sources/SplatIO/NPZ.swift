import CZlib
import EntropyCoding
import Foundation

// NumPy's `.npz` archives: a zip file whose entries are `.npy` files named `<array>.npy`
// (`np.savez` stores them, `np.savez_compressed` deflates them).
//
// Reading walks the central directory (the authority for names, sizes and CRCs), then checks
// each entry's local header against it, inflates DEFLATED (method 8) entries with raw zlib
// inflate, verifies the CRC-32, and decodes the `.npy` bytes. Zip64 is read (numpy writes every
// entry with a zip64 local header, and archives past 4 GiB need the zip64 end records); split
// (multi-disk) and encrypted archives are rejected. Every length and offset is checked against
// the file before it is used, and a deflated entry may not claim more than zlib's maximum ratio
// (1032:1) of its compressed size, so no input makes the reader crash or over-allocate.
//
// Writing produces a classic (non-zip64) archive, entries in the order given, with a fixed
// timestamp (1980-01-01 00:00) so the same arrays give the same bytes; archives past 4 GiB or
// 65535 entries throw. DEFLATED uses zlib's default level, as `np.savez_compressed` does.

/// Reading and writing numpy `.npz` archives of named arrays.
public enum NPZ {
    /// The arrays in the archive at `path`, by name (the entry name without `.npy`).
    public static func read(_ path: String) throws -> [String: NPYArray] {
        Dictionary(uniqueKeysWithValues: try readEntries(path).map { ($0.name, $0.array) })
    }

    /// The arrays in the archive at `path`, in central-directory order.
    public static func readEntries(_ path: String) throws -> [(name: String, array: NPYArray)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path, "cannot read the file (missing or unreadable)")
        }
        return try decode([UInt8](data), path: path)
    }

    /// Writes `arrays` to `path` as an `.npz` archive, atomically, entries named `<name>.npy`
    /// in the given order: DEFLATED when `compressed` (like `np.savez_compressed`), else STORED
    /// (like `np.savez`). Names must be unique and non-empty.
    public static func write(
        _ arrays: [(name: String, array: NPYArray)], to path: String, compressed: Bool = true
    ) throws {
        let bytes = try encode(arrays, compressed: compressed, path: path)
        try writeAtomically(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw FileError(path, "cannot create \(temporary)")
            }
        }
    }

    // MARK: Reading

    /// One central-directory record.
    private struct Entry {
        var name: String
        var flags: Int
        var method: Int
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    /// Decodes the bytes of an `.npz` archive; errors are `FileError`s for `path`.
    public static func decode(_ bytes: [UInt8], path: String) throws -> [(name: String, array: NPYArray)] {
        let reader = BoundedReader(bytes: bytes, path: path)
        let directory = try centralDirectory(reader)
        var seen = Set<String>()
        var result: [(name: String, array: NPYArray)] = []
        for entry in directory {
            guard entry.name.hasSuffix(".npy"), entry.name.count > 4 else {
                throw FileError(path, "entry '\(entry.name)' is not a .npy array (numpy names them <array>.npy)")
            }
            let name = String(entry.name.dropLast(4))
            guard seen.insert(name).inserted else {
                throw FileError(path, "entry '\(entry.name)' appears twice in the archive")
            }
            let contents = try entryContents(entry, reader)
            result.append((name, try NPY.decode(contents, path: path, entry: entry.name)))
        }
        return result
    }

    private static func centralDirectory(_ reader: BoundedReader) throws -> [Entry] {
        let bytes = reader.bytes, path = reader.path
        let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 22 else {
            throw FileError(path, bytes.starts(with: npyMagic) ? "this is a .npy array, not an .npz archive"
                                                             : "not a zip archive (only \(bytes.count) bytes)")
        }
        // The end-of-central-directory record: the last signature whose comment reaches the end.
        var end: Int?
        for offset in stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65535), by: -1)
        where bytes[offset] == 0x50 && bytes[offset + 1] == 0x4B && bytes[offset + 2] == 5 && bytes[offset + 3] == 6 {
            if offset + 22 + Int(bytes[offset + 20]) + Int(bytes[offset + 21]) << 8 <= bytes.count {
                end = offset
                break
            }
        }
        guard let end else {
            throw FileError(path, bytes.starts(with: npyMagic) ? "this is a .npy array, not an .npz archive"
                                                             : "not a zip archive (no end-of-central-directory record; truncated?)")
        }
        var entryCount = try reader.u16(end + 10, "end record")
        guard try reader.u16(end + 8, "end record") == entryCount else {
            throw FileError(path, "the end record's entry counts disagree")
        }
        var directorySize = try reader.u32(end + 12, "end record")
        var directoryOffset = try reader.u32(end + 16, "end record")
        guard try reader.u16(end + 4, "end record") == 0, try reader.u16(end + 6, "end record") == 0 else {
            throw FileError(path, "split (multi-disk) zip archives are not supported")
        }
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before the end record points at the zip64 end record.
            let locator = end - 20
            guard locator >= 0, try reader.u32(locator, "zip64 locator") == 0x0706_4B50 else {
                throw FileError(path, "the end record needs zip64 values but there is no zip64 locator")
            }
            let record = try reader.u64(locator + 8, "zip64 locator")
            guard try reader.u32(record, "zip64 end record") == 0x0606_4B50 else {
                throw FileError(path, "bad zip64 end-of-central-directory signature at offset \(record)")
            }
            entryCount = try reader.u64(record + 32, "zip64 end record")
            guard try reader.u64(record + 24, "zip64 end record") == entryCount else {
                throw FileError(path, "the zip64 end record's entry counts disagree")
            }
            directorySize = try reader.u64(record + 40, "zip64 end record")
            directoryOffset = try reader.u64(record + 48, "zip64 end record")
        }
        _ = try reader.range(directoryOffset, directorySize, "central directory")
        // Each record takes at least 46 bytes: a larger count is corrupt (and must not allocate).
        guard entryCount <= directorySize / 46 else {
            throw FileError(path, "the central directory (\(directorySize) bytes) cannot hold \(entryCount) entries")
        }

        var entries: [Entry] = []
        var offset = directoryOffset
        for index in 0..<entryCount {
            let what = "central directory record \(index)"
            guard try reader.u32(offset, what) == 0x0201_4B50 else {
                throw FileError(path, "bad signature in \(what) at offset \(offset)")
            }
            let nameLength = try reader.u16(offset + 28, what)
            let extraLength = try reader.u16(offset + 30, what)
            let commentLength = try reader.u16(offset + 32, what)
            let flags = try reader.u16(offset + 8, what)
            var entry = Entry(
                name: decodeName(bytes[try reader.range(offset + 46, nameLength, what)], utf8: flags & 0x800 != 0),
                flags: flags, method: try reader.u16(offset + 10, what),
                crc: UInt32(try reader.u32(offset + 16, what)),
                compressedSize: try reader.u32(offset + 20, what), uncompressedSize: try reader.u32(offset + 24, what),
                localHeaderOffset: try reader.u32(offset + 42, what))
            // Zip64 extra field (id 1): 8-byte values for exactly the fields that read 0xFFFFFFFF.
            var zip64Fields: [WritableKeyPath<Entry, Int>] = []
            if entry.uncompressedSize == 0xFFFF_FFFF { zip64Fields.append(\.uncompressedSize) }
            if entry.compressedSize == 0xFFFF_FFFF { zip64Fields.append(\.compressedSize) }
            if entry.localHeaderOffset == 0xFFFF_FFFF { zip64Fields.append(\.localHeaderOffset) }
            if !zip64Fields.isEmpty {
                let values = try zip64Values(reader, extra: try reader.range(offset + 46 + nameLength, extraLength, what),
                                             count: zip64Fields.count, entryName: entry.name)
                for (field, value) in zip(zip64Fields, values) { entry[keyPath: field] = value }
            }
            entries.append(entry)
            offset += 46 + nameLength + extraLength + commentLength
        }
        guard offset == directoryOffset + directorySize else {
            throw FileError(path, "the central directory holds \(offset - directoryOffset) bytes of \(entryCount) records, the end record says \(directorySize)")
        }
        return entries
    }

    /// The first `count` 8-byte values of the zip64 extra field (id 0x0001) in `extra`.
    private static func zip64Values(
        _ reader: BoundedReader, extra: Range<Int>, count: Int, entryName: String
    ) throws -> [Int] {
        var offset = extra.lowerBound
        while offset + 4 <= extra.upperBound {
            let id = try reader.u16(offset, "extra field"), size = try reader.u16(offset + 2, "extra field")
            guard offset + 4 + size <= extra.upperBound else { break }
            if id == 1 {
                guard size >= 8 * count else { break }
                return try (0..<count).map { try reader.u64(offset + 4 + 8 * $0, "zip64 extra field") }
            }
            offset += 4 + size
        }
        throw FileError(reader.path, "entry '\(entryName)': sizes need a zip64 extra field, which is missing or short")
    }

    /// Zip names are UTF-8 when flag bit 11 is set, else code page 437 (ASCII for numpy's names).
    private static func decodeName(_ bytes: ArraySlice<UInt8>, utf8: Bool) -> String {
        String(bytes: bytes, encoding: .utf8) ?? String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    /// The uncompressed, CRC-checked bytes of `entry`, after checking its local header.
    private static func entryContents(_ entry: Entry, _ reader: BoundedReader) throws -> [UInt8] {
        let path = reader.path, name = entry.name
        let what = "local header of entry '\(name)'"
        guard entry.flags & 1 == 0 else { throw FileError(path, "entry '\(name)' is encrypted") }
        guard entry.method == 0 || entry.method == 8 else {
            throw FileError(path, "entry '\(name)' uses compression method \(entry.method) (supported: 0 stored, 8 deflated)")
        }
        let local = entry.localHeaderOffset
        guard try reader.u32(local, what) == 0x0403_4B50 else {
            throw FileError(path, "bad signature in the \(what) at offset \(local)")
        }
        let nameLength = try reader.u16(local + 26, what), extraLength = try reader.u16(local + 28, what)
        let localName = decodeName(reader.bytes[try reader.range(local + 30, nameLength, what)],
                                   utf8: try reader.u16(local + 6, what) & 0x800 != 0)
        guard localName == name, try reader.u16(local + 8, what) == entry.method else {
            throw FileError(path, "the \(what) disagrees with the central directory (name '\(localName)' or method)")
        }
        // Without a data descriptor (flag bit 3) the local header repeats CRC and sizes.
        if entry.flags & 8 == 0 {
            var compressed = try reader.u32(local + 18, what), uncompressed = try reader.u32(local + 22, what)
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF {
                let count = (uncompressed == 0xFFFF_FFFF ? 1 : 0) + (compressed == 0xFFFF_FFFF ? 1 : 0)
                let values = try zip64Values(reader, extra: try reader.range(local + 30 + nameLength, extraLength, what),
                                             count: count, entryName: name)
                if uncompressed == 0xFFFF_FFFF { uncompressed = values[0] }
                if compressed == 0xFFFF_FFFF { compressed = values[count - 1] }
            }
            guard UInt32(try reader.u32(local + 14, what)) == entry.crc,
                  compressed == entry.compressedSize, uncompressed == entry.uncompressedSize else {
                throw FileError(path, "the \(what) disagrees with the central directory (CRC or sizes)")
            }
        }
        let data = try reader.range(local + 30 + nameLength + extraLength, entry.compressedSize, "data of entry '\(name)'")
        let contents: [UInt8]
        if entry.method == 0 {
            guard entry.compressedSize == entry.uncompressedSize else {
                throw FileError(path, "stored entry '\(name)' has different compressed and uncompressed sizes")
            }
            contents = Array(reader.bytes[data])
        } else {
            guard entry.uncompressedSize <= 1032 * entry.compressedSize + 64 else {
                throw FileError(path, "entry '\(name)' claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed, beyond deflate's limit")
            }
            contents = try reader.bytes.withUnsafeBytes { raw in
                Zlib.inflateRaw(UnsafeRawBufferPointer(rebasing: raw[data]), size: entry.uncompressedSize)
            }.mapError { FileError(path, "entry '\(name)': \($0)") }.get()
        }
        let crc = EntropyCoding.crc32(contents)
        guard crc == entry.crc else {
            throw FileError(path, "entry '\(name)': CRC-32 mismatch (stored \(hex(entry.crc)), computed \(hex(crc))); the archive is corrupt")
        }
        return contents
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    // MARK: Writing

    /// The bytes of an archive of `arrays` (see `write`); errors name `path`.
    static func encode(_ arrays: [(name: String, array: NPYArray)], compressed: Bool, path: String) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw FileError(path, "an array name is empty") }
            guard seen.insert(name).inserted else { throw FileError(path, "array name '\(name)' is used twice") }
        }
        guard arrays.count <= 0xFFFF else {
            throw FileError(path, "\(arrays.count) arrays exceed the 65535 entries of a non-zip64 archive")
        }
        let limit = 0xFFFF_FFFF  // zip64 would be needed at or past this size; not written.
        var archive: [UInt8] = []
        var directory: [UInt8] = []
        for (name, array) in arrays {
            let nameBytes = Array((name + ".npy").utf8)
            let contents = NPY.encode(array)
            let crc = EntropyCoding.crc32(contents)
            let data = compressed ? try Zlib.deflateRaw(contents).mapError { FileError(path, "entry '\(name).npy': \($0)") }.get() : contents
            guard contents.count < limit, data.count < limit, archive.count < limit else {
                throw FileError(path, "archive larger than 4 GiB: zip64 writing is not supported")
            }
            let flags = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x800  // bit 11: UTF-8 name
            let method = compressed ? 8 : 0
            // Fields shared by the local header (from offset 4) and the central record (from 6).
            var common: [UInt8] = []
            appendLittleEndian(20, 2, to: &common)  // version needed: 2.0 (deflate)
            appendLittleEndian(flags, 2, to: &common)
            appendLittleEndian(method, 2, to: &common)
            appendLittleEndian(0, 2, to: &common)  // time 00:00:00
            appendLittleEndian(0x21, 2, to: &common)  // date 1980-01-01
            appendLittleEndian(Int(crc), 4, to: &common)
            appendLittleEndian(data.count, 4, to: &common)
            appendLittleEndian(contents.count, 4, to: &common)
            appendLittleEndian(nameBytes.count, 2, to: &common)
            appendLittleEndian(0, 2, to: &common)  // extra length

            appendLittleEndian(0x0201_4B50, 4, to: &directory)
            appendLittleEndian(3 << 8 | 20, 2, to: &directory)  // made by: Unix, zip 2.0
            directory += common
            appendLittleEndian(0, 2, to: &directory)  // comment length
            appendLittleEndian(0, 2, to: &directory)  // disk number
            appendLittleEndian(0, 2, to: &directory)  // internal attributes
            appendLittleEndian(0o100644 << 16, 4, to: &directory)  // external: regular file, rw-r--r--
            appendLittleEndian(archive.count, 4, to: &directory)  // local header offset
            directory += nameBytes

            appendLittleEndian(0x0403_4B50, 4, to: &archive)
            archive += common + nameBytes + data
        }
        let directoryOffset = archive.count
        guard directoryOffset < limit, directory.count < limit else {
            throw FileError(path, "archive larger than 4 GiB: zip64 writing is not supported")
        }
        archive += directory
        appendLittleEndian(0x0605_4B50, 4, to: &archive)
        appendLittleEndian(0, 2, to: &archive)  // this disk
        appendLittleEndian(0, 2, to: &archive)  // disk with the directory
        appendLittleEndian(arrays.count, 2, to: &archive)
        appendLittleEndian(arrays.count, 2, to: &archive)
        appendLittleEndian(directory.count, 4, to: &archive)
        appendLittleEndian(directoryOffset, 4, to: &archive)
        appendLittleEndian(0, 2, to: &archive)  // comment length
        return archive
    }

    private static func appendLittleEndian(_ value: Int, _ byteCount: Int, to bytes: inout [UInt8]) {
        for index in 0..<byteCount { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}

/// Bounds-checked little-endian reads from a file's bytes; out-of-range reads throw a
/// `FileError` saying the file is truncated or corrupt.
private struct BoundedReader {
    let bytes: [UInt8]
    let path: String

    /// The byte range `offset ..< offset + count`, if it lies inside the file.
    func range(_ offset: Int, _ count: Int, _ what: String) throws -> Range<Int> {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw FileError(path, "\(what) lies outside the file (offset \(offset), \(count) bytes, file \(bytes.count) bytes): truncated or corrupt")
        }
        return offset..<(offset + count)
    }

    private func value(_ offset: Int, _ count: Int, _ what: String) throws -> UInt64 {
        let range = try range(offset, count, what)
        return range.reversed().reduce(0) { $0 << 8 | UInt64(bytes[$1]) }
    }

    func u16(_ offset: Int, _ what: String) throws -> Int { Int(try value(offset, 2, what)) }
    func u32(_ offset: Int, _ what: String) throws -> Int { Int(try value(offset, 4, what)) }

    /// A zip64 8-byte value; values beyond Int.max (never valid offsets or sizes) throw.
    func u64(_ offset: Int, _ what: String) throws -> Int {
        let value = try value(offset, 8, what)
        guard value <= UInt64(Int.max) else { throw FileError(path, "\(what) holds an impossible size or offset \(value)") }
        return Int(value)
    }
}

/// zlib's raw deflate, inflate and CRC-32, every return code checked here.
enum Zlib {
    /// A zlib failure, described for the entry it happened in.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Inflates a raw deflate stream that must expand to exactly `size` bytes and end exactly
    /// at the end of `input`.
    static func inflateRaw(_ input: UnsafeRawBufferPointer, size: Int) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        guard czlib_inflateInit2(&stream, -15) == Z_OK else {
            return .failure(Failure(description: "zlib inflateInit2 failed"))
        }
        defer { inflateEnd(&stream) }
        // One spare byte: a stream longer than declared shows up as size + 1 bytes produced.
        var output = [UInt8](repeating: 0, count: size + 1)
        var consumed = 0, produced = 0
        var status = Z_OK
        output.withUnsafeMutableBytes { out in
            while status == Z_OK {
                let inChunk = min(input.count - consumed, 1 << 30), outChunk = min(out.count - produced, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map {
                    ($0 + consumed).assumingMemoryBound(to: Bytef.self)
                })
                stream.avail_in = uInt(inChunk)
                stream.next_out = (out.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(outChunk)
                status = inflate(&stream, Z_NO_FLUSH)
                consumed += inChunk - Int(stream.avail_in)
                produced += outChunk - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else {
            if status == Z_BUF_ERROR {
                return .failure(Failure(description: produced > size
                    ? "the deflate stream expands past the declared \(size) bytes"
                    : "the deflate stream is truncated (\(produced) of \(size) bytes)"))
            }
            let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            return .failure(Failure(description: "corrupt deflate data (\(message))"))
        }
        guard produced == size else {
            return .failure(Failure(description: "the deflate stream expands to \(produced) bytes, the directory says \(size)"))
        }
        guard consumed == input.count else {
            return .failure(Failure(description: "\(input.count - consumed) stray bytes after the deflate stream"))
        }
        output.removeLast()
        return .success(output)
    }

    /// `bytes` as a raw deflate stream at zlib's default level (6), as Python's zipfile writes.
    static func deflateRaw(_ bytes: [UInt8]) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        guard czlib_deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            return .failure(Failure(description: "zlib deflateInit2 failed"))
        }
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var status = Z_OK
        bytes.withUnsafeBufferPointer { input in
            var offset = 0
            var flush = Z_NO_FLUSH
            while flush != Z_FINISH && status != Z_STREAM_ERROR {
                let chunk = min(input.count - offset, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + offset })
                stream.avail_in = uInt(chunk)
                offset += chunk
                flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(out.count)
                        status = deflate(&stream, flush)
                    }
                    output += buffer[0..<(buffer.count - Int(stream.avail_out))]
                } while stream.avail_out == 0 && status != Z_STREAM_ERROR
            }
        }
        guard status == Z_STREAM_END else {
            return .failure(Failure(description: "zlib deflate failed (status \(status))"))
        }
        return .success(output)
    }
}
