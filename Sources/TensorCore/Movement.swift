// Movement: reshape, permute, broadcast, slice, zero padding, concatenation and gather are
// primitives; transpose, split, reflection padding, repeat and squeeze are compositions.
//
// Permute, broadcast, slice and pad all read or write "strided views": an offset plus one
// stride per output axis into a contiguous buffer. Two kernels serve them all.

/// Copies the strided view (`offset`, `strides` per axis of `shape`) of `source` into a new
/// contiguous array of `shape`.
func stridedGather(_ source: [Float], offset: Int, strides: [Int], shape: [Int]) -> [Float] {
    let total = shape.reduce(1, *)
    let inner = shape.last ?? 1, innerStride = strides.last ?? 0
    let rows = inner == 0 ? 0 : total / inner
    return source.withUnsafeBufferPointer { input in
        [Float](unsafeUninitializedCapacity: total) { out, initialized in
            let x = input.baseAddress, o = out.baseAddress
            parallelChunks(rows, minimumPerThread: Swift.max(1, 32_768 / Swift.max(inner, 1))) { rowRange in
                var odometer = RowOdometer(shape: shape, stridesA: strides, row: rowRange.lowerBound, baseA: offset)
                for row in rowRange {
                    let position = odometer.offsetA
                    for i in 0..<inner { o![row * inner + i] = x![position + i * innerStride] }
                    odometer.advance()
                }
            }
            initialized = total
        }
    }
}

/// Adds `values` (contiguous, of `shape`) into the strided view (`offset`, `strides`) of
/// `destination`. Sequential, so views that overlap (stride 0) accumulate correctly.
func stridedScatterAdd(_ values: [Float], into destination: inout [Float], offset: Int, strides: [Int], shape: [Int]) {
    let total = shape.reduce(1, *)
    let inner = shape.last ?? 1, innerStride = strides.last ?? 0
    let rows = inner == 0 ? 0 : total / inner
    values.withUnsafeBufferPointer { v in
        destination.withUnsafeMutableBufferPointer { d in
            var odometer = RowOdometer(shape: shape, stridesA: strides, row: 0, baseA: offset)
            for row in 0..<rows {
                let position = odometer.offsetA
                for i in 0..<inner { d[position + i * innerStride] += v[row * inner + i] }
                odometer.advance()
            }
        }
    }
}

