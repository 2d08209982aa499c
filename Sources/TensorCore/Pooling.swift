// Pooling and nearest upsampling over NCHW (NCL for 1-D) tensors.
//
// Max and average pooling are primitives with pullbacks; 1-D pools are the 2-D ones over a
// height of 1; global average pooling and nearest upsampling are compositions.

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

    /// Calls `visit(inputIndex)` for each in-bounds position of output (oh, ow)'s window.
    @inline(__always)
    func forEachInput(_ oh: Int, _ ow: Int, _ visit: (Int) -> Void) {
        let h0 = oh * stride.0 - padding.0, w0 = ow * stride.1 - padding.1
        for ih in Swift.max(h0, 0)..<Swift.min(h0 + kernel.0, height) {
            for iw in Swift.max(w0, 0)..<Swift.min(w0 + kernel.1, width) { visit(ih * width + iw) }
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
        let OP = window.outputHeight * window.outputWidth, OW = window.outputWidth
        var winners = [Int32](repeating: 0, count: planes * OP)  // index within the plane
        let output: [Float] = scalars.withUnsafeBufferPointer { source in
            winners.withUnsafeMutableBufferPointer { winnerBuffer in
                let x = source.baseAddress!, w = winnerBuffer.baseAddress!
                return generateScalars(planes * OP) { position in
                    let plane = x + (position / OP) * planeSize
                    var best = -Float.infinity, bestIndex = -1
                    window.forEachInput((position % OP) / OW, position % OW) { i in
                        if plane[i] > best || bestIndex < 0 { best = plane[i]; bestIndex = i }
                    }
                    w[position] = Int32(bestIndex)
                    return best
                }
            }
        }
        let inputShape = shape
        return Tensor.record("maxPool2d", shape: [shape[0], shape[1], window.outputHeight, OW], scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: planes * planeSize)
            for position in 0..<(planes * OP) {
                dx[(position / OP) * planeSize + Int(winners[position])] += g.scalars[position]
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
        let OP = window.outputHeight * window.outputWidth, OW = window.outputWidth
        let area = kernel.0 * kernel.1
        /// The divisor of output position `p` within a plane.
        func divisor(_ p: Int) -> Float {
            if countIncludesPadding { return Float(area) }
            var n = 0
            window.forEachInput(p / OW, p % OW) { _ in n += 1 }
            return Float(n)
        }
        let divisors = (0..<OP).map(divisor)
        let output: [Float] = scalars.withUnsafeBufferPointer { source in
            let x = source.baseAddress!
            return generateScalars(planes * OP) { position in
                let plane = x + (position / OP) * planeSize, p = position % OP
                var total: Float = 0
                window.forEachInput(p / OW, p % OW) { total += plane[$0] }
                return total / divisors[p]
            }
        }
        let inputShape = shape
        return Tensor.record("averagePool2d", shape: [shape[0], shape[1], window.outputHeight, OW], scalars: output, inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: planes * planeSize)
            dx.withUnsafeMutableBufferPointer { d in
                for position in 0..<(planes * OP) {
                    let base = (position / OP) * planeSize, p = position % OP
                    let share = g.scalars[position] / divisors[p]
                    window.forEachInput(p / OW, p % OW) { d[base + $0] += share }
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
    /// each element is repeated `scale` times per spatial axis (reshape → expand → reshape).
    public func upsampledNearest(scale: Int) -> Tensor {
        precondition(rank >= 3 && scale >= 1, "upsampledNearest: input \(shape), scale \(scale)")
        let spatial = Array(shape[2...])
        let interleaved = Array(shape[..<2]) + spatial.flatMap { [$0, 1] }
        let target = Array(shape[..<2]) + spatial.flatMap { [$0, scale] }
        return reshaped(interleaved).expanded(to: target).reshaped(Array(shape[..<2]) + spatial.map { $0 * scale })
    }
}
