// Pooling and nearest upsampling over NCHW (NCL for 1-D) tensors.
//
// Max and average pooling and nearest upsampling are primitives with pullbacks; 1-D pools are
// the 2-D ones over a height of 1; global average pooling is a composition.
// Forward and backward run over planes (N·C, in parallel) and, within a plane, over output
// positions in order, each window's in-bounds rows and columns found once (no index division
// per element).

/// Window geometry of a 2-D pool over one (H, W) plane.
struct PoolingWindow {
    let height: Int, width: Int
    let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)

    /// OH = ⌊(H + 2·pad − K) / stride⌋ + 1 (floor mode, as PyTorch and Keras "valid").
    var outputHeight: Int { (height + 2 * padding.0 - kernel.0) / stride.0 + 1 }
    var outputWidth: Int { (width + 2 * padding.1 - kernel.1) / stride.1 + 1 }

    func validate(_ context: String) {
        precondition(kernel.0 >= 1 && kernel.1 >= 1 && stride.0 >= 1 && stride.1 >= 1,
                     "\(context): kernel and stride must be ≥ 1")
        precondition(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
                     "\(context): padding \(padding) must be at most half the kernel \(kernel)")
        precondition(outputHeight >= 1 && outputWidth >= 1, "\(context): kernel \(kernel) larger than input \(height)×\(width)")
    }

    /// The in-bounds input rows of output row `oh`'s window (never empty once validated).
    @inline(__always)
    func inputRows(_ oh: Int) -> Range<Int> {
        let h0 = oh * stride.0 - padding.0
        return Swift.max(h0, 0)..<Swift.min(h0 + kernel.0, height)
    }

    /// The in-bounds input columns of output column `ow`'s window (never empty once validated).
    @inline(__always)
    func inputColumns(_ ow: Int) -> Range<Int> {
        let w0 = ow * stride.1 - padding.1
        return Swift.max(w0, 0)..<Swift.min(w0 + kernel.1, width)
    }

    /// Calls `visit(p, inputIndices)` for each output position p = oh·OW + ow of a plane, in
    /// order, with the in-bounds input indices (ih·W + iw) of its window, row by row.
    @inline(__always)
    func forEachOutput(_ visit: (Int, WindowIndices) -> Void) {
        var p = 0
        for oh in 0..<outputHeight {
            let rows = inputRows(oh)
            for ow in 0..<outputWidth {
                visit(p, WindowIndices(rows: rows, columns: inputColumns(ow), width: width))
                p += 1
            }
        }
    }

    /// Runs `body(plane)` for each of `planes` (N·C) planes, in parallel chunks of planes.
    @inline(__always)
    func forEachPlane(_ planes: Int, _ body: (Int) -> Void) {
        parallelChunks(planes, minimumPerThread: Swift.max(1, 32_768 / Swift.max(height * width, 1))) { range in
            for plane in range { body(plane) }
        }
    }
}

/// The in-bounds input positions of one window, as indices ih·W + iw within the plane.
struct WindowIndices {
    let rows: Range<Int>, columns: Range<Int>, width: Int

    /// The window's first position (top left).
    var first: Int { rows.lowerBound * width + columns.lowerBound }
    var count: Int { rows.count * columns.count }

    @inline(__always)
    func forEach(_ visit: (Int) -> Void) {
        for ih in rows {
            for iw in columns { visit(ih * width + iw) }
        }
    }
}

