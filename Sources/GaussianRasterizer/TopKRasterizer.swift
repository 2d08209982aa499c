import Foundation
import TensorCore

// The top-K normalised rasterizer of Image-GS, with a hand-written backward.
//
// Per pixel p, among the Gaussians binned to p's tile, keep the K with the largest weight
// w = exp(−½ q) (equivalently the smallest q, so only K exponentials are taken; exact ties go
// to the lower (tile, Gaussian) pair index; see TopKSelection.swift) and blend them in ascending
// pair order
//   C(p) = Σ_k w_k c_k / D,   D = Σ_k w_k + ε.
// Backward, with upstream gradient Ḡ(p) (3 channels) and D, C saved:
//   ∂L/∂c_k = Ḡ w_k / D,   ∂L/∂w_k = Ḡ·(c_k − C) / D,   ∂L/∂q_k = −½ w_k ∂L/∂w_k
//   (computed as −½ (w_k / D) Ḡ·(c_k − C)),
//   ∂q/∂m = −2 Σ⁻¹ d,   ∂q/∂a = dx²,   ∂q/∂b = 2 dx dy,   ∂q/∂c = dy².
// The selection itself is piecewise constant and takes no gradient.
//
// Shapes: screen features (B, G, 8) or (G, 8) [mx, my, a, b, c, r, g, b] in pixels (see
// TileBinning.swift) → image (B, 3, H, W) or (3, H, W). Work is split over (item, tile) pairs.
// Each tile accumulates gradients into its own (tile, Gaussian) slots, which are then summed in
// a fixed order, so results do not depend on the thread count.

/// Settings of the top-K rasterizer.
public struct TopKOptions: Sendable {
    /// Gaussians blended per pixel (Image-GS: 10).
    public var k: Int = 10
    /// Added to the weight sum before normalising (Image-GS: 1e-4).
    public var epsilon: Float = 1e-4

    public init(k: Int = 10, epsilon: Float = 1e-4) {
        self.k = k
        self.epsilon = epsilon
    }
}

