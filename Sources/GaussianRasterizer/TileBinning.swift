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

/// The tile-index rectangle (inclusive) a screen Gaussian's 3σ bounding box touches, or nil when
/// the box misses the image (or the row is not finite): the tiles that consider it.
@inline(__always)
func tileBox(_ row: UnsafePointer<Float>, grid: TileGrid) -> (x0: Int, x1: Int, y0: Int, y1: Int)? {
    let mx = row[ScreenColumn.meanX], my = row[ScreenColumn.meanY]
    let radius = threeSigmaRadius(a: row[ScreenColumn.conicA], b: row[ScreenColumn.conicB], c: row[ScreenColumn.conicC])
    guard mx.isFinite, my.isFinite, !radius.isNaN else { return nil }
    let left = mx - radius, right = mx + radius, top = my - radius, bottom = my + radius
    guard right >= 0, bottom >= 0, left < Float(grid.width), top < Float(grid.height) else { return nil }
    let x0 = Swift.max(0, Int(Swift.max(left, 0)) / tileSize)
    let x1 = Swift.min(grid.tilesAcross - 1, Int(Swift.min(right, Float(grid.width - 1))) / tileSize)
    let y0 = Swift.max(0, Int(Swift.max(top, 0)) / tileSize)
    let y1 = Swift.min(grid.tilesDown - 1, Int(Swift.min(bottom, Float(grid.height - 1))) / tileSize)
    return (x0, x1, y0, y1)
}

/// A rectangle of pixels: columns `x`, rows `y`.
public struct PixelRectangle: Equatable, Sendable {
    public let x: Range<Int>
    public let y: Range<Int>

    public func intersects(_ other: PixelRectangle) -> Bool { x.overlaps(other.x) && y.overlaps(other.y) }
}

