import GaussianFitting
import GaussianRasterizer

// Mirror images of whole Gaussian sets, for training augmentation: the set of a mirrored image
// is known exactly, so a dataset of N sets can be trained on as 4N.
//
// In the Image-GS convention (x, y in [0, 1], Σ = R(θ) diag(σx², σy²) R(θ)ᵀ), mirroring the image
// left–right maps x ↦ 1 − x and θ ↦ −θ (F R(θ) F = R(−θ) for F = diag(−1, 1)); top–bottom maps
// y ↦ 1 − y and θ ↦ −θ; scales and colours are unchanged. The mirrored rows are then put in the
// order the dataset's sets have:
//   - morton / hilbert: sorted by the order's code of the mirrored positions, exactly as
//     `dataset build` orders a set;
//   - the imagegs-grid recipe, kept in fit order: Gaussian i belongs to grid cell (c, r), so the
//     mirrored Gaussian moves to the index of cell (C − 1 − c, r) (or (c, R − 1 − r)).
// A set in fit order from another recipe has no positional order to restore: no flips.

/// How to mirror the sets of one dataset (see the file comment).
public struct SetFlips: Sendable {
    public let setSize: Int
    private let order: SpatialOrder
    /// For grid sets: source[i], the row that lands at index i, under a left–right flip, a
    /// top–bottom flip and both.
    private let gridSources: (horizontal: [Int], vertical: [Int], both: [Int])?

    /// Flips for sets of `setSize` Gaussians stored in `order`, fitted with `recipe` to
    /// width × height images; nil when the order does not follow position.
    public init?(setSize: Int, order: SpatialOrder, recipe: FitRecipe?, width: Int, height: Int) {
        self.setSize = setSize
        self.order = order
        if order != .none {
            gridSources = nil
        } else if recipe?.placesOnGrid == true {
            let (columns, rows) = gridShape(count: setSize, width: width, height: height)
            let cells = gridCells(count: setSize, width: width, height: height)
            var indexOfCell = [Int](repeating: 0, count: setSize)
            for (index, cell) in cells.enumerated() { indexOfCell[cell.row * columns + cell.column] = index }
            func sources(_ mirror: ((column: Int, row: Int)) -> Int) -> [Int] {
                var source = [Int](repeating: 0, count: setSize)
                for (index, cell) in cells.enumerated() { source[indexOfCell[mirror(cell)]] = index }
                return source
            }
            gridSources = (sources { $0.row * columns + columns - 1 - $0.column },
                           sources { (rows - 1 - $0.row) * columns + $0.column },
                           sources { (rows - 1 - $0.row) * columns + columns - 1 - $0.column })
        } else {
            return nil
        }
    }

    /// Flips for the sets of a dataset with these settings (square images of `imageSize`).
    public init?(settings: DatasetSettings) {
        self.init(setSize: settings.setSize, order: settings.order, recipe: settings.fitRecipe, width: settings.imageSize, height: settings.imageSize)
    }

    /// One set's rows (setSize × 8, Image-GS columns) mirrored left–right and/or top–bottom, in
    /// the dataset's order.
    public func flipped(_ set: ArraySlice<Float>, horizontal: Bool, vertical: Bool) -> [Float] {
        let columns = ImageGSColumn.count
        precondition(set.count == setSize * columns, "SetFlips: expected \(setSize) rows of \(columns), got \(set.count) values")
        var mirrored = Array(set)
        for row in 0..<setSize {
            let base = row * columns
            if horizontal { mirrored[base + ImageGSColumn.x] = 1 - mirrored[base + ImageGSColumn.x] }
            if vertical { mirrored[base + ImageGSColumn.y] = 1 - mirrored[base + ImageGSColumn.y] }
            if horizontal != vertical { mirrored[base + ImageGSColumn.rotation] = -mirrored[base + ImageGSColumn.rotation] }
        }
        // source[i]: the row that lands at index i.
        var source = order.permutation(for: mirrored, count: setSize)
        if let gridSources {
            switch (horizontal, vertical) {
            case (true, true): source = gridSources.both
            case (true, false): source = gridSources.horizontal
            case (false, true): source = gridSources.vertical
            case (false, false): break
            }
        }
        var result = [Float](repeating: 0, count: mirrored.count)
        for (target, row) in source.enumerated() {
            result[(target * columns)..<((target + 1) * columns)] = mirrored[(row * columns)..<((row + 1) * columns)]
        }
        return result
    }
}
