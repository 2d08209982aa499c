import Foundation
import TensorCore

// The patch rasterizer of feed-forward inpainting ("2D Gaussian Splatting with Semantic
// Alignment for Image Inpainting"), with a hand-written backward.
//
// Layout. The H × W image is cut into P × P patches (H and W multiples of P), numbered row-major:
// patch k = py·(W/P) + px covers columns [px·P, (px+1)·P) and rows [py·P, (py+1)·P). Patch k owns
// its own G Gaussians, given as screen features [mx, my, a, b, c, r, g, b] in pixels of the
// whole image (TileBinning.swift); their order within the patch is the caller's (the network
// puts one per pixel of the padded window, G = (P + 2·pad)², but any G works). Its window is
// the patch grown by `pad` pixels on every side, clipped to the image:
//   columns [max(0, px·P − pad), min(W, (px+1)·P + pad)), rows likewise.
//
// Render. Window k renders ONLY patch k's Gaussians, additively, over its own pixels, with the
// additive rasterizer's rule and arithmetic but no tile binning or 3σ culling:
//   σ = ½ q,  α = min(1, o·e^−σ),  R_k(p) = Σ_{g ∈ k} c_g α_g(p),   terms with α < 1/255 (or
//   q < 0) skipped.
// For speed each Gaussian visits only the pixels where α ≥ 1/255 is possible (its conservative
// α footprint, `forEachPatchTerm`); the result is the same bits as testing every pixel.
// Each output pixel averages the windows covering it:
//   C(p) = Σ_{k : p ∈ window k} R_k(p) / n(p),
// where the coverage count n(p) = nx(x)·ny(y) depends only on the geometry (1 in a patch's core,
// 2 on a border strip shared by two windows, 4 where four windows' corners meet, when pad ≤ P/2).
//
// Backward (upstream Ḡ(p)), with Ḡ'(p) = Ḡ(p) / n(p), for each window pixel p and kept term:
//   ∂L/∂c = Ḡ'·α;  where α is not clamped at 1: ∂L/∂o = e^−σ (Ḡ'·c),  ∂L/∂q = −½ o e^−σ (Ḡ'·c).
//
// Shapes: screen features (B, N, G, 8) or (N, G, 8) with N = (H/P)·(W/P), opacity (B, N, G) or
// (N, G) (nil: all 1) → image (B, 3, H, W) or (3, H, W).
//
// Determinism. Work is split over (item, window) pairs with `parallelItems`. The forward renders
// each window into its own buffer (B, N, 3, S, S) with S = P + 2·pad (a clipped window uses the
// top-left part), Gaussian by Gaussian so each pixel sums its terms in ascending Gaussian order;
// then, per (item, output patch), it adds the buffers of the windows overlapping that patch in
// ascending window order and divides by n(p). In the backward each window writes
// only its own Gaussians' gradient rows, which are disjoint. So the result is the same bits for
// any thread count.

/// Settings of the patch rasterizer.
public struct PatchOptions: Sendable {
    /// Side of a square patch, in pixels; the image's width and height must be multiples of it.
    public var patchSize: Int = 16
    /// Pixels by which each patch's render window extends past the patch on every side.
    public var padding: Int = 4

    public init(patchSize: Int = 16, padding: Int = 4) {
        self.patchSize = patchSize
        self.padding = padding
    }

    /// Gaussians per patch when there is one per pixel of the padded window: (P + 2·pad)².
    public var windowPixelCount: Int { (patchSize + 2 * padding) * (patchSize + 2 * padding) }
}

/// The patch grid of one width × height image and the render window of each patch.
struct PatchLayout {
    let width: Int, height: Int, patchSize: Int, padding: Int

    init(width: Int, height: Int, options: PatchOptions, caller: String) {
        precondition(options.patchSize >= 1 && options.padding >= 0,
                     "\(caller): patch size \(options.patchSize) must be ≥ 1 and padding \(options.padding) ≥ 0")
        precondition(width >= 1 && height >= 1 && width % options.patchSize == 0 && height % options.patchSize == 0,
                     "\(caller): image \(width)×\(height) must be a positive multiple of the patch size \(options.patchSize)")
        (self.width, self.height, patchSize, padding) = (width, height, options.patchSize, options.padding)
    }

    var patchesAcross: Int { width / patchSize }
    var patchesDown: Int { height / patchSize }
    var patchCount: Int { patchesAcross * patchesDown }
    /// Side of an unclipped window: P + 2·pad.
    var windowSide: Int { patchSize + 2 * padding }

