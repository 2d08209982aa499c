// The per-pixel search of the top-K rasterizer: the K Gaussians of a tile with the smallest conic
// distance q (the largest weights e^(−q/2)), ties going to the smaller (tile, Gaussian) pair index.
//
// The kept set is a pure function of the (q, pair) values, whatever order they are visited in:
// a candidate replaces the current worst exactly when it is smaller in the (q, pair) order. So
// the search may skip candidates that cannot win: after the first K, distances are computed 16
// lanes at a time and a chunk whose lanes are all above the current worst q is rejected with one
// vector comparison (lanes equal to it are still examined, for the pair tie-break). The tile's
// Gaussians are sorted by distance from the tile centre (TileConics), so the worst q tightens
// quickly and most chunks are rejected whole.

/// Scratch for one thread's top-K searches (K slots). Owns its buffers: call `deallocate()`.
struct TopKSelection {
    let k: Int
    /// q and pair index of the kept Gaussians, unordered; `count` of them are valid.
    let q: UnsafeMutablePointer<Float>
    let pair: UnsafeMutablePointer<Int32>
    private(set) var count = 0
    /// The slot holding the worst kept (q, pair), once `count == k`.
    private var worst = 0

    init(k: Int) {
        self.k = k
        q = UnsafeMutablePointer<Float>.allocate(capacity: k)
        pair = UnsafeMutablePointer<Int32>.allocate(capacity: k)
    }

    func deallocate() {
        q.deallocate()
        pair.deallocate()
    }

    /// Searches the tile's Gaussians for pixel centre (px, py); afterwards slots 0..<count hold
    /// the kept ones (count = min(k, tile.count)).
    mutating func search(_ tile: TileConics, px: Float, py: Float) {
        count = 0
        var j = 0
        while j < tile.count && count < k {
            q[count] = tile.distance(j, px: px, py: py)
            pair[count] = tile.pair[j]
            count += 1
            j += 1
        }
        guard count == k else { return }
        findWorst()
        while j + 16 <= tile.count {
            let distances = tile.distances16(from: j, px: px, py: py)
            let candidates = distances .<= SIMD16<Float>(repeating: q[worst])
            if any(candidates) {
                for lane in 0..<16 where candidates[lane] { consider(distances[lane], tile.pair[j + lane]) }
            }
            j += 16
        }
        while j < tile.count {
            consider(tile.distance(j, px: px, py: py), tile.pair[j])
            j += 1
        }
    }

    /// Replaces the worst kept Gaussian by (value, candidate) when that is smaller in (q, pair) order.
    @inline(__always)
    private mutating func consider(_ value: Float, _ candidate: Int32) {
        guard value < q[worst] || (value == q[worst] && candidate < pair[worst]) else { return }
        q[worst] = value
        pair[worst] = candidate
        findWorst()
    }

    @inline(__always)
    private mutating func findWorst() {
        worst = 0
        for slot in 1..<k where q[slot] > q[worst] || (q[slot] == q[worst] && pair[slot] > pair[worst]) { worst = slot }
    }
}
