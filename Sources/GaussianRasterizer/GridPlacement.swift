import Foundation

// Where the imagegs-grid recipe starts its Gaussians: the centres of a columns × rows grid over
// the image (columns · rows = N, the factor pair whose aspect is nearest the image's), snapped to
// the nearest pixel centre and listed in Morton (Z) order of their (column, row) cell, so the i-th
// Gaussian of every set of the same size and aspect starts in the same cell and neighbouring
// indices are neighbouring cells (the order a Conv1D over the set sees).

/// The Morton (Z-order) code of cell (column, row), each below 2¹⁶: bit i of the column becomes
/// bit 2i of the code, bit i of the row bit 2i + 1.
public func mortonCode(column: UInt32, row: UInt32) -> UInt32 {
    spreadBits(row) << 1 | spreadBits(column)
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

/// The grid the recipe uses for `count` Gaussians on a width × height image: columns · rows =
/// count, columns / rows as near width / height as count's factor pairs allow.
public func gridShape(count: Int, width: Int, height: Int) -> (columns: Int, rows: Int) {
    let aspect = Foundation.log(Double(width) / Double(height))
    func mismatch(_ columns: Int) -> Double { Swift.abs(Foundation.log(Double(columns * columns) / Double(count)) - aspect) }
    let columns = (1...count).filter { count % $0 == 0 }.min { mismatch($0) < mismatch($1) }!
    return (columns, count / columns)
}

/// The grid cell of each Gaussian of a grid-recipe set, in set order (Morton order of the cells).
public func gridCells(count: Int, width: Int, height: Int) -> [(column: Int, row: Int)] {
    let columns = gridShape(count: count, width: width, height: height).columns
    return (0..<count).map { (column: $0 % columns, row: $0 / columns) }
        .sorted { mortonCode(column: UInt32($0.column), row: UInt32($0.row)) < mortonCode(column: UInt32($1.column), row: UInt32($1.row)) }
}

/// The flat pixel indices (y·width + x) where the grid recipe places `count` Gaussians on a
/// width × height image: the cell centres, snapped to pixels, in set order.
func gridPixels(count: Int, width: Int, height: Int) -> [Int] {
    let (columns, rows) = gridShape(count: count, width: width, height: height)
    return gridCells(count: count, width: width, height: height).map { cell in
        let x = Int((Double(cell.column) + 0.5) * Double(width) / Double(columns))
        let y = Int((Double(cell.row) + 0.5) * Double(height) / Double(rows))
        return Swift.min(y, height - 1) * width + Swift.min(x, width - 1)
    }
}