extension Tensor {
    /// The same elements with a new shape of equal element count; one extent may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot infer \(newShape) from \(shape)")
            resolved[inferred] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "reshape: \(shape) (\(count) elements) to \(newShape)")
        if resolved == shape { return self }
        let inputShape = shape
        return Tensor.record("reshape", shape: resolved, scalars: scalars, inputs: [self]) { g in
            [g.reshaped(inputShape)]
        }
    }

    /// Reorders axes: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permute: \(order) is not a permutation of \(rank) axes")
        if order == Array(0..<rank) { return self }
        let inputStrides = strides
        let outputShape = order.map { shape[$0] }
        let output = stridedGather(scalars, offset: 0, strides: order.map { inputStrides[$0] }, shape: outputShape)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return Tensor.record("permute", shape: outputShape, scalars: output, inputs: [self]) { g in
            [g.permuted(inverse)]
        }
    }

    /// Swaps two axes (the last two by default).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(first), normalizedAxis(second))
        return permuted(order)
    }

    /// Broadcasts to `target` (NumPy rules); the gradient sums over the broadcast axes.
    public func expanded(to target: [Int]) -> Tensor {
        precondition(broadcastShape(shape, target) == target, "expand: \(shape) does not broadcast to \(target)")
        if target == shape { return self }
        let output = stridedGather(scalars, offset: 0, strides: broadcastStrides(shape, to: target), shape: target)
        let inputShape = shape
        return Tensor.record("expand", shape: target, scalars: output, inputs: [self]) { g in
            [g.reduced(toShape: inputShape)]
        }
    }

    /// Inserts an axis of extent 1 at `axis` (which may equal `rank`).
    public func unsqueezed(_ axis: Int) -> Tensor {
        var newShape = shape
        newShape.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(newShape)
    }

    /// Removes `axis`, which must have extent 1.
    public func squeezed(_ axis: Int) -> Tensor {
        let resolved = normalizedAxis(axis)
        precondition(shape[resolved] == 1, "squeeze: axis \(axis) of \(shape) is not 1")
        var newShape = shape
        newShape.remove(at: resolved)
        return reshaped(newShape)
    }

    /// The elements in `range` along `axis` (every `step`-th, step ≥ 1).
    public func sliced(_ range: Range<Int>, alongAxis axis: Int, step: Int = 1) -> Tensor {
        let a = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a] && step >= 1,
                     "slice: \(range) step \(step) out of extent \(shape[a]) on axis \(axis) of \(shape)")
        var outputShape = shape
        outputShape[a] = (range.count + step - 1) / step
        var viewStrides = strides
        let offset = range.lowerBound * viewStrides[a]
        viewStrides[a] *= step
        let output = stridedGather(scalars, offset: offset, strides: viewStrides, shape: outputShape)
        let inputShape = shape
        return Tensor.record("slice", shape: outputShape, scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
            stridedScatterAdd(g.scalars, into: &dx, offset: offset, strides: viewStrides, shape: outputShape)
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Pads with zeros: `padding[i]` = (before, after) for axis i; missing trailing entries are 0.
    public func padded(_ padding: [(before: Int, after: Int)]) -> Tensor {
        precondition(padding.count <= rank && padding.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "pad: \(padding) invalid for shape \(shape)")
        let pads = padding + Array(repeating: (0, 0), count: rank - padding.count)
        let outputShape = zip(shape, pads).map { $0 + $1.before + $1.after }
        let outputStrides = Tensor.contiguousStrides(outputShape)
        let offset = zip(pads, outputStrides).reduce(0) { $0 + $1.0.before * $1.1 }
        var output = [Float](repeating: 0, count: outputShape.reduce(1, *))
        stridedScatterAdd(scalars, into: &output, offset: offset, strides: outputStrides, shape: shape)
        let inputShape = shape
        return Tensor.record("pad", shape: outputShape, scalars: output, inputs: [self]) { g in
            [Tensor(shape: inputShape, scalars: stridedGather(g.scalars, offset: offset, strides: outputStrides, shape: inputShape))]
        }
    }

    /// Pads by reflection about the edge elements (edges not repeated, as PyTorch's "reflect"):
    /// `padding[i]` = (before, after) for axis i, each smaller than that axis's extent.
    public func reflectionPadded(_ padding: [(before: Int, after: Int)]) -> Tensor {
        var result = self
        for (axis, pad) in padding.enumerated() where pad.before > 0 || pad.after > 0 {
            let n = shape[axis]
            precondition(pad.before < n && pad.after < n, "reflection pad \(pad) needs extent > pad on axis \(axis) of \(shape)")
            let indices = (-pad.before..<(n + pad.after)).map { i in i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
            result = result.gathered(indices, alongAxis: axis)
        }
        return result
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenated(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let a = tensors[0].normalizedAxis(axis)
        let reference = tensors[0].shape
        for t in tensors {
            precondition(t.rank == reference.count && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == reference[$0] },
                         "concat: shape \(t.shape) does not match \(reference) off axis \(axis)")
        }
        let extents = tensors.map { $0.shape[a] }
        var outputShape = reference
        outputShape[a] = extents.reduce(0, +)
        let outer = reference[..<a].reduce(1, *), inner = reference[(a + 1)...].reduce(1, *)
        let total = outputShape[a] * inner
        var output = [Float](repeating: 0, count: outer * total)
        var start = 0
        for t in tensors {
            let block = t.shape[a] * inner
            t.scalars.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { destination in
                    for o in 0..<outer {
                        for i in 0..<block { destination[o * total + start + i] = source[o * block + i] }
                    }
                }
            }
            start += block
        }
        return record("concat", shape: outputShape, scalars: output, inputs: tensors) { g in
            var offsets = 0
            return extents.map { extent in
                defer { offsets += extent }
                return g.sliced(offsets..<(offsets + extent), alongAxis: a)
            }
        }
    }

    /// Splits along `axis` into pieces of the given extents (which must sum to the axis's extent).
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let a = normalizedAxis(axis)
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not sum to \(shape[a]) on axis \(axis)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return sliced(start..<(start + size), alongAxis: a)
        }
    }

    /// Selects `indices` along `axis` (repeats allowed); the gradient scatter-adds back.
    public func gathered(_ indices: [Int], alongAxis axis: Int) -> Tensor {
        let a = normalizedAxis(axis)
        let n = shape[a]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gather: index out of 0..<\(n) on axis \(axis) of \(shape)")
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let m = indices.count
        var outputShape = shape
        outputShape[a] = m
        let output: [Float] = scalars.withUnsafeBufferPointer { source in
            let x = source.baseAddress
            return generateScalars(outer * m * inner) { position in
                let i = position % inner, j = (position / inner) % m, o = position / (inner * m)
                return x![(o * n + indices[j]) * inner + i]
            }
        }
        let inputShape = shape
        return Tensor.record("gather", shape: outputShape, scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: outer * n * inner)
            for o in 0..<outer {
                for j in 0..<m {
                    let from = (o * m + j) * inner, to = (o * n + indices[j]) * inner
                    for i in 0..<inner { dx[to + i] += g.scalars[from + i] }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Tiles the tensor `counts[i]` times along axis i (PyTorch's `repeat`), as reshape → expand → reshape.
    public func repeated(_ counts: [Int]) -> Tensor {
        precondition(counts.count == rank && counts.allSatisfy { $0 >= 1 }, "repeat: counts \(counts) for shape \(shape)")
        let interleaved = shape.flatMap { [1, $0] }
        let target = zip(counts, shape).flatMap { [$0, $1] }
        return reshaped(interleaved).expanded(to: target).reshaped(zip(counts, shape).map { $0 * $1 })
    }
}
