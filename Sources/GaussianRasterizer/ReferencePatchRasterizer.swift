import TensorCore

// The slow reference of the patch rasterizer (PatchRasterizer.swift), composed only of TensorCore
// ops, used by tests to check the fast kernel's values and hand-written gradients. Per item and
// window: q over the window's pixels × the patch's Gaussians (dense), α = min(1, o·e^−½q) masked
// by the skip rule (α < 1/255 or q < 0), a matmul with the colours, placed into the image with
// `padded`; the windows are summed and divided by the coverage count map.

/// q(p, g) for every pixel p of a window (row-major) and Gaussian g of screen features (G, 8):
/// (pixels, G).
func referenceWindowDistances(_ screen: Tensor, columns: Range<Int>, rows: Range<Int>) -> Tensor {
    var xs = [Float](), ys = [Float]()
    for y in rows {
        for x in columns {
            xs.append(Float(x) + 0.5)
            ys.append(Float(y) + 0.5)
        }
    }
    let px = Tensor(shape: [xs.count, 1], scalars: xs), py = Tensor(shape: [ys.count, 1], scalars: ys)
    let parts = screen.split(sizes: [1, 1, 1, 1, 1, 3], alongAxis: 1).prefix(5).map { $0.reshaped([1, -1]) }
    let dx = px - parts[0], dy = py - parts[1]
    return parts[2] * dx * dx + 2 * parts[3] * dx * dy + parts[4] * dy * dy
}

/// The patch rasterizer, dense: screen (B, N, G, 8) or (N, G, 8), opacity of the same shape
/// without the last axis (nil: all 1) → (B, 3, H, W) or (3, H, W).
func referencePatches(_ screen: Tensor, opacity: Tensor? = nil, width: Int, height: Int,
                      options: PatchOptions = PatchOptions()) -> Tensor {
    let layout = PatchLayout(width: width, height: height, options: options, caller: "referencePatches")
    let batched = screen.rank == 4
    let items = batched ? screen.shape[0] : 1
    let N = screen.shape[screen.rank - 3], G = screen.shape[screen.rank - 2]
    precondition(N == layout.patchCount, "referencePatches: \(N) patches, expected \(layout.patchCount)")
    let features = screen.reshaped([items, N, G, ScreenColumn.count])
    let opacities = (opacity ?? Tensor.ones([items, N, G])).reshaped([items, N, G])
    let counts = Tensor(shape: [1, height, width], scalars: layout.coverageCounts())
    var images: [Tensor] = []
    for item in 0..<items {
        var sum: Tensor?
        for k in 0..<N {
            let rows = features.sliced(item..<(item + 1), alongAxis: 0).sliced(k..<(k + 1), alongAxis: 1).reshaped([G, ScreenColumn.count])
            let o = opacities.sliced(item..<(item + 1), alongAxis: 0).sliced(k..<(k + 1), alongAxis: 1).reshaped([1, G])
            let window = layout.window(k)
            let q = referenceWindowDistances(rows, columns: window.columns, rows: window.rows)  // (pixels, G)
            let alpha = Tensor.minimum((q * -0.5).exp() * o, Tensor(1))
            let keep = zip(alpha.scalars, q.scalars).map { alpha, q in alpha >= 1 / 255 && q >= 0 ? Float(1) : 0 }
            let render = (alpha * Tensor(shape: q.shape, scalars: keep)).matmul(rows.sliced(5..<8, alongAxis: 1))  // (pixels, 3)
            let placed = render.transposed().reshaped([3, window.rows.count, window.columns.count]).padded([
                (0, 0),
                (window.rows.lowerBound, height - window.rows.upperBound),
                (window.columns.lowerBound, width - window.columns.upperBound),
            ])
            sum = sum.map { $0 + placed } ?? placed
        }
        images.append(sum! / counts)
    }
    return batched ? Tensor.concatenated(images.map { $0.unsqueezed(0) }, alongAxis: 0) : images[0]
}