/// Where each Gaussian of Image-GS rows (G, 8) can reach in a top-K render of width × height:
/// the 16-pixel tiles its 3σ box touches, clipped to the image, or nil when it reaches no pixel.
/// A pixel blends only Gaussians whose footprints contain it, so Gaussians with disjoint
/// footprints never share a pixel (LayoutColourSolver renders many of them at once).
public func topKFootprints(imageGS parameters: Tensor, width: Int, height: Int) -> [PixelRectangle?] {
    let grid = TileGrid(width: width, height: height)
    let screen = withoutGradients { imageGSScreenFeatures(parameters, width: width, height: height) }.scalars
    return screen.withUnsafeBufferPointer { rows in
        (0..<(screen.count / ScreenColumn.count)).map { g in
            tileBox(rows.baseAddress! + g * ScreenColumn.count, grid: grid).map { box in
                PixelRectangle(x: (box.x0 * tileSize)..<Swift.min((box.x1 + 1) * tileSize, width),
                               y: (box.y0 * tileSize)..<Swift.min((box.y1 + 1) * tileSize, height))
            }
        }
    }
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
            guard let box = tileBox(features + g * ScreenColumn.count, grid: grid) else { continue }
            boxes[g] = box
            for ty in box.y0...box.y1 { for tx in box.x0...box.x1 { counts[ty * grid.tilesAcross + tx + 1] += 1 } }
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

/// ∂L/∂q · ∂q/∂(mx, my, a, b) and ∂L/∂q · ∂q/∂c for offset d = p − m and conic [[a, b], [b, c]]:
/// ∂q/∂m = −2 Σ⁻¹ d, ∂q/∂a = dx², ∂q/∂b = 2 dx dy, ∂q/∂c = dy².
@inline(__always)
func conicGradient(dx: Float, dy: Float, a: Float, b: Float, c: Float, dQ: Float) -> (SIMD4<Float>, Float) {
    (SIMD4(-(dQ * 2 * (a * dx + b * dy)), -(dQ * 2 * (b * dx + c * dy)), dQ * dx * dx, dQ * 2 * dx * dy), dQ * dy * dy)
}

/// Adds ∂L/∂q · ∂q/∂(mx, my, a, b, c) at pixel (px, py) into `accumulator[0..<5]`.
@inline(__always)
func accumulateConicGradient(_ accumulator: UnsafeMutablePointer<Float>, row: UnsafePointer<Float>,
                             px: Float, py: Float, dQ: Float) {
    let (conic, conicC) = conicGradient(dx: px - row[0], dy: py - row[1], a: row[2], b: row[3], c: row[4], dQ: dQ)
    for column in 0..<4 { accumulator[column] += conic[column] }
    accumulator[4] += conicC
}

/// One tile's Gaussians (or a block's subset of them) gathered into contiguous columns
/// (structure of arrays), in ascending pair order, so loops over them run eight Gaussians at a
/// time (BlockCandidates.swift). Columns have room for a multiple of 16. Owns its storage: call
/// `deallocate()` when done.
struct TileConics {
    private(set) var count = 0
    let capacity: Int
    let meanX, meanY, a, twoB, c, red, green, blue: UnsafeMutablePointer<Float>
    /// The (tile, Gaussian) pair index of each entry, ascending.
    let pair: UnsafeMutablePointer<Int32>
    private let storage: UnsafeMutablePointer<Float>

    /// `count` rounded up to whole 16-lane chunks.
    static func padded(_ count: Int) -> Int { Swift.max(16, (count + 15) / 16 * 16) }

    /// Empty columns for up to `capacity` Gaussians.
    init(capacity: Int) {
        self.capacity = capacity
        let stride = Self.padded(capacity)
        storage = .allocate(capacity: 8 * stride)
        storage.initialize(repeating: 0, count: 8 * stride)
        pair = .allocate(capacity: stride)
        (meanX, meanY, a, twoB, c) = (storage, storage + stride, storage + 2 * stride, storage + 3 * stride, storage + 4 * stride)
        (red, green, blue) = (storage + 5 * stride, storage + 6 * stride, storage + 7 * stride)
    }

    /// Gathers pairs `start..<start+count` of `bins` from screen-feature rows.
    init(rows: UnsafePointer<Float>, bins: TileBins, start: Int, count: Int) {
        self.init(capacity: count)
        for j in 0..<count {
            let row = rows + Int(bins.gaussianIndices[start + j]) * ScreenColumn.count
            set(j, meanX: row[ScreenColumn.meanX], meanY: row[ScreenColumn.meanY], a: row[ScreenColumn.conicA],
                twoB: 2 * row[ScreenColumn.conicB], c: row[ScreenColumn.conicC], red: row[ScreenColumn.red],
                green: row[ScreenColumn.green], blue: row[ScreenColumn.blue], pair: Int32(start + j))
        }
        self.count = count
    }

    /// Replaces the contents by entries `indices[0..<count]` (ascending) of `source`.
    mutating func gather(_ indices: UnsafePointer<Int32>, count: Int, of source: TileConics) {
        precondition(count <= capacity, "TileConics.gather: \(count) entries, room for \(capacity)")
        for j in 0..<count {
            let i = Int(indices[j])
            set(j, meanX: source.meanX[i], meanY: source.meanY[i], a: source.a[i], twoB: source.twoB[i], c: source.c[i],
                red: source.red[i], green: source.green[i], blue: source.blue[i], pair: source.pair[i])
        }
        self.count = count
    }

    @inline(__always)
    private func set(_ j: Int, meanX x: Float, meanY y: Float, a conicA: Float, twoB conicTwoB: Float, c conicC: Float,
                     red r: Float, green g: Float, blue b: Float, pair index: Int32) {
        (meanX[j], meanY[j], a[j], twoB[j], c[j]) = (x, y, conicA, conicTwoB, conicC)
        (red[j], green[j], blue[j], pair[j]) = (r, g, b, index)
    }

    func deallocate() {
        storage.deallocate()
        pair.deallocate()
    }
}
