// Item names as a fixed-width byte dataset: uint8 (N, length), each row a UTF-8 name padded with
// zeros (h5py: `bytes(row).rstrip(b"\0").decode()`). Fixed width keeps the dataset a plain
// array every HDF5 tool reads, and lets streaming files append rows. Names longer than `length`
// bytes are cut at a character boundary.

extension HDF5File {
    /// Writes `names` as a uint8 (N, length) dataset at `datasetPath`.
    public func writeNames(_ names: [String], to datasetPath: String, length: Int = 256) throws {
        try write(encodedNames(names, length: length), shape: [names.count, length], to: datasetPath)
    }

    /// Reads `count` names from a uint8 (count, length) dataset; another shape is a `FileError`.
    public func readNames(from datasetPath: String, count: Int, length: Int = 256) throws -> [String] {
        let bytes = try read(UInt8.self, from: datasetPath)
        guard bytes.shape == [count, length] else {
            throw FileError(path, "dataset '\(datasetPath)' has shape \(bytes.shape), expected (\(count), \(length))")
        }
        return decodedNames(bytes.values, length: length)
    }
}

/// `names` as zero-padded UTF-8 rows of `length` bytes, each cut at a character boundary.
public func encodedNames(_ names: [String], length: Int) -> [UInt8] {
    var rows: [UInt8] = []
    rows.reserveCapacity(names.count * length)
    for name in names {
        var bytes: [UInt8] = []
        for character in name {
            let utf8 = Array(String(character).utf8)
            guard bytes.count + utf8.count <= length else { break }
            bytes += utf8
        }
        rows += bytes + [UInt8](repeating: 0, count: length - bytes.count)
    }
    return rows
}

/// The names of zero-padded rows of `length` bytes (the inverse of `encodedNames`).
public func decodedNames(_ rows: [UInt8], length: Int) -> [String] {
    precondition(length > 0 && rows.count % length == 0, "decodedNames: \(rows.count) bytes are not rows of \(length)")
    return (0..<(rows.count / length)).map { i in
        String(decoding: rows[(i * length)..<((i + 1) * length)].prefix { $0 != 0 }, as: UTF8.self)
    }
}
