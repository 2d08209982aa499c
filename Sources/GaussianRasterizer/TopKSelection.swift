// The per-pixel search of the top-K rasterizer: among a block's candidate Gaussians (see
// BlockCandidates.swift), the K with the smallest conic distance q (the largest weights
// e^(−q/2)), ties going to the smaller local index (= the smaller (tile, Gaussian) pair index,
// since candidates are kept in ascending pair order).
//
// Neighbouring pixels keep nearly the same Gaussians, so the search starts from the previous
// pixel's answer: its K Gaussians, re-measured at this pixel, give a distance T with at least K
// Gaussians at q ≤ T, so every Gaussian of the new top K has q ≤ T. One pass over the tile's
// distances (computed for all of them in one vectorised loop) keeps the candidates at q ≤ T,
// branch-free; usually only a few more than K survive, and the worst of them are dropped. The
// first pixel of a block has no previous answer and starts from the block's bound instead.
//
// The kept set is the K smallest in (q, local index) order, a pure function of the distances, and
// it is reported in ascending local order, so the blend's summation order does not depend on how
// the search got there. Gaussians with q = NaN are never kept (a tile with fewer than K others
// keeps fewer).

/// Scratch for one tile's top-K searches (K slots plus one tile's worth of candidates). Owns
/// its buffers: call `deallocate()`. Search the pixels of one block in an order where each is
/// near the previous one (see `TilePixels.serpentineRows`); `reset(threshold:)` before a new block.
struct TopKSelection {
    let k: Int
    /// Local indices, ascending, and distances of the kept Gaussians; `count` of them are valid.
    let kept: UnsafeMutablePointer<Int32>
    let keptQ: UnsafeMutablePointer<Float>
    private(set) var count = 0
    /// Every candidate's distance to the current pixel (`TileConics.padded(capacity)` floats).
    private let distances: UnsafeMutablePointer<Float>
    /// The candidates of the current pixel (local index, distance), ascending local order.
    private let candidates: UnsafeMutablePointer<Int32>
    private let candidateQ: UnsafeMutablePointer<Float>
    /// Scratch for choosing which candidates to drop.
    private let order: UnsafeMutablePointer<Int32>
    private let dropped: UnsafeMutablePointer<Bool>

    /// Scratch for searches over tiles of at most `capacity` Gaussians.
    init(k: Int, capacity: Int) {
        self.k = k
        let padded = TileConics.padded(capacity)
        kept = .allocate(capacity: k)
        keptQ = .allocate(capacity: k)
        distances = .allocate(capacity: padded)
        candidates = .allocate(capacity: padded)
        candidateQ = .allocate(capacity: padded)
        order = .allocate(capacity: padded)
        dropped = .allocate(capacity: padded)
    }

    func deallocate() {
        for buffer in [kept, candidates, order] as [UnsafeMutablePointer<Int32>] { buffer.deallocate() }
        for buffer in [keptQ, distances, candidateQ] as [UnsafeMutablePointer<Float>] { buffer.deallocate() }
        dropped.deallocate()
    }

    /// A distance known to bound the K nearest of the next pixel when there is no previous answer.
    private var initialThreshold = Float.infinity

    /// Forgets the previous pixel's answer (call before searching other Gaussians); the next
    /// pixel's K nearest are known to lie at q ≤ `threshold`.
    mutating func reset(threshold: Float = .infinity) {
        count = 0
        initialThreshold = threshold
    }

    /// Searches the tile's Gaussians for pixel centre (px, py); afterwards `kept[0..<count]` and
    /// `keptQ[0..<count]` hold the kept ones (count = min(k, Gaussians with a non-NaN distance)).
    mutating func search(_ tile: TileConics, px: Float, py: Float) {
        tile.distances(px: px, py: py, into: distances)
        // T: the previous answer's largest distance at this pixel (without one, the bound given
        // to `reset`; +∞ keeps every non-NaN candidate).
        var threshold = initialThreshold
        if count == k {
            threshold = distances[Int(kept[0])]
            for slot in 1..<k { threshold = Swift.max(threshold, distances[Int(kept[slot])]) }
            if threshold.isNaN { threshold = .infinity }
        }
        // Branch-free compaction: every Gaussian is written, the next slot advances if it passes.
        var survivors = 0
        for j in 0..<tile.count {
            let q = distances[j]
            candidates[survivors] = Int32(j)
            candidateQ[survivors] = q
            survivors &+= Int(unsafeBitCast(q <= threshold, to: UInt8.self))  // no branch to mispredict
        }
        if survivors > k { dropWorst(survivors - k, of: survivors) }
        count = Swift.min(survivors, k)
        for slot in 0..<count {
            kept[slot] = candidates[slot]
            keptQ[slot] = candidateQ[slot]
        }
    }

    /// Removes the `excess` largest (q, local) candidates of `total`, keeping the others in order.
    private func dropWorst(_ excess: Int, of total: Int) {
        for position in 0..<total { dropped[position] = false }
        if excess <= 4 {
            // Few to drop: find the largest remaining candidate `excess` times.
            for _ in 0..<excess {
                var largest = -1
                for position in 0..<total where !dropped[position] {
                    if largest < 0 || ranksBefore(largest, position) { largest = position }
                }
                dropped[largest] = true
            }
        } else {
            // Many (a tile's first pixel): insertion-sort positions by (q, local), drop all after k.
            for i in 0..<total {
                var j = i
                while j > 0 && ranksBefore(i, Int(order[j - 1])) {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = Int32(i)
            }
            for rank in k..<total { dropped[Int(order[rank])] = true }
        }
        var written = 0
        for position in 0..<total where !dropped[position] {
            candidates[written] = candidates[position]
            candidateQ[written] = candidateQ[position]
            written += 1
        }
    }

    /// Whether candidate `first` comes before candidate `second` in (q, local) order.
    @inline(__always)
    private func ranksBefore(_ first: Int, _ second: Int) -> Bool {
        let q1 = candidateQ[first], q2 = candidateQ[second]
        return q1 < q2 || (q1 == q2 && candidates[first] < candidates[second])
    }
}
