import Foundation
import GaussianRasterizer

// Where the imagegs-grid recipe starts its Gaussians: the centres of a columns × rows grid over
// the image (columns · rows = N, the factor pair whose aspect is nearest the image's), snapped to
// the nearest pixel centre and listed in Morton (Z) order of their (column, row) cell, so the i-th
// Gaussian of every set of the same size and aspect starts in the same cell and neighbouring
// indices are neighbouring cells (the order a Conv1D over the set sees).

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
