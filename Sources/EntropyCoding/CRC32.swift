// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF: the
// checksum of zlib, PNG, gzip and zip). Check value: "123456789" → 0xCBF43926.
//
// Contiguous memory goes eight bytes a step through eight tables ("slicing-by-8": table k maps a
// byte to its CRC contribution k bytes further on), a few GB/s, which sealed model files need
// (every load checks the whole file); a sequence without contiguous storage goes byte by byte.

/// tables[k][b]: the CRC of byte b followed by k zero bytes, k = 0..<8 (tables[0]: the classic table).
private let crc32Tables: [[UInt32]] = {
    var tables = [(0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }]
    for k in 1..<8 { tables.append(tables[k - 1].map { ($0 >> 8) ^ tables[0][Int($0 & 0xFF)] }) }
    return tables
}()

/// The CRC-32 of `bytes`; with `previous` (the CRC-32 of the bytes before them, as zlib's
/// `crc32(crc, buf, len)`), the CRC-32 of both, so a large file can be checked in pieces.
public func crc32<Bytes: Sequence>(_ bytes: Bytes, continuing previous: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
    if let crc = bytes.withContiguousStorageIfAvailable({ crc32(UnsafeRawBufferPointer($0), continuing: previous) }) { return crc }
    var crc: UInt32 = ~previous
    for byte in bytes { crc = crc32Tables[0][Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
}

/// The CRC-32 of the bytes of `buffer` (continuing `previous`, as above).
public func crc32(_ buffer: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
    var crc: UInt32 = ~previous
    let t = crc32Tables
    let (t0, t1, t2, t3, t4, t5, t6, t7) = (t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
    var offset = 0
    while offset + 8 <= buffer.count {
        let low = crc ^ UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let high = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        crc = t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)] ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
            ^ t3[Int(high & 0xFF)] ^ t2[Int((high >> 8) & 0xFF)] ^ t1[Int((high >> 16) & 0xFF)] ^ t0[Int(high >> 24)]
        offset += 8
    }
    while offset < buffer.count {
        crc = t0[Int((crc ^ UInt32(buffer[offset])) & 0xFF)] ^ (crc >> 8)
        offset += 1
    }
    return ~crc
}
