import TensorCore

// The two filtered maps of SSIM that depend only on the target, μt = G∗t and Ett = G∗t², made
// once for a target that many predictions are compared with (a fit compares thousands of renders
// with one image). `l1SSIMLoss(_:_:ssimWeight:options:targetMoments:)` then filters three maps
// per step instead of five. The maps are filtered with the loss's own row kernels, rows then
// columns, taps in the same order, so they are the same bits the loss would compute itself.
//
// Shapes (FusedImageLoss.swift's letters): target (C, H, W) or (N, C, H, W), P = N·C planes;
// maps (P, 2, H', W8), map 0 = μt, map 1 = Ett, rows W8 apart (lanes past W' unused).

/// The target's SSIM moments μt and E[t²], for `l1SSIMLoss(…, targetMoments:)`.
public struct SSIMTargetMoments {
    /// The target these moments belong to (the loss checks it is the one it is given).
    public let target: Tensor
    public let options: SSIMOptions
    /// (P, 2, H', W8).
    let maps: [Float]

    public init(target: Tensor, options: SSIMOptions = SSIMOptions()) {
        let shape = target.shape
        let S = options.windowSize
        precondition(shape.count == 3 || shape.count == 4, "SSIMTargetMoments: target must be (C, H, W) or (N, C, H, W), got \(shape)")
        let (H, W) = (shape[shape.count - 2], shape[shape.count - 1])
        precondition(H >= S && W >= S, "SSIMTargetMoments: images \(shape) are smaller than the \(S)×\(S) window")
        let P = shape.dropLast(2).reduce(1, *)
        let (OH, OW) = (H - S + 1, W - S + 1)
        let W8 = (OW + 7) / 8 * 8
        var maps = [Float](repeating: 0, count: P * 2 * OH * W8)
        let window = options.gaussianWindow
        target.scalars.withUnsafeBufferPointer { t in
            window.withUnsafeBufferPointer { taps in
                maps.withUnsafeMutableBufferPointer { out in
                    parallelItems(P) { plane in
                        // Row-filtered t and t² of every image row: (2, H, W'); then the columns.
                        var rows = [Float](repeating: 0, count: 2 * H * OW), squares = [Float](repeating: 0, count: W)
                        var offsets = [Int](repeating: 0, count: S)
                        let image = t.baseAddress! + plane * H * W
                        rows.withUnsafeMutableBufferPointer { rowMaps in
                            for r in 0..<H {
                                let tr = image + r * W
                                for j in 0..<W { squares[j] = tr[j] * tr[j] }
                                correlateRow(tr, taps.baseAddress!, S, rowMaps.baseAddress! + r * OW, OW)
                                correlateRow(squares, taps.baseAddress!, S, rowMaps.baseAddress! + (H + r) * OW, OW)
                            }
                            for map in 0..<2 {
                                for i in 0..<OH {
                                    for u in 0..<S { offsets[u] = (map * H + i + u) * OW }
                                    weightedRowSum(rowMaps.baseAddress!, offsets, taps.baseAddress!, S,
                                                   out.baseAddress! + ((plane * 2 + map) * OH + i) * W8, OW)
                                }
                            }
                        }
                    }
                }
            }
        }
        self.target = target
        self.options = options
        self.maps = maps
    }
}
