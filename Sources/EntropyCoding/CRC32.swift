// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF: the
// checksum of zlib, PNG and gzip). Check value: "123456789" → 0xCBF43926.

private let crc32Table: [UInt32] = (0..<256).map { index -> UInt32 in
    var value = UInt32(index)
    for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
    return value
}

/// The CRC-32 of `bytes`; with `previous` (the CRC-32 of the bytes before them, as zlib's
/// `crc32(crc, buf, len)`), the CRC-32 of both, so a large file can be checked in pieces.
public func crc32<Bytes: Sequence>(_ bytes: Bytes, continuing previous: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
    var crc: UInt32 = ~previous
    for byte in bytes { crc = crc32Table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
}
