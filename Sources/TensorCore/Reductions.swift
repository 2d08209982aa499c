// Reductions over any set of axes, with or without keeping the reduced axes as extent 1.
//
// One primitive reduces a single axis, viewing the tensor as (outer, n, inner); reductions
// over several axes apply it one axis at a time, from the last, so each step's pullback is
// that primitive's. mean and variance are compositions.

enum AxisReduction {
    case sum, max, min
}

extension Tensor {
    /// Reduces one axis, keeping it with extent 1: (outer, n, inner) → (outer, 1, inner).
    /// For max/min the gradient flows to the first extreme element along the axis.
    func reducedAxis(_ axis: Int, _ kind: AxisReduction) -> Tensor {
        let n = shape[axis]
        precondition(n > 0 || kind == .sum, "\(kind) over an empty axis of shape \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var outputShape = shape
        outputShape[axis] = 1
        let inputShape = shape
        var winners = [Int32]()  // for max/min: index along the axis of each output's extreme
        if kind != .sum { winners = [Int32](repeating: 0, count: outer * inner) }

        let output: [Float] = scalars.withUnsafeBufferPointer { source in
            if kind == .sum { return Tensor.axisSum(source.baseAddress!, outer: outer, n: n, inner: inner) }
            return winners.withUnsafeMutableBufferPointer { winnerBuffer in
                let x = source.baseAddress!, w = winnerBuffer.baseAddress!
                return generateScalars(outer * inner) { position in
                    let o = position / inner, i = position % inner
                    let base = o * n * inner + i
                    var best = x[base], bestIndex = 0
                    for k in 1..<Swift.max(n, 1) {
                        let value = x[base + k * inner]
                        if kind == .max ? value > best : value < best { best = value; bestIndex = k }
                    }
                    w[position] = Int32(bestIndex)
                    return best
                }
            }
        }
        return Tensor.record("reduce_\(kind)", shape: outputShape, scalars: output, inputs: [self]) { gradient in
            if kind == .sum {
                return [Tensor(shape: inputShape, scalars: gradient.expandedScalars(to: inputShape))]
            }
            var dx = [Float](repeating: 0, count: outer * n * inner)
            for position in 0..<(outer * inner) {
                let o = position / inner, i = position % inner
                dx[(o * n + Int(winners[position])) * inner + i] = gradient.scalars[position]
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Σ over the middle axis of x read as (outer, n, inner) → (outer, inner). With inner = 1,
    /// contiguous SIMD sums; otherwise the n rows of `inner` values are added in order into the
    /// output row (a vectorised loop, where summing each column down the axis would stride
    /// through memory), in tiles of at most 4096 columns so large reductions still split
    /// across threads. Each output's additions keep the order k = 0, 1, …, n − 1.
    private static func axisSum(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int) -> [Float] {
        var output = [Float](repeating: 0, count: outer * inner)
        if n == 0 { return output }
        output.withUnsafeMutableBufferPointer { outputBuffer in
            let y = outputBuffer.baseAddress!
            if inner == 1 {
                parallelChunks(outer, minimumPerThread: Swift.max(1, 32_768 / n)) { range in
                    for o in range { y[o] = contiguousSum(x + o * n, n) }
                }
                return
            }
            let tileWidth = Swift.min(inner, 4096), tilesPerRow = (inner + tileWidth - 1) / tileWidth
            parallelChunks(outer * tilesPerRow, minimumPerThread: Swift.max(1, 32_768 / (n * tileWidth))) { range in
                for tile in range {
                    let o = tile / tilesPerRow, start = (tile % tilesPerRow) * tileWidth
                    let columns = Swift.min(tileWidth, inner - start)
                    let destination = y + o * inner + start, source = x + o * n * inner + start
                    for k in 0..<n {
                        let row = source + k * inner
                        for i in 0..<columns { destination[i] += row[i] }
                    }
                }
            }
        }
        return output
    }

    /// Applies a single-axis reduction to each of `axes` (all axes when nil).
    /// Adjacent reduced axes are merged first, so reducing (N, C, L) over [1, 2] is one pass;
    /// axes of extent 1 need no pass at all (reducing them is a reshape).
    func reduced(_ kind: AxisReduction, alongAxes axes: [Int]?, keepingDimensions: Bool) -> Tensor {
        let resolved = Set((axes ?? Array(0..<rank)).map { normalizedAxis($0) }).sorted(by: >)
        let passes = resolved.filter { shape[$0] != 1 }
        var result = self
        if let last = passes.first, let first = passes.last, last - first + 1 == passes.count, passes.count > 1 {
            // One contiguous block of axes: view it as a single axis.
            let merged = Array(shape[..<first]) + [shape[first...last].reduce(1, *)] + Array(shape[(last + 1)...])
            result = result.reshaped(merged).reducedAxis(first, kind)
        } else {
            for axis in passes { result = result.reducedAxis(axis, kind) }
        }
        if keepingDimensions {
            return result.reshaped(shape.enumerated().map { resolved.contains($0.offset) ? 1 : $0.element })
        }
        let kept = (0..<rank).filter { !resolved.contains($0) }.map { shape[$0] }
        return result.reshaped(kept)
    }

    /// Sum over `axes` (every axis when nil).
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduced(.sum, alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// Maximum over `axes` (every axis when nil).
    public func max(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduced(.max, alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// Minimum over `axes` (every axis when nil).
    public func min(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        reduced(.min, alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// Arithmetic mean over `axes` (every axis when nil).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let resolved = Set((axes ?? Array(0..<rank)).map { normalizedAxis($0) })
        let count = resolved.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: Array(resolved), keepingDimensions: keepingDimensions) / Float(Swift.max(count, 1))
    }

    /// Variance over `axes`: mean of squared deviations (divided by n, or n − 1 when `unbiased`).
    public func variance(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false, unbiased: Bool = false) -> Tensor {
        let resolved = Set((axes ?? Array(0..<rank)).map { normalizedAxis($0) })
        let count = resolved.reduce(1) { $0 * shape[$1] }
        let deviations = self - mean(alongAxes: Array(resolved), keepingDimensions: true)
        let sumOfSquares = deviations.squared().sum(alongAxes: Array(resolved), keepingDimensions: keepingDimensions)
        return sumOfSquares / Float(Swift.max(unbiased ? count - 1 : count, 1))
    }
}
