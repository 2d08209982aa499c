// Depthwise separable filtering with fixed (non-learned) kernels, e.g. the Gaussian window of
// SSIM. Each (N, C) plane is correlated with `vertical` down the columns and `horizontal`
// along the rows, 'valid' (no padding):
//   (N, C, H, W) → (N, C, H − KV + 1, W − KH + 1),
//   y[i, j] = Σ_u Σ_v vertical[u] · horizontal[v] · x[i + u, j + v].
// This is what a grouped conv2d with an outer-product kernel computes, at O(K) instead of O(K²)
// work per pixel and without an im2col copy. The pullback is the adjoint: each output gradient
// is scattered back through the same taps (horizontal pass, then vertical).

extension Tensor {
    /// Correlates every (N, C) plane with `vertical` ⊗ `horizontal`, 'valid'. The kernels are
    /// constants (no gradient); the input gets its gradient.
    public func separableFiltered(horizontal: [Float], vertical: [Float]) -> Tensor {
        precondition(rank == 4, "separableFiltered: input \(shape) must be (N, C, H, W)")
        let (H, W) = (shape[2], shape[3])
        let (KV, KH) = (vertical.count, horizontal.count)
        precondition(KV >= 1 && KH >= 1 && KV <= H && KH <= W, "separableFiltered: kernel \(KV)×\(KH) vs image \(H)×\(W)")
        let (OH, OW) = (H - KV + 1, W - KH + 1)
        let planes = shape[0] * shape[1]
        let inputShape = shape

        // Forward: rows first (H, W) → (H, OW), then columns (H, OW) → (OH, OW).
        var output = [Float](repeating: 0, count: planes * OH * OW)
        scalars.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                parallelItems(planes) { plane in
                    let x = source.baseAddress! + plane * H * W, y = destination.baseAddress! + plane * OH * OW
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: H * OW)
                    rows.initialize(repeating: 0, count: H * OW)
                    defer { rows.deallocate() }
                    // Tap by tap (axpy over a row), so the inner loop is contiguous and vectorises.
                    for i in 0..<H {
                        for v in 0..<KH {
                            let tap = horizontal[v], from = x + i * W + v, to = rows + i * OW
                            for j in 0..<OW { to[j] += tap * from[j] }
                        }
                    }
                    for i in 0..<OH {
                        for u in 0..<KV {
                            let tap = vertical[u], from = rows + (i + u) * OW, to = y + i * OW
                            for j in 0..<OW { to[j] += tap * from[j] }
                        }
                    }
                }
            }
        }

        return Tensor.record("separableFiltered", shape: [shape[0], shape[1], OH, OW], scalars: output, inputs: [self]) { gradient in
            var dx = [Float](repeating: 0, count: planes * H * W)
            gradient.scalars.withUnsafeBufferPointer { upstream in
                dx.withUnsafeMutableBufferPointer { destination in
                    parallelItems(planes) { plane in
                        let g = upstream.baseAddress! + plane * OH * OW, d = destination.baseAddress! + plane * H * W
                        // Adjoint of the column pass: (OH, OW) → (H, OW).
                        let rows = UnsafeMutablePointer<Float>.allocate(capacity: H * OW)
                        rows.initialize(repeating: 0, count: H * OW)
                        defer { rows.deallocate() }
                        for i in 0..<OH {
                            for u in 0..<KV {
                                let tap = vertical[u], from = g + i * OW, to = rows + (i + u) * OW
                                for j in 0..<OW { to[j] += tap * from[j] }
                            }
                        }
                        // Adjoint of the row pass: (H, OW) → (H, W).
                        for i in 0..<H {
                            for v in 0..<KH {
                                let tap = horizontal[v], from = rows + i * OW, to = d + i * W + v
                                for j in 0..<OW { to[j] += tap * from[j] }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }
}
