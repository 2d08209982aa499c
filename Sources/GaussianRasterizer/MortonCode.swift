// Morton (Z-order) codes of integer cells: the bit interleaving under SplatKit's spatial orders
// (grid starts, dataset ordering, the codec's canonical order of positions).

/// The Morton (Z-order) code of cell (column, row), each below 2¹⁶: bit i of the column becomes
/// bit 2i of the code, bit i of the row bit 2i + 1.
public func mortonCode(column: UInt32, row: UInt32) -> UInt32 {
    spreadBits(row) << 1 | spreadBits(column)
}

/// The cell (column, row) of a Morton code: the inverse of `mortonCode(column:row:)`.
public func mortonCell(_ code: UInt32) -> (column: UInt32, row: UInt32) {
    (compactBits(code), compactBits(code >> 1))
}

/// The even bits of `value` gathered into the 16 low bits (bit 2i → bit i): the inverse of `spreadBits`.
private func compactBits(_ value: UInt32) -> UInt32 {
    var v = value & 0x5555_5555
    v = (v | v >> 1) & 0x3333_3333
    v = (v | v >> 2) & 0x0F0F_0F0F
    v = (v | v >> 4) & 0x00FF_00FF
    v = (v | v >> 8) & 0x0000_FFFF
    return v
}

/// The 16 low bits of `value` moved to the even bit positions (bit i → bit 2i).
private func spreadBits(_ value: UInt32) -> UInt32 {
    var v = value & 0xFFFF
    v = (v | v << 8) & 0x00FF_00FF
    v = (v | v << 4) & 0x0F0F_0F0F
    v = (v | v << 2) & 0x3333_3333
    v = (v | v << 1) & 0x5555_5555
    return v
}
