import TensorCore

// Screen-space Gaussians and their assignment to 16 × 16 pixel tiles.
//
// Pixel convention (docs/RASTERIZATION.md): pixel (column i, row j) covers [i, i+1) × [j, j+1)
// and is sampled at its centre (i + ½, j + ½). A screen Gaussian is given in pixel units by
// its mean (mx, my), its conic Σ⁻¹ = [[a, b], [b, c]] and its colour (r, g, b):
//   q(p) = dᵀ Σ⁻¹ d = a·dx² + 2b·dx·dy + c·dy²,  d = p − m,  weight w = exp(−½ q).
// Screen features are rows of 8: [mx, my, a, b, c, r, g, b] (the rasterizers' input).

/// Side of a square tile, in pixels.
let tileSize = 16

/// Columns of a screen-feature row.
enum ScreenColumn {
    static let meanX = 0, meanY = 1, conicA = 2, conicB = 3, conicC = 4, red = 5, green = 6, blue = 7
    static let count = 8
}

/// Geometry of one image: its size and tile grid.
struct TileGrid {
    let width: Int, height: Int
    var tilesAcross: Int { (width + tileSize - 1) / tileSize }
    var tilesDown: Int { (height + tileSize - 1) / tileSize }
    var tileCount: Int { tilesAcross * tilesDown }
    var pixelCount: Int { width * height }
}

/// The 3σ extent of a screen Gaussian: 3 / √λmin, where λmin is the conic's smaller eigenvalue
/// (so 1/λmin is the covariance's larger eigenvalue). Degenerate conics get an infinite radius
/// (they cover the whole image rather than vanish).
@inline(__always)
func threeSigmaRadius(a: Float, b: Float, c: Float) -> Float {
    let mean = 0.5 * (a + c)
    let spread = (0.25 * (a - c) * (a - c) + b * b).squareRoot()
    let smallest = mean - spread
    guard smallest > 1e-12, smallest.isFinite else { return .infinity }
    return 3 / smallest.squareRoot()
}

/// For one image: which Gaussians each tile considers, in ascending Gaussian order, as a CSR
/// list (`tileStart[t]..<tileStart[t+1]` indexes `gaussianIndices`). A Gaussian joins every
/// tile its 3σ bounding box touches; one whose box misses the image joins none.
struct TileBins {
    let tileStart: [Int32]
    let gaussianIndices: [Int32]

    /// `features` points at G rows of `ScreenColumn.count` floats.
    init(features: UnsafePointer<Float>, count G: Int, grid: TileGrid) {
        // Tile-index rectangle of each Gaussian, or an empty one.
        var boxes = [(x0: Int, x1: Int, y0: Int, y1: Int)](repeating: (0, -1, 0, -1), count: G)
        var counts = [Int32](repeating: 0, count: grid.tileCount + 1)
        for g in 0..<G {
            let row = features + g * ScreenColumn.count
            let mx = row[ScreenColumn.meanX], my = row[ScreenColumn.meanY]
            let radius = threeSigmaRadius(a: row[ScreenColumn.conicA], b: row[ScreenColumn.conicB], c: row[ScreenColumn.conicC])
            guard mx.isFinite, my.isFinite, !radius.isNaN else { continue }
            let left = mx - radius, right = mx + radius, top = my - radius, bottom = my + radius
            guard right >= 0, bottom >= 0, left < Float(grid.width), top < Float(grid.height) else { continue }
            let x0 = Swift.max(0, Int(Swift.max(left, 0)) / tileSize)
            let x1 = Swift.min(grid.tilesAcross - 1, Int(Swift.min(right, Float(grid.width - 1))) / tileSize)
            let y0 = Swift.max(0, Int(Swift.max(top, 0)) / tileSize)
            let y1 = Swift.min(grid.tilesDown - 1, Int(Swift.min(bottom, Float(grid.height - 1))) / tileSize)
            boxes[g] = (x0, x1, y0, y1)
            for ty in y0...y1 { for tx in x0...x1 { counts[ty * grid.tilesAcross + tx + 1] += 1 } }
        }
        for t in 0..<grid.tileCount { counts[t + 1] += counts[t] }
        var next = Array(counts.dropLast())
        var indices = [Int32](repeating: 0, count: Int(counts[grid.tileCount]))
        for g in 0..<G where boxes[g].x1 >= boxes[g].x0 {
            for ty in boxes[g].y0...boxes[g].y1 {
                for tx in boxes[g].x0...boxes[g].x1 {
                    let t = ty * grid.tilesAcross + tx
                    indices[Int(next[t])] = Int32(g)
                    next[t] += 1
                }
            }
        }
        tileStart = counts
        gaussianIndices = indices
    }

