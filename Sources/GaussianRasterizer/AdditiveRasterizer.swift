import Foundation
import TensorCore

// The additive rasterizer of GaussianImage ("accumulated blending"), with a hand-written backward.
//
// Per pixel p, over the Gaussians binned to p's tile:
//   σ = ½ q,  α = min(1, o·e^−σ),  C(p) = Σ c·α,   terms with α < 1/255 skipped.
// Backward (upstream Ḡ(p)): ∂L/∂c = Ḡ α;  where α is not clamped at 1,
//   ∂L/∂o = e^−σ (Ḡ·c),   ∂L/∂q = −½ o e^−σ (Ḡ·c).
// Shapes: screen features (B, G, 8) or (G, 8) and opacity (B, G) or (G) (nil: all 1, as
// GaussianImage, which folds opacity into colour) → image (B, 3, H, W) or (3, H, W).

/// Renders screen Gaussians by additive accumulation (differentiable in features and opacity).
public func rasterizeAdditive(_ screen: Tensor, opacity: Tensor? = nil, width: Int, height: Int) -> Tensor {
    let batch = ScreenBatch(screen, width: width, height: height, rasterizer: "rasterizeAdditive")
    let G = batch.gaussians, P = batch.grid.pixelCount
    if let opacity {
        precondition(opacity.shape == Array(screen.shape.dropLast()),
                     "rasterizeAdditive: opacity \(opacity.shape) must be \(Array(screen.shape.dropLast()))")
    }
    let opacities = opacity?.scalars ?? [Float](repeating: 1, count: batch.items * G)
    let threshold: Float = 1 / 255

    /// Calls `visit(row, pair, o, e^−σ, α)` for every term of pixel (px, py) that is not skipped.
    func forEachTerm(item: Int, tile: Int, px: Float, py: Float, features: UnsafePointer<Float>,
                     _ visit: (UnsafePointer<Float>, Int, Float, Float, Float) -> Void) {
        let bins = batch.bins[item]
        for pair in Int(bins.tileStart[tile])..<Int(bins.tileStart[tile + 1]) {
            let g = Int(bins.gaussianIndices[pair])
            let row = features + (item * G + g) * ScreenColumn.count
            let sigma = 0.5 * conicDistance(row[2], row[3], row[4], px - row[0], py - row[1])
            if !(sigma >= 0) { continue }
            let o = opacities[item * G + g]
            let falloff = Foundation.exp(-sigma)
            let alpha = Swift.min(1, o * falloff)
            if alpha < threshold { continue }
            visit(row, pair, o, falloff, alpha)
        }
    }

    var output = [Float](repeating: 0, count: batch.items * 3 * P)
    screen.scalars.withUnsafeBufferPointer { features in
        output.withUnsafeMutableBufferPointer { out in
            batch.forEachTile { item, tile, pixels in
                let image = out.baseAddress! + item * 3 * P
                for (px, py, p) in pixels {
                    var red: Float = 0, green: Float = 0, blue: Float = 0
                    forEachTerm(item: item, tile: tile, px: px, py: py, features: features.baseAddress!) { row, _, _, _, alpha in
                        red += row[5] * alpha
                        green += row[6] * alpha
                        blue += row[7] * alpha
                    }
                    image[p] = red
                    image[P + p] = green
                    image[2 * P + p] = blue
                }
            }
        }
    }

    var inputs = [screen]
    if let opacity { inputs.append(opacity) }
    return Tensor.record("rasterizeAdditive", shape: batch.outputShape, scalars: output, inputs: inputs) { gradient in
        // Slots: 8 screen-feature gradients, then the opacity gradient.
        let slotWidth = ScreenColumn.count + 1
        let rows = batch.accumulateGradients(width: slotWidth) { item, tile, pixels, slots in
            screen.scalars.withUnsafeBufferPointer { features in
                gradient.scalars.withUnsafeBufferPointer { g in
                    let upstream = g.baseAddress! + item * 3 * P
                    for (px, py, p) in pixels {
                        let gr = upstream[p], gg = upstream[P + p], gb = upstream[2 * P + p]
                        if gr == 0 && gg == 0 && gb == 0 { continue }
                        forEachTerm(item: item, tile: tile, px: px, py: py, features: features.baseAddress!) { row, pair, o, falloff, alpha in
                            let accumulator = slots + pair * slotWidth
                            accumulator[5] += gr * alpha
                            accumulator[6] += gg * alpha
                            accumulator[7] += gb * alpha
                            if o * falloff >= 1 { return }  // clamped: no gradient to o or the shape
                            let dAlpha = gr * row[5] + gg * row[6] + gb * row[7]
                            accumulator[8] += falloff * dAlpha
                            accumulateConicGradient(accumulator, row: row, px: px, py: py, dQ: -0.5 * o * falloff * dAlpha)
                        }
                    }
                }
            }
        }
        var dScreen = [Float](repeating: 0, count: batch.items * G * ScreenColumn.count)
        var dOpacity = [Float](repeating: 0, count: batch.items * G)
        for i in 0..<(batch.items * G) {
            for column in 0..<ScreenColumn.count { dScreen[i * ScreenColumn.count + column] = rows[i * slotWidth + column] }
            dOpacity[i] = rows[i * slotWidth + ScreenColumn.count]
        }
        var grads: [Tensor?] = [Tensor(shape: batch.inputShape, scalars: dScreen)]
        if let opacity { grads.append(Tensor(shape: opacity.shape, scalars: dOpacity)) }
        return grads
    }
}

/// Renders Image-GS parameters (…, G, 8) with the additive rasterizer (opacity 1).
public func renderImageGSAdditive(_ parameters: Tensor, width: Int, height: Int) -> Tensor {
    rasterizeAdditive(imageGSScreenFeatures(parameters, width: width, height: height), width: width, height: height)
}