    /// Columns and rows of patch `patch` itself.
    func patch(_ patch: Int) -> (columns: Range<Int>, rows: Range<Int>) {
        let px = patch % patchesAcross, py = patch / patchesAcross
        return (px * patchSize..<(px + 1) * patchSize, py * patchSize..<(py + 1) * patchSize)
    }

    /// Columns and rows of patch `patch`'s window: the patch grown by `padding`, clipped to the image.
    func window(_ patch: Int) -> (columns: Range<Int>, rows: Range<Int>) {
        let (columns, rows) = self.patch(patch)
        return (Swift.max(0, columns.lowerBound - padding)..<Swift.min(width, columns.upperBound + padding),
                Swift.max(0, rows.lowerBound - padding)..<Swift.min(height, rows.upperBound + padding))
    }

    /// The coverage count n(p) of every pixel (H · W, row-major): how many windows contain it.
    func coverageCounts() -> [Float] {
        var across = [Float](repeating: 0, count: width), down = [Float](repeating: 0, count: height)
        for k in 0..<patchesAcross {
            for x in window(k).columns { across[x] += 1 }
        }
        for k in stride(from: 0, to: patchCount, by: patchesAcross) {
            for y in window(k).rows { down[y] += 1 }
        }
        return down.flatMap { ny in across.map { nx in nx * ny } }
    }
}

/// Where a positive-definite screen Gaussian can have q ≤ `bound`, as pixel rows and, per row,
/// pixel columns of a window. The ellipse is exact (in Double); `bound` is widened first by the
/// float rounding of the rasterizer's own q (its dx, dy off by up to ε = 2⁻²²·(|m| + the window's
/// far corner); sums and products off by 2⁻²⁴ per step on terms up to 4κ·q, κ = λmax/λmin), so a
/// pixel whose float q passes the bound is never outside.
struct ConicFootprint {
    let meanX: Double, meanY: Double, a: Double, b: Double, determinant: Double, bound: Double
    let window: (columns: Range<Int>, rows: Range<Int>)
    let rows: Range<Int>

    /// nil when the conic is not positive definite or anything is not finite (visit the window).
    init?(_ row: UnsafePointer<Float>, bound q: Double, window: (columns: Range<Int>, rows: Range<Int>)) {
        (meanX, meanY, a, b) = (Double(row[0]), Double(row[1]), Double(row[2]), Double(row[3]))
        let c = Double(row[4])
        determinant = a * c - b * b
        guard a > 0, determinant > 0, determinant.isFinite, meanX.isFinite, meanY.isFinite, q.isFinite else { return nil }
        let largest = 0.5 * (a + c) + (0.25 * (a - c) * (a - c) + b * b).squareRoot()
        let condition = largest * largest / determinant  // λmax / λmin
        let corner = Double(Swift.max(window.columns.upperBound, window.rows.upperBound, 1))
        let offset = 0x1p-22 * (Swift.max(Swift.abs(meanX), Swift.abs(meanY)) + corner)
        bound = (q + 3 * (q * largest).squareRoot() * offset + 2 * largest * offset * offset) * (1 + 2e-6 * condition)
        guard bound.isFinite else { return nil }
        self.window = window
        rows = ConicFootprint.pixels(centre: meanY, reach: (bound * a / determinant).squareRoot(), within: window.rows)
    }

    /// Pixels i of `range` whose centre i + ½ lies in [centre − reach, centre + reach] (plus 10⁻³).
    static func pixels(centre: Double, reach: Double, within range: Range<Int>) -> Range<Int> {
        let first = Swift.max(Double(range.lowerBound), (centre - reach - 0.501).rounded(.up))
        let last = Swift.min(Double(range.upperBound - 1), (centre + reach - 0.499).rounded(.down))
        return first <= last ? Int(first)..<(Int(last) + 1) : range.lowerBound..<range.lowerBound
    }

    /// The columns of row y inside the ellipse: a·dx² + 2b·dy·dx + c·dy² ≤ bound.
    func columns(inRow y: Int) -> Range<Int> {
        let dy = Double(y) + 0.5 - meanY
        let discriminant = a * bound - determinant * dy * dy
        guard discriminant >= 0 else { return window.columns.lowerBound..<window.columns.lowerBound }
        return ConicFootprint.pixels(centre: meanX - b * dy / a, reach: discriminant.squareRoot() / a, within: window.columns)
    }
}