    var pairCount: Int { gaussianIndices.count }
}

/// The quadratic form q = a·dx² + 2b·dx·dy + c·dy².
@inline(__always)
func conicDistance(_ a: Float, _ b: Float, _ c: Float, _ dx: Float, _ dy: Float) -> Float {
    a * dx * dx + 2 * b * dx * dy + c * dy * dy
}

/// One tile's Gaussians gathered into contiguous columns (structure of arrays), so the
/// distance of a pixel to all of them is one vectorisable loop. They are ordered by the distance
/// of their means from the tile's centre, so a top-K search meets the likely winners first and
/// rejects most others with one comparison. Owns its buffers: call `deallocate()` when done.
struct TileConics {
    let count: Int
    let meanX, meanY, a, twoB, c: UnsafeMutablePointer<Float>
    /// The (tile, Gaussian) pair index of each local Gaussian.
    let pair: UnsafeMutablePointer<Int32>
    private let storage: UnsafeMutablePointer<Float>

    /// Gathers pairs `start..<start+count` of `bins` from screen-feature rows, for the tile
    /// whose centre is (centreX, centreY).
    init(rows: UnsafePointer<Float>, bins: TileBins, start: Int, count: Int, centreX: Float, centreY: Float) {
        self.count = count
        storage = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(5 * count, 1))
        pair = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(count, 1))
        (meanX, meanY, a, twoB, c) = (storage, storage + count, storage + 2 * count, storage + 3 * count, storage + 4 * count)
        let order = (0..<count).map { j -> (Float, Int) in
            let row = rows + Int(bins.gaussianIndices[start + j]) * ScreenColumn.count
            let dx = row[0] - centreX, dy = row[1] - centreY
            return (dx * dx + dy * dy, j)
        }.sorted { $0 < $1 }
        for (local, (_, j)) in order.enumerated() {
            let row = rows + Int(bins.gaussianIndices[start + j]) * ScreenColumn.count
            meanX[local] = row[0]
            meanY[local] = row[1]
            a[local] = row[2]
            twoB[local] = 2 * row[3]
            c[local] = row[4]
            pair[local] = Int32(start + j)
        }
    }

    /// The conic distance q of pixel centre (px, py) to local Gaussian j.
    @inline(__always)
    func distance(_ j: Int, px: Float, py: Float) -> Float {
        let dx = px - meanX[j], dy = py - meanY[j]
        return a[j] * dx * dx + twoB[j] * dx * dy + c[j] * dy * dy
    }

    /// The conic distances of (px, py) to local Gaussians j..<j+16 (j + 16 ≤ count), the same
    /// bits as `distance` lane by lane (the same operations in the same order, no fused multiply-add).
    @inline(__always)
    func distances16(from j: Int, px: Float, py: Float) -> SIMD16<Float> {
        func load(_ column: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(column + j).loadUnaligned(as: SIMD16<Float>.self)
        }
        let dx = SIMD16<Float>(repeating: px) - load(meanX), dy = SIMD16<Float>(repeating: py) - load(meanY)
        return load(a) * dx * dx + load(twoB) * dx * dy + load(c) * dy * dy
    }

    func deallocate() {
        storage.deallocate()
        pair.deallocate()
    }
}
