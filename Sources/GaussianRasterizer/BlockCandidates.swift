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
//
// The rasterizer prunes twice: over the whole tile's rectangle, then over each block's among the
// tile's survivors. Every pixel of the tile keeps its K nearest through the first (the same
// argument over the larger rectangle), so every block's K nearest are among the survivors, and
// the second pass's threshold (the K-th smallest upper bound among survivors) bounds them again:
// the kept sets still hold every pixel's K nearest, in the same order, and the renders are the
// same bits as with one pass over the whole list.

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
        lower = .allocate(capacity: TileConics.padded(capacity))
        upper = .allocate(capacity: TileConics.padded(capacity))
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
        // Eight Gaussians at a time (the columns have room for whole chunks; lanes past n are
        // computed and ignored).
        for j in stride(from: 0, to: n, by: 8) {
            let meanX = RowLanes(loading: tile.meanX + j), meanY = RowLanes(loading: tile.meanY + j)
            let coordinates = RowLanes.greater(RowLanes(repeating: Swift.max(right, bottom)),
                                               RowLanes.greater(meanX.magnitude, meanY.magnitude))
            let bounds = distanceBounds(a: RowLanes(loading: tile.a + j), b: 0.5 * RowLanes(loading: tile.twoB + j),
                                        c: RowLanes(loading: tile.c + j), dx: (left - meanX, right - meanX),
                                        dy: (top - meanY, bottom - meanY), coordinates: coordinates)
            bounds.lower.store(to: lower + j)
            bounds.upper.store(to: upper + j)
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
/// lane by lane, widened by a margin that covers float rounding (of the offsets, from coordinates
/// of magnitude up to `coordinates`, and of q) many times over. Lanes whose conic is not
/// positive semi-definite, or with a non-finite input, get (−∞, +∞).
@inline(__always)
func distanceBounds(a: RowLanes, b: RowLanes, c: RowLanes, dx: (RowLanes, RowLanes), dy: (RowLanes, RowLanes),
                    coordinates: RowLanes) -> (lower: RowLanes, upper: RowLanes) {
    typealias V = RowLanes
    @inline(__always) func q(_ x: V, _ y: V) -> V { a * x * x + 2 * b * x * y + c * y * y }
    @inline(__always) func clamp(_ v: V, _ range: (V, V)) -> V { V.lesser(V.greater(v, range.0), range.1) }
    let upper = V.greater(V.greater(q(dx.0, dy.0), q(dx.0, dy.1)), V.greater(q(dx.1, dy.0), q(dx.1, dy.1)))
    // Along an edge x = X the minimum is at y = −b·X / c (clamped; the first corner when c = 0);
    // likewise along y = Y. Inside the rectangle the minimum is 0.
    @inline(__always) func alongY(_ x: V) -> V { q(x, clamp(-b * x / c, dy).replacing(with: dy.0, where: c .<= 0)) }
    @inline(__always) func alongX(_ y: V) -> V { q(clamp(-b * y / a, dx).replacing(with: dx.0, where: a .<= 0), y) }
    var lower = V.lesser(V.lesser(alongY(dx.0), alongY(dx.1)), V.lesser(alongX(dy.0), alongX(dy.1)))
    let outside = V.greater(V.greater(dx.0, dy.0), -V.lesser(dx.1, dy.1))  // ≤ 0 inside
    lower.replace(with: 0, where: outside .<= 0)
    // Rounding of q: its terms are bounded by S = a·dx² + c·dy² (|2b·dx·dy| ≤ S), so a few ulps
    // of S; 1e-4·S is > 100× that. Rounding of an offset d = p − m: at most ε = 2⁻²⁴·max(|p|, |m|),
    // changing q by at most 2·√(S·max(a, c))·ε; the margin takes 40× that.
    let extentX = V.greater(dx.0.magnitude, dx.1.magnitude), extentY = V.greater(dy.0.magnitude, dy.1.magnitude)
    let size: V = a * extentX * extentX + c * extentY * extentY
    let offsetError: V = 0x1p-24 * (coordinates + 1)
    let offsetMargin: V = 80 * approximateSquareRoot(size * V.greater(a, c)) * offsetError
    let margin: V = 1e-4 * size + offsetMargin + 1e-6
    // Positive semi-definite (a, c ≥ 0, ac ≥ b²) and every input finite (x·0 is NaN otherwise).
    let finite: V = ((a + b) + (c + dx.0) + (dx.1 + dy.0 + dy.1)) * 0
    let definite = V.lesser(V.lesser(a, c), a * c - b * b) + finite
    let bounded = V(repeating: 0).replacing(with: 1, where: definite .>= 0)  // NaN: 0
    return ((lower - margin).replacing(with: -.infinity, where: bounded .!= 1),
            (upper + margin).replacing(with: .infinity, where: bounded .!= 1))
}

/// √x within 4 % for finite x ≥ 0 (halving the exponent through the bit pattern): enough for a
/// margin that is 40× what it covers, and without the per-lane library calls of
/// `SIMD8.squareRoot()`.
@inline(__always)
func approximateSquareRoot(_ x: RowLanes) -> RowLanes {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    return unsafeBitCast((bits &>> 1) &+ 0x1FBD_1DF5, to: RowLanes.self).replacing(with: 0, where: x .== 0)
}
