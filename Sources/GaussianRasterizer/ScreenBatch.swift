import TensorCore

// What every tile-based rasterizer shares: checking the input's shape, binning each item's
// Gaussians to tiles, running a kernel over (item, tile) pairs in parallel, and summing
// per-(tile, Gaussian) gradient slots into a gradient of the input's shape in a fixed order.

/// The pixels of one tile (or of a part of one): (x + ½, y + ½, flat index y·W + x), row by
/// row, each row left to right.
struct TilePixels: Sequence {
    let x0: Int, x1: Int, y0: Int, y1: Int, width: Int

    struct Iterator: IteratorProtocol {
        let pixels: TilePixels
        var column = 0, y: Int

        mutating func next() -> (Float, Float, Int)? {
            if y >= pixels.y1 { return nil }
            let x = pixels.x0 + column, row = y
            column += 1
            if column >= pixels.x1 - pixels.x0 {
                column = 0
                y += 1
            }
            return (Float(x) + 0.5, Float(row) + 0.5, row * pixels.width + x)
        }
    }

    func makeIterator() -> Iterator { Iterator(pixels: self, y: x0 < x1 ? y0 : y1) }

    /// The tile cut into blocks of side × side pixels (smaller at ragged edges), row by row.
    func blocks(side: Int) -> [TilePixels] {
        stride(from: y0, to: y1, by: side).flatMap { top in
            stride(from: x0, to: x1, by: side).map { left in
                TilePixels(x0: left, x1: Swift.min(left + side, x1), y0: top, y1: Swift.min(top + side, y1), width: width)
            }
        }
    }
}

/// A batch of screen Gaussians (B, G, 8) or (G, 8) binned for an image of width × height.
struct ScreenBatch {
    let items: Int
    let gaussians: Int
    let grid: TileGrid
    let bins: [TileBins]
    /// (B, 3, H, W) for batched input, (3, H, W) otherwise.
    let outputShape: [Int]
    let inputShape: [Int]

    init(_ screen: Tensor, width: Int, height: Int, rasterizer: String) {
        precondition((screen.rank == 2 || screen.rank == 3) && screen.shape.last == ScreenColumn.count,
                     "\(rasterizer): screen Gaussians must be (G, 8) or (B, G, 8), got \(screen.shape)")
        precondition(width >= 1 && height >= 1, "\(rasterizer): image size \(width)×\(height) is empty")
        let batched = screen.rank == 3
        items = batched ? screen.shape[0] : 1
        gaussians = screen.shape[screen.rank - 2]
        grid = TileGrid(width: width, height: height)
        inputShape = screen.shape
        outputShape = batched ? [items, 3, height, width] : [3, height, width]
        let (G, grid, count) = (gaussians, grid, items)
        var binned = [TileBins?](repeating: nil, count: count)
        screen.scalars.withUnsafeBufferPointer { features in
            binned.withUnsafeMutableBufferPointer { slots in
                parallelItems(count) { item in
                    slots[item] = TileBins(features: features.baseAddress! + item * G * ScreenColumn.count, count: G, grid: grid)
                }
            }
        }
        bins = binned.map { $0! }
    }

    /// Calls `body(item, tile, pixels)` for every (item, tile) pair, in parallel.
    func forEachTile(_ body: (Int, Int, TilePixels) -> Void) {
        let tiles = grid.tileCount
        parallelItems(items * tiles) { work in
            let item = work / tiles, tile = work % tiles
            let tx = tile % grid.tilesAcross, ty = tile / grid.tilesAcross
            let pixels = TilePixels(x0: tx * tileSize, x1: Swift.min(grid.width, (tx + 1) * tileSize),
                                    y0: ty * tileSize, y1: Swift.min(grid.height, (ty + 1) * tileSize), width: grid.width)
            body(item, tile, pixels)
        }
    }

    /// The Gaussians binned to `tile` of `item`, gathered from `features` (the batch's screen
    /// rows); the caller deallocates them.
    func tileConics(_ features: UnsafePointer<Float>, item: Int, tile: Int) -> TileConics {
        let itemBins = bins[item]
        let start = Int(itemBins.tileStart[tile]), count = Int(itemBins.tileStart[tile + 1]) - start
        return TileConics(rows: features + item * gaussians * ScreenColumn.count, bins: itemBins, start: start, count: count)
    }

    /// Runs `body(item, tile, pixels, slots)` over all tiles, where `slots` holds `width`
    /// gradient floats per (tile, Gaussian) pair of the item (indexed by pair), then sums the
    /// slots pair by pair, in order, into per-Gaussian rows: (items · G, width) row-major.
    func accumulateGradients(width: Int = ScreenColumn.count,
                             _ body: (Int, Int, TilePixels, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        // One buffer for all items' slots; item i's start at offsets[i].
        var offsets = [0]
        for itemBins in bins { offsets.append(offsets.last! + itemBins.pairCount * width) }
        var slots = [Float](repeating: 0, count: offsets.last!)
        var gradient = [Float](repeating: 0, count: items * gaussians * width)
        slots.withUnsafeMutableBufferPointer { s in
            let base = s.baseAddress
            forEachTile { item, tile, pixels in
                if let base { body(item, tile, pixels, base + offsets[item]) }
            }
        }
        gradient.withUnsafeMutableBufferPointer { g in
            slots.withUnsafeBufferPointer { s in
                parallelItems(items) { item in
                    let indices = bins[item].gaussianIndices
                    let itemSlots = s.baseAddress! + offsets[item]
                    for pair in 0..<indices.count {
                        let target = g.baseAddress! + (item * gaussians + Int(indices[pair])) * width
                        for column in 0..<width { target[column] += itemSlots[pair * width + column] }
                    }
                }
            }
        }
        return gradient
    }
}