/// Calls `visit(x, y, o, e^−σ, α)`, in row-major pixel order, for every pixel (x, y) of `window`
/// where the term of the Gaussian `row` (opacity `o`) is not skipped: σ = ½ q ≥ 0 and
/// α = min(1, o·e^−σ) ≥ 1/255, with the additive rasterizer's rule and arithmetic.
///
/// Only the Gaussian's α footprint is visited, which changes nothing: α ≥ 1/255 needs
/// σ ≤ ln(255·o), below cut = ln(255·o) + 10⁻³ by a margin far beyond the rounding of exp and
/// the product, and every pixel where the float q is ≤ 2·cut lies in the `ConicFootprint`.
/// Gaussians whose conic is not positive definite (or not finite) visit the whole window.
@inline(__always)
func forEachPatchTerm(_ row: UnsafePointer<Float>, opacity o: Float, window: (columns: Range<Int>, rows: Range<Int>),
                      _ visit: (Int, Int, Float, Float, Float) -> Void) {
    guard o > 0 || o.isNaN else { return }  // α ≤ 0 everywhere: every term is skipped
    let cut = Foundation.log(255 * Double(o)) + 1e-3
    guard !(cut < 0) else { return }
    let threshold: Float = 1 / 255
    @inline(__always)
    func visitRow(_ y: Int, _ columns: Range<Int>) {
        let py = Float(y) + 0.5
        for x in columns {
            let sigma = 0.5 * conicDistance(row[2], row[3], row[4], Float(x) + 0.5 - row[0], py - row[1])
            if !(sigma >= 0) { continue }
            let falloff = Foundation.exp(-sigma)
            let alpha = Swift.min(1, o * falloff)
            if alpha < threshold { continue }
            visit(x, y, o, falloff, alpha)
        }
    }
    if let footprint = ConicFootprint(row, bound: 2 * cut, window: window) {
        for y in footprint.rows { visitRow(y, footprint.columns(inRow: y)) }
    } else {
        for y in window.rows { visitRow(y, window.columns) }
    }
}

