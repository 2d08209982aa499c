import Foundation
import TensorCore

// The top-K normalised rasterizer of Image-GS, with a hand-written backward.
//
// Per pixel p, among the Gaussians binned to p's tile, keep the K with the largest weight
// w = exp(−½ q) (equivalently the smallest q, so only K exponentials are taken; exact ties go
// to the lower (tile, Gaussian) pair index) and blend
//   C(p) = Σ_k w_k c_k / D,   D = Σ_k w_k + ε.
// Backward, with upstream gradient Ḡ(p) (3 channels) and D, C saved:
//   ∂L/∂c_k = Ḡ w_k / D,   ∂L/∂w_k = Ḡ·(c_k − C) / D,   ∂L/∂q_k = −½ w_k ∂L/∂w_k,
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
    var output = [Float](repeating: 0, count: batch.items * 3 * P)
    var selected = [Int32](repeating: -1, count: batch.items * P * K)  // pair index of each kept Gaussian
    var weights = [Float](repeating: 0, count: batch.items * P * K)
    var denominators = [Float](repeating: 0, count: batch.items * P)

    screen.scalars.withUnsafeBufferPointer { features in
        output.withUnsafeMutableBufferPointer { out in
            selected.withUnsafeMutableBufferPointer { sel in
                weights.withUnsafeMutableBufferPointer { wts in
                    denominators.withUnsafeMutableBufferPointer { den in
                        batch.forEachTile { item, tile, pixels in
                            let rows = features.baseAddress! + item * batch.gaussians * ScreenColumn.count
                            let bins = batch.bins[item]
                            let start = Int(bins.tileStart[tile]), count = Int(bins.tileStart[tile + 1]) - start
                            let centreX = Float(pixels.x0 + pixels.x1) / 2, centreY = Float(pixels.y0 + pixels.y1) / 2
                            let local = TileConics(rows: rows, bins: bins, start: start, count: count, centreX: centreX, centreY: centreY)
                            defer { local.deallocate() }
                            var search = TopKSelection(k: K)
                            defer { search.deallocate() }
                            for (px, py, p) in pixels {
                                let slot = (item * P + p) * K
                                search.search(local, px: px, py: py)
                                let filled = search.count
                                for k in 0..<filled { sel[slot + k] = search.pair[k] }
                                var sum: Float = 0, red: Float = 0, green: Float = 0, blue: Float = 0
                                for k in 0..<filled {
                                    let w = Foundation.exp(-0.5 * search.q[k])
                                    let row = rows + Int(bins.gaussianIndices[Int(sel[slot + k])]) * ScreenColumn.count
                                    wts[slot + k] = w
                                    sum += w
                                    red += w * row[5]
                                    green += w * row[6]
                                    blue += w * row[7]
                                }
                                let d = sum + options.epsilon
                                den[item * P + p] = d
                                let image = out.baseAddress! + item * 3 * P
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

    let outputCopy = output
    return Tensor.record("rasterizeTopK", shape: batch.outputShape, scalars: output, inputs: [screen]) { gradient in
        let dScreen = batch.accumulateGradients { item, tile, pixels, slots in
            let bins = batch.bins[item]
            let rows = screen.scalars.withUnsafeBufferPointer { $0.baseAddress! } + item * batch.gaussians * ScreenColumn.count
            gradient.scalars.withUnsafeBufferPointer { g in
                outputCopy.withUnsafeBufferPointer { out in
                    let upstream = g.baseAddress! + item * 3 * P, image = out.baseAddress! + item * 3 * P
                    for (px, py, p) in pixels {
                        let gr = upstream[p], gg = upstream[P + p], gb = upstream[2 * P + p]
                        if gr == 0 && gg == 0 && gb == 0 { continue }
                        let d = denominators[item * P + p]
                        let cr = image[p], cg = image[P + p], cb = image[2 * P + p]
                        let slot = (item * P + p) * K
                        for k in 0..<K {
                            let pair = Int(selected[slot + k])
                            if pair < 0 { break }
                            let w = weights[slot + k]
                            let row = rows + Int(bins.gaussianIndices[pair]) * ScreenColumn.count
                            let accumulator = slots + pair * ScreenColumn.count
                            let share = w / d
                            accumulator[5] += gr * share
                            accumulator[6] += gg * share
                            accumulator[7] += gb * share
                            let dWeight = (gr * (row[5] - cr) + gg * (row[6] - cg) + gb * (row[7] - cb)) / d
                            accumulateConicGradient(accumulator, row: row, px: px, py: py, dQ: -0.5 * w * dWeight)
                        }
                    }
                }
            }
        }
        return [Tensor(shape: batch.inputShape, scalars: dScreen)]
    }
}

/// Adds ∂L/∂q · ∂q/∂(mx, my, a, b, c) at pixel (px, py) into `accumulator[0..<5]`.
@inline(__always)
func accumulateConicGradient(_ accumulator: UnsafeMutablePointer<Float>, row: UnsafePointer<Float>,
                             px: Float, py: Float, dQ: Float) {
    let dx = px - row[0], dy = py - row[1]
    let a = row[2], b = row[3], c = row[4]
    accumulator[0] -= dQ * 2 * (a * dx + b * dy)
    accumulator[1] -= dQ * 2 * (b * dx + c * dy)
    accumulator[2] += dQ * dx * dx
    accumulator[3] += dQ * 2 * dx * dy
    accumulator[4] += dQ * dy * dy
}
