// Which of a tile's Gaussians can be among the top K of some pixel in a small block of the tile.
//
// For every Gaussian, bound its distance q over the block's pixel centres: q is a convex
// quadratic (the conic is positive semi-definite), so its largest value over the block's
// rectangle is at a corner, and its smallest is 0 when the mean lies inside the rectangle and
// otherwise the smallest of the four edges' minima (a one-dimensional quadratic each, minimised
// in closed form and clamped to the edge). With T the K-th smallest upper bound, every pixel of
// the block has at least K Gaussians at q ≤ T, so a Gaussian whose lower bound exceeds T is in
// no pixel's top K and is dropped. The bounds are widened by a margin far above float rounding
// of the per-pixel distances, so the kept sets are exactly those of a search over the whole tile.
// Conics that are not positive semi-definite (or not finite) get (−∞, +∞): always kept.

/// Side of the square pixel blocks whose candidates are pruned (a tile holds four); a block
/// row is one SIMD8 in TopKBlockKernel.swift.
let blockSize = 8

/// Scratch for pruning one tile's Gaussians per block. Owns its buffers: call `deallocate()`.
struct BlockCandidates {
    let k: Int
    /// Local indices (ascending) of the last block's candidates.
    let indices: UnsafeMutablePointer<Int32>
    private let lower: UnsafeMutablePointer<Float>
    private let upper: UnsafeMutablePointer<Float>
    /// The k smallest upper bounds seen so far, ascending.
    private let smallest: UnsafeMutablePointer<Float>

    init(k: Int, capacity: Int) {
        self.k = k
        indices = .allocate(capacity: Swift.max(capacity, 1))
        lower = .allocate(capacity: Swift.max(capacity, 1))
        upper = .allocate(capacity: Swift.max(capacity, 1))
        smallest = .allocate(capacity: k)
    }

    func deallocate() {
        indices.deallocate()
        lower.deallocate()
        upper.deallocate()
        smallest.deallocate()
    }

    /// Fills `indices` with the entries of `tile` that may be among the K nearest of a pixel
    /// centre in columns x0..<x1, rows y0..<y1; returns how many, and a distance T such that
    /// every pixel of the block has its K nearest at q ≤ T (+∞ when the tile has at most K).
    func prune(_ tile: TileConics, x0: Int, x1: Int, y0: Int, y1: Int) -> (count: Int, threshold: Float) {
        let n = tile.count
        if n <= k {
            for j in 0..<n { indices[j] = Int32(j) }
            return (n, .infinity)
        }
        let left = Float(x0) + 0.5, right = Float(x1) - 0.5, top = Float(y0) + 0.5, bottom = Float(y1) - 0.5
        for j in 0..<n {
            (lower[j], upper[j]) = distanceBounds(a: tile.a[j], b: 0.5 * tile.twoB[j], c: tile.c[j],
                                                  dx: (left - tile.meanX[j], right - tile.meanX[j]),
                                                  dy: (top - tile.meanY[j], bottom - tile.meanY[j]),
                                                  coordinates: Swift.max(Swift.max(right, bottom), Swift.max(Swift.abs(tile.meanX[j]), Swift.abs(tile.meanY[j]))))
        }
        let threshold = kthSmallest(upper, count: n)
        var kept = 0
        for j in 0..<n {
            indices[kept] = Int32(j)
            kept &+= Int(unsafeBitCast(!(lower[j] > threshold), to: UInt8.self))  // NaN bounds keep the Gaussian
        }
        return (kept, threshold.isNaN ? .infinity : threshold)
    }

    /// The k-th smallest of `values[0..<count]` (count > k), by a partial insertion sort of
    /// the k smallest.
    private func kthSmallest(_ values: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var filled = 0
        for j in 0..<count {
            let value = values[j]
            if filled == k && !(value < smallest[k - 1]) { continue }
            var position = Swift.min(filled, k - 1)
            while position > 0 && value < smallest[position - 1] {
                smallest[position] = smallest[position - 1]
                position -= 1
            }
            smallest[position] = value
            filled = Swift.min(filled + 1, k)
        }
        return smallest[k - 1]
    }
}

/// Bounds (lower, upper) of q = a·dx² + 2b·dx·dy + c·dy² over dx ∈ [dx.0, dx.1], dy ∈ [dy.0, dy.1],
/// widened by a margin that covers float rounding (of the offsets, from coordinates of magnitude
/// up to `coordinates`, and of q) many times over.
@inline(__always)
func distanceBounds(a: Float, b: Float, c: Float, dx: (Float, Float), dy: (Float, Float), coordinates: Float) -> (Float, Float) {
    guard a >= 0, c >= 0, a * c >= b * b, a.isFinite, b.isFinite, c.isFinite,
          dx.0.isFinite, dx.1.isFinite, dy.0.isFinite, dy.1.isFinite else { return (-.infinity, .infinity) }
    func q(_ x: Float, _ y: Float) -> Float { a * x * x + 2 * b * x * y + c * y * y }
    let upper = Swift.max(Swift.max(q(dx.0, dy.0), q(dx.0, dy.1)), Swift.max(q(dx.1, dy.0), q(dx.1, dy.1)))
    var lower: Float = 0
    if !(dx.0 <= 0 && dx.1 >= 0 && dy.0 <= 0 && dy.1 >= 0) {
        // Along an edge x = X the minimum is at y = −b·X / c (clamped); likewise for y = Y.
        func clamp(_ v: Float, _ range: (Float, Float)) -> Float { Swift.min(Swift.max(v, range.0), range.1) }
        func alongY(_ x: Float) -> Float { q(x, c > 0 ? clamp(-b * x / c, dy) : dy.0) }
        func alongX(_ y: Float) -> Float { q(a > 0 ? clamp(-b * y / a, dx) : dx.0, y) }
        lower = Swift.min(Swift.min(alongY(dx.0), alongY(dx.1)), Swift.min(alongX(dy.0), alongX(dy.1)))
    }
    // Rounding of q: its terms are bounded by S = a·dx² + c·dy² (|2b·dx·dy| ≤ S), so a few ulps
    // of S; 1e-4·S is > 100× that. Rounding of an offset d = p − m: at most ε = 2⁻²⁴·max(|p|, |m|),
    // changing q by at most 2·√(S·max(a, c))·ε; the margin takes 40× that.
    let extentX = Swift.max(Swift.abs(dx.0), Swift.abs(dx.1)), extentY = Swift.max(Swift.abs(dy.0), Swift.abs(dy.1))
    let size = a * extentX * extentX + c * extentY * extentY
    let offsetError = Float(0x1p-24) * (coordinates + 1)
    let margin = 1e-4 * size + 80 * (size * Swift.max(a, c)).squareRoot() * offsetError + 1e-6
    return (lower - margin, upper + margin)
}