/// Renders per-patch screen Gaussians, each patch's over its padded window, and averages the
/// overlapping windows (differentiable in features and opacity). See the file header for the
/// layout: `screen` is (B, N, G, 8) or (N, G, 8) with N patches in row-major order.
public func rasterizePatches(_ screen: Tensor, opacity: Tensor? = nil, width: Int, height: Int,
                             options: PatchOptions = PatchOptions()) -> Tensor {
    let layout = PatchLayout(width: width, height: height, options: options, caller: "rasterizePatches")
    precondition((screen.rank == 3 || screen.rank == 4) && screen.shape.last == ScreenColumn.count,
                 "rasterizePatches: screen Gaussians must be (N, G, 8) or (B, N, G, 8), got \(screen.shape)")
    let batched = screen.rank == 4
    let items = batched ? screen.shape[0] : 1
    let N = screen.shape[screen.rank - 3], G = screen.shape[screen.rank - 2]
    precondition(N == layout.patchCount,
                 "rasterizePatches: \(N) patches in \(screen.shape), but a \(width)×\(height) image has "
                 + "\(layout.patchesDown)×\(layout.patchesAcross) patches of \(options.patchSize)")
    if let opacity {
        precondition(opacity.shape == Array(screen.shape.dropLast()),
                     "rasterizePatches: opacity \(opacity.shape) must be \(Array(screen.shape.dropLast()))")
    }
    let opacities = opacity?.scalars ?? [Float](repeating: 1, count: items * N * G)
    let HW = width * height, S = layout.windowSide, planeSize = S * S
    let counts = layout.coverageCounts()  // (H, W)

    // Each (item, window) renders into its own (3, S, S) buffer: (B, N, 3, S, S).
    var windowRenders = [Float](repeating: 0, count: items * N * 3 * planeSize)
    screen.scalars.withUnsafeBufferPointer { features in
        opacities.withUnsafeBufferPointer { o in
            windowRenders.withUnsafeMutableBufferPointer { renders in
                parallelItems(items * N) { work in
                    let window = layout.window(work % N)
                    let rows = features.baseAddress! + work * G * ScreenColumn.count
                    let buffer = renders.baseAddress! + work * 3 * planeSize
                    let (left, top, windowWidth) = (window.columns.lowerBound, window.rows.lowerBound, window.columns.count)
                    // Gaussian by Gaussian, so each pixel sums its terms in ascending Gaussian order.
                    for j in 0..<G {
                        let row = rows + j * ScreenColumn.count
                        forEachPatchTerm(row, opacity: o[work * G + j], window: window) { x, y, _, _, alpha in
                            let p = (y - top) * windowWidth + (x - left)
                            buffer[p] += row[5] * alpha
                            buffer[planeSize + p] += row[6] * alpha
                            buffer[2 * planeSize + p] += row[7] * alpha
                        }
                    }
                }
            }
        }
    }

    // Per (item, output patch): add the overlapping windows in ascending order, then divide by n.
    var output = [Float](repeating: 0, count: items * 3 * HW)
    let reach = (layout.padding + layout.patchSize - 1) / layout.patchSize  // windows reach this many patches away
    windowRenders.withUnsafeBufferPointer { renders in
        output.withUnsafeMutableBufferPointer { out in
            parallelItems(items * N) { work in
                let item = work / N, patch = work % N
                let tx = patch % layout.patchesAcross, ty = patch / layout.patchesAcross
                let (columns, rows) = layout.patch(patch)
                let image = out.baseAddress! + item * 3 * HW
                for wy in Swift.max(0, ty - reach)...Swift.min(layout.patchesDown - 1, ty + reach) {
                    for wx in Swift.max(0, tx - reach)...Swift.min(layout.patchesAcross - 1, tx + reach) {
                        let k = wy * layout.patchesAcross + wx
                        let window = layout.window(k)
                        let buffer = renders.baseAddress! + (item * N + k) * 3 * planeSize
                        for y in rows.clamped(to: window.rows) {
                            for x in columns.clamped(to: window.columns) {
                                let source = (y - window.rows.lowerBound) * window.columns.count + (x - window.columns.lowerBound)
                                let target = y * width + x
                                for channel in 0..<3 { image[channel * HW + target] += buffer[channel * planeSize + source] }
                            }
                        }
                    }
                }
                for y in rows {
                    for x in columns {
                        let target = y * width + x
                        for channel in 0..<3 { image[channel * HW + target] /= counts[target] }
                    }
                }
            }
        }
    }

    var inputs = [screen]
    if let opacity { inputs.append(opacity) }
    let outputShape = batched ? [items, 3, height, width] : [3, height, width]
    return Tensor.record("rasterizePatches", shape: outputShape, scalars: output, inputs: inputs) { gradient in
        // ∂L/∂R_k(p) = Ḡ(p) / n(p) for every window k containing p: (B, 3, H, W).
        let shared = gradient.scalars.enumerated().map { index, g in g / counts[index % HW] }
        var dScreen = [Float](repeating: 0, count: items * N * G * ScreenColumn.count)
        var dOpacity = [Float](repeating: 0, count: items * N * G)
        screen.scalars.withUnsafeBufferPointer { features in
            opacities.withUnsafeBufferPointer { o in
                shared.withUnsafeBufferPointer { g in
                    dScreen.withUnsafeMutableBufferPointer { dS in
                        dOpacity.withUnsafeMutableBufferPointer { dO in
                            parallelItems(items * N) { work in
                                let window = layout.window(work % N)
                                let upstream = g.baseAddress! + (work / N) * 3 * HW
                                for j in (work * G)..<((work + 1) * G) {
                                    let row = features.baseAddress! + j * ScreenColumn.count
                                    let accumulator = dS.baseAddress! + j * ScreenColumn.count
                                    forEachPatchTerm(row, opacity: o[j], window: window) { x, y, o, falloff, alpha in
                                        let p = y * width + x
                                        let gr = upstream[p], gg = upstream[HW + p], gb = upstream[2 * HW + p]
                                        if gr == 0 && gg == 0 && gb == 0 { return }
                                        accumulator[5] += gr * alpha
                                        accumulator[6] += gg * alpha
                                        accumulator[7] += gb * alpha
                                        if o * falloff >= 1 { return }  // clamped: no gradient to o or the shape
                                        let dAlpha = gr * row[5] + gg * row[6] + gb * row[7]
                                        dO[j] += falloff * dAlpha
                                        accumulateConicGradient(accumulator, row: row, px: Float(x) + 0.5, py: Float(y) + 0.5,
                                                                dQ: -0.5 * o * falloff * dAlpha)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var grads: [Tensor?] = [Tensor(shape: screen.shape, scalars: dScreen)]
        if let opacity { grads.append(Tensor(shape: opacity.shape, scalars: dOpacity)) }
        return grads
    }
}