/// Renders screen Gaussians with the top-K normalised blend (differentiable).
public func rasterizeTopK(_ screen: Tensor, width: Int, height: Int, options: TopKOptions = TopKOptions()) -> Tensor {
    let batch = ScreenBatch(screen, width: width, height: height, rasterizer: "rasterizeTopK")
    precondition(options.k >= 1, "rasterizeTopK: k must be ≥ 1")
    let K = options.k, grid = batch.grid, P = grid.pixelCount
    // Every pixel of every item writes its colour, its denominator and all K slots (the kept
    // pair indices and weights, −1 and 0 in unused slots), so the buffers start uninitialised.
    var output = uninitializedArray(of: Float.self, count: batch.items * 3 * P)
    var selected = uninitializedArray(of: Int32.self, count: batch.items * P * K)  // pair index of each kept Gaussian
    var weights = uninitializedArray(of: Float.self, count: batch.items * P * K)
    var denominators = uninitializedArray(of: Float.self, count: batch.items * P)

    screen.scalars.withUnsafeBufferPointer { features in
        output.withUnsafeMutableBufferPointer { out in
            selected.withUnsafeMutableBufferPointer { sel in
                weights.withUnsafeMutableBufferPointer { wts in
                    denominators.withUnsafeMutableBufferPointer { den in
                        batch.forEachTile { item, tile, pixels in
                            let rows = features.baseAddress! + item * batch.gaussians * ScreenColumn.count
                            let bins = batch.bins[item]
                            let start = Int(bins.tileStart[tile]), count = Int(bins.tileStart[tile + 1]) - start
                            let local = TileConics(rows: rows, bins: bins, start: start, count: count)
                            var block = TileConics(capacity: count)
                            let pruning = BlockCandidates(k: K, capacity: count)
                            var search = TopKSelection(k: K, capacity: count)
                            defer {
                                local.deallocate()
                                block.deallocate()
                                pruning.deallocate()
                                search.deallocate()
                            }
                            let image = out.baseAddress! + item * 3 * P
                            for blockPixels in pixels.blocks(side: blockSize) {
                                let candidates = pruning.prune(local, x0: blockPixels.x0, x1: blockPixels.x1, y0: blockPixels.y0, y1: blockPixels.y1)
                                block.gather(pruning.indices, count: candidates.count, of: local)
                                search.reset(threshold: candidates.threshold)
                                for row in blockPixels.serpentineRows {
                                    // Search every pixel of the row: slots get the kept pairs and their q
                                    // (pair −1 and q = +∞ in unused slots) ...
                                    for (px, py, p) in row {
                                        search.search(block, px: px, py: py)
                                        let slot = (item * P + p) * K
                                        for k in 0..<K {
                                            let filled = k < search.count
                                            sel[slot + k] = filled ? block.pair[Int(search.kept[k])] : -1
                                            wts[slot + k] = filled ? search.keptQ[k] : .infinity
                                        }
                                    }
                                    // ... then the row's weights w = e^(−q/2) in one vectorised loop (the
                                    // row's slots are contiguous) ...
                                    let rowSlots = wts.baseAddress! + (item * P + row.y0 * width + row.x0) * K
                                    for i in 0..<((row.x1 - row.x0) * K) { rowSlots[i] = VectorMath.exp(-0.5 * rowSlots[i]) }
                                    // ... then the blend.
                                    for (_, _, p) in row {
                                        let slot = (item * P + p) * K
                                        var sum: Float = 0, red: Float = 0, green: Float = 0, blue: Float = 0
                                        for k in 0..<K {
                                            let pair = Int(sel[slot + k])
                                            if pair < 0 { break }
                                            let w = wts[slot + k], j = pair - start
                                            sum += w
                                            red += w * local.red[j]
                                            green += w * local.green[j]
                                            blue += w * local.blue[j]
                                        }
                                        let d = sum + options.epsilon
                                        den[item * P + p] = d
                                        image[p] = red / d
                                        image[P + p] = green / d
                                        image[2 * P + p] = blue / d
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    let outputCopy = output
    return Tensor.record("rasterizeTopK", shape: batch.outputShape, scalars: output, inputs: [screen]) { gradient in
        let dScreen = batch.accumulateGradients { item, tile, pixels, slots in
            let bins = batch.bins[item]
            let start = Int(bins.tileStart[tile]), count = Int(bins.tileStart[tile + 1]) - start
            let local = screen.scalars.withUnsafeBufferPointer {
                TileConics(rows: $0.baseAddress! + item * batch.gaussians * ScreenColumn.count, bins: bins, start: start, count: count)
            }
            defer { local.deallocate() }
            gradient.scalars.withUnsafeBufferPointer { g in
                outputCopy.withUnsafeBufferPointer { out in
                selected.withUnsafeBufferPointer { selected in
                weights.withUnsafeBufferPointer { weights in
                denominators.withUnsafeBufferPointer { denominators in
                    let upstream = g.baseAddress! + item * 3 * P, image = out.baseAddress! + item * 3 * P
                    for (px, py, p) in pixels {
                        let gr = upstream[p], gg = upstream[P + p], gb = upstream[2 * P + p]
                        if gr == 0 && gg == 0 && gb == 0 { continue }
                        let inverseD = 1 / denominators[item * P + p]
                        let cr = image[p], cg = image[P + p], cb = image[2 * P + p]
                        let slot = (item * P + p) * K
                        for k in 0..<K {
                            let pair = Int(selected[slot + k])
                            if pair < 0 { break }
                            let j = pair - start, share = weights[slot + k] * inverseD
                            let dWeight = gr * (local.red[j] - cr) + gg * (local.green[j] - cg) + gb * (local.blue[j] - cb)
                            // ∂L/∂q = −½ w ∂L/∂w, and q's derivatives at this pixel:
                            let dQ = -0.5 * share * dWeight
                            let (conic, conicC) = conicGradient(dx: px - local.meanX[j], dy: py - local.meanY[j], a: local.a[j],
                                                                b: 0.5 * local.twoB[j], c: local.c[j], dQ: dQ)
                            let colourAndC = SIMD4<Float>(conicC, gr * share, gg * share, gb * share)
                            // Two 4-lane read-modify-writes of the pair's 8 columns: neighbouring pixels
                            // update the same pair, and same-width accesses forward from store to load.
                            let accumulator = UnsafeMutableRawPointer(slots + pair * ScreenColumn.count)
                            accumulator.storeBytes(of: accumulator.loadUnaligned(as: SIMD4<Float>.self) + conic, as: SIMD4<Float>.self)
                            accumulator.storeBytes(of: accumulator.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self) + colourAndC,
                                                   toByteOffset: 16, as: SIMD4<Float>.self)
                        }
                    }
                }}}
                }
            }
        }
        return [Tensor(shape: batch.inputShape, scalars: dScreen)]
    }
}

/// ∂L/∂q · ∂q/∂(mx, my, a, b) and ∂L/∂q · ∂q/∂c for offset d = p − m and conic [[a, b], [b, c]]:
/// ∂q/∂m = −2 Σ⁻¹ d, ∂q/∂a = dx², ∂q/∂b = 2 dx dy, ∂q/∂c = dy².
@inline(__always)
func conicGradient(dx: Float, dy: Float, a: Float, b: Float, c: Float, dQ: Float) -> (SIMD4<Float>, Float) {
    (SIMD4(-(dQ * 2 * (a * dx + b * dy)), -(dQ * 2 * (b * dx + c * dy)), dQ * dx * dx, dQ * 2 * dx * dy), dQ * dy * dy)
}

/// Adds ∂L/∂q · ∂q/∂(mx, my, a, b, c) at pixel (px, py) into `accumulator[0..<5]`.
@inline(__always)
func accumulateConicGradient(_ accumulator: UnsafeMutablePointer<Float>, row: UnsafePointer<Float>,
                             px: Float, py: Float, dQ: Float) {
    let (conic, conicC) = conicGradient(dx: px - row[0], dy: py - row[1], a: row[2], b: row[3], c: row[4], dQ: dQ)
    for column in 0..<4 { accumulator[column] += conic[column] }
    accumulator[4] += conicC
}