extension Tensor {
    /// 2-D max pooling of (N, C, H, W); padded positions never win. The gradient goes to the
    /// first maximum of each window.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        precondition(rank == 4, "maxPool2d: input \(shape) must be rank 4")
        let window = PoolingWindow(height: shape[2], width: shape[3], kernel: kernel, stride: stride ?? kernel, padding: padding)
        window.validate("maxPool2d")
        let planes = shape[0] * shape[1], planeSize = shape[2] * shape[3]
        let OP = window.outputHeight * window.outputWidth  // outputs per plane
        var winners = [Int32](repeating: 0, count: planes * OP)  // index within the plane
        var output = uninitializedScalars(planes * OP)  // (N, C, OH, OW)
        scalars.withUnsafeBufferPointer { source in
            winners.withUnsafeMutableBufferPointer { winnerBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    let x = source.baseAddress!, w = winnerBuffer.baseAddress!, y = outputBuffer.baseAddress!
                    window.forEachPlane(planes) { plane in
                        let input = x + plane * planeSize, base = plane * OP
                        window.forEachOutput { p, inputs in
                            var best = input[inputs.first], bestIndex = inputs.first
                            inputs.forEach { i in  // selects, not a branch: which wins is unpredictable
                                let value = input[i], better = value > best
                                best = better ? value : best
                                bestIndex = better ? i : bestIndex
                            }
                            y[base + p] = best
                            w[base + p] = Int32(bestIndex)
                        }
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record("maxPool2d", shape: [shape[0], shape[1], window.outputHeight, window.outputWidth],
                             scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: planes * planeSize)
            dx.withUnsafeMutableBufferPointer { dxBuffer in
                g.scalars.withUnsafeBufferPointer { gradient in
                    let d = dxBuffer.baseAddress!, gp = gradient.baseAddress!
                    window.forEachPlane(planes) { plane in
                        for p in (plane * OP)..<((plane + 1) * OP) { d[plane * planeSize + Int(winners[p])] += gp[p] }
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// 2-D average pooling of (N, C, H, W). With `countIncludesPadding` (PyTorch's default) the
    /// divisor is the kernel area; otherwise it is the number of in-bounds positions.
    public func averagePool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                              countIncludesPadding: Bool = true) -> Tensor {
        precondition(rank == 4, "averagePool2d: input \(shape) must be rank 4")
        let window = PoolingWindow(height: shape[2], width: shape[3], kernel: kernel, stride: stride ?? kernel, padding: padding)
        window.validate("averagePool2d")
        let planes = shape[0] * shape[1], planeSize = shape[2] * shape[3]
        let OP = window.outputHeight * window.outputWidth  // outputs per plane
        // The divisor of each output position of a plane.
        var divisors = [Float](repeating: Float(kernel.0 * kernel.1), count: OP)
        if !countIncludesPadding { window.forEachOutput { p, inputs in divisors[p] = Float(inputs.count) } }
        let divisorOf = divisors
        var output = uninitializedScalars(planes * OP)  // (N, C, OH, OW)
        scalars.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                let x = source.baseAddress!, y = outputBuffer.baseAddress!
                window.forEachPlane(planes) { plane in
                    let input = x + plane * planeSize, base = plane * OP
                    window.forEachOutput { p, inputs in
                        var total: Float = 0
                        inputs.forEach { total += input[$0] }
                        y[base + p] = total / divisorOf[p]
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record("averagePool2d", shape: [shape[0], shape[1], window.outputHeight, window.outputWidth],
                             scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: planes * planeSize)
            dx.withUnsafeMutableBufferPointer { dxBuffer in
                g.scalars.withUnsafeBufferPointer { gradient in
                    let d = dxBuffer.baseAddress!, gp = gradient.baseAddress!
                    window.forEachPlane(planes) { plane in
                        let dxPlane = d + plane * planeSize, base = plane * OP
                        window.forEachOutput { p, inputs in
                            let share = gp[base + p] / divisorOf[p]
                            inputs.forEach { dxPlane[$0] += share }
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// 1-D max pooling of (N, C, L).
    public func maxPool1d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        precondition(rank == 3, "maxPool1d: input \(shape) must be rank 3")
        return unsqueezed(2).maxPool2d(kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding)).squeezed(2)
    }

    /// 1-D average pooling of (N, C, L).
    public func averagePool1d(kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludesPadding: Bool = true) -> Tensor {
        precondition(rank == 3, "averagePool1d: input \(shape) must be rank 3")
        return unsqueezed(2).averagePool2d(kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding),
                                           countIncludesPadding: countIncludesPadding).squeezed(2)
    }

    /// Mean over every axis after the first two: (N, C, ...) → (N, C).
    public func globalAveragePool() -> Tensor {
        precondition(rank >= 3, "globalAveragePool: input \(shape) needs spatial axes")
        return mean(alongAxes: Array(2..<rank))
    }

    /// Nearest-neighbour upsampling by an integer factor along every axis after the first two:
    /// each element is repeated `scale` times per spatial axis. The pullback sums each input
    /// element's copies.
    public func upsampledNearest(scale: Int) -> Tensor {
        precondition(rank >= 3 && scale >= 1, "upsampledNearest: input \(shape), scale \(scale)")
        let geometry = NearestUpsampling(inputShape: shape, scale: scale)
        let output = geometry.upsampled(scalars)
        let inputShape = shape
        return Tensor.record("upsampleNearest", shape: geometry.outputShape, scalars: output, inputs: [self]) { g in
            [Tensor(shape: inputShape, scalars: geometry.summedCopies(g.scalars))]
        }
    }
}

/// Nearest upsampling of (N, C, S1, …, Sd) by k: rows of the last axis, each output row
/// (n·C + c, o1, …, o_{d−1}) filled from input row (n·C + c, o1/k, …, o_{d−1}/k), each
/// element written k times. Shape letters: P = N·C planes, W = Sd the row width.
private struct NearestUpsampling {
    let inputShape: [Int], scale: Int

    /// (N, C, S1·k, …, Sd·k).
    var outputShape: [Int] { Array(inputShape[..<2]) + inputShape[2...].map { $0 * scale } }
    private var planes: Int { inputShape[0] * inputShape[1] }
    private var width: Int { inputShape.last! }
    /// Input rows per plane: S1·…·S_{d−1}.
    private var inputRowsPerPlane: Int { inputShape[2..<(inputShape.count - 1)].reduce(1, *) }
    /// Output rows per plane: (S1·k)·…·(S_{d−1}·k).
    private var outputRowsPerPlane: Int { inputShape[2..<(inputShape.count - 1)].reduce(1) { $0 * $1 * scale } }

    /// The input row, within its plane, of output row `row` within its plane.
    @inline(__always)
    private func inputRow(ofOutputRow row: Int) -> Int {
        var remainder = row, inputRow = 0, multiplier = 1
        for axis in stride(from: inputShape.count - 2, through: 2, by: -1) {
            let extent = inputShape[axis]
            inputRow += (remainder % (extent * scale)) / scale * multiplier
            remainder /= extent * scale
            multiplier *= extent
        }
        return inputRow
    }

    /// Calls `body(outputRow, inputRow)` with the global row indices of every output row of
    /// each plane, in order, in parallel over planes.
    @inline(__always)
    private func forEachRow(_ body: (Int, Int) -> Void) {
        let outputRows = outputRowsPerPlane, inputRows = inputRowsPerPlane
        let work = outputRows * width * scale
        parallelChunks(planes, minimumPerThread: Swift.max(1, 32_768 / Swift.max(work, 1))) { range in
            for plane in range {
                for row in 0..<outputRows {
                    body(plane * outputRows + row, plane * inputRows + inputRow(ofOutputRow: row))
                }
            }
        }
    }

    /// The upsampled values of `x` (input shape) in output shape.
    func upsampled(_ x: [Float]) -> [Float] {
        let W = width, k = scale
        var output = uninitializedScalars(planes * outputRowsPerPlane * W * k)
        x.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                let x = source.baseAddress!, y = destination.baseAddress!
                forEachRow { outputRow, inputRow in
                    let from = x + inputRow * W, to = y + outputRow * W * k
                    for w in 0..<W {
                        for j in 0..<k { to[w * k + j] = from[w] }
                    }
                }
            }
        }
        return output
    }

    /// For `g` in output shape: each input element's sum over its copies (rows in order, then
    /// the k copies within the row).
    func summedCopies(_ g: [Float]) -> [Float] {
        let W = width, k = scale
        var dx = [Float](repeating: 0, count: planes * inputRowsPerPlane * W)
        g.withUnsafeBufferPointer { source in
            dx.withUnsafeMutableBufferPointer { destination in
                let g = source.baseAddress!, d = destination.baseAddress!
                forEachRow { outputRow, inputRow in
                    let from = g + outputRow * W * k, to = d + inputRow * W
                    for w in 0..<W {
                        var total: Float = 0
                        for j in 0..<k { total += from[w * k + j] }
                        to[w] += total
                    }
                }
            }
        }
        return dx
    }
}
