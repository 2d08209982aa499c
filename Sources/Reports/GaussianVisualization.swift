import Foundation
import GaussianData
import GaussianRasterizer
import SplatIO
import TensorCore

// Diagnostic pictures of a Gaussian set (`splatkit render --visualize`), in the Image-GS
// convention (GaussianConventions.swift): rows (G, 8) = x, y (normalised), sx, sy (inverse
// standard deviations, 1/pixels of the image drawn), θ, r, g, b.
//
//   ellipses   the render lightened halfway to white (so dark regions stay readable), with
//              each Gaussian's k·σ contour outlined 1 px in black (k = 2 by default: the
//              ellipse holding about 86% of the Gaussian's mass). The contour is
//              {p : (p − μ)ᵀ Σ⁻¹ (p − μ) = k²} = { μ + k·R(θ)·(σx cos t, σy sin t) : t ∈ [0, 2π) }
//              with μ = (x·W, y·H) pixels, σ = 1/|s| pixels, R(θ) the rotation by θ.
//   ids        every Gaussian's colour replaced by a seeded random bright colour, rendered by
//              the same rasterizer: each pixel shows which Gaussians dominate it.
//
// Pixels: pixel (row j, column i) covers [i, i+1) × [j, j+1), as the rasterizers sample it,
// so a contour point p is drawn into pixel (⌊p.y⌋, ⌊p.x⌋).

/// Outlines the ellipse centred at (`centerX`, `centerY`) with semi-axes `radiusX`, `radiusY`
/// (pixels) rotated by `rotation` radians (x towards y, i.e. clockwise on screen with y down):
/// the points centre + R(rotation)·(radiusX cos t, radiusY sin t). Pixels the outline crosses
/// are set to `colour`; parts outside the image are clipped; non-finite input draws nothing.
///
/// The outline is sampled with a step of at most ½ pixel along the curve, so it has no gaps
/// (up to 2¹⁸ samples: larger ellipses, far beyond any image, are drawn dotted).
public func drawEllipseOutline(on image: inout RGBImage, centerX: Double, centerY: Double, radiusX: Double, radiusY: Double,
                               rotation: Double, colour: (red: Float, green: Float, blue: Float)) {
    guard [centerX, centerY, radiusX, radiusY, rotation].allSatisfy(\.isFinite) else { return }
    let (a, b) = (abs(radiusX), abs(radiusY))
    // Arc length ≤ 2π·max(a, b); two samples per pixel of it.
    let samples = Int(Swift.min(Swift.max(4 * Double.pi * Swift.max(a, b), 8), Double(1 << 18)).rounded(.up))
    let (cosine, sine) = (cos(rotation), sin(rotation))
    var previous = (x: Int.min, y: Int.min)
    for step in 0..<samples {
        let t = 2 * Double.pi * Double(step) / Double(samples)
        let (u, v) = (a * cos(t), b * sin(t))
        let pointX = (centerX + cosine * u - sine * v).rounded(.down), pointY = (centerY + sine * u + cosine * v).rounded(.down)
        // Clipped before converting: a far-away (or overflowing) point is no Int.
        guard pointX >= 0, pointX < Double(image.width), pointY >= 0, pointY < Double(image.height) else { continue }
        let (x, y) = (Int(pointX), Int(pointY))
        guard (x, y) != previous else { continue }
        previous = (x, y)
        let index = (y * image.width + x) * 3
        (image.pixels[index], image.pixels[index + 1], image.pixels[index + 2]) = (colour.red, colour.green, colour.blue)
    }
}

/// `render` lightened halfway to white, with the `sigmas`·σ contour of every Gaussian of
/// `parameters` (G, 8) outlined in black (see the file comment). The inverse scales must be
/// in pixels of `render` (scaled as for rendering at its size).
public func ellipseOutlines(_ parameters: Tensor, on render: RGBImage, sigmas: Double = 2) -> RGBImage {
    precondition(parameters.rank == 2 && parameters.shape[1] == ImageGSColumn.count,
                 "ellipseOutlines: parameters \(parameters.shape) must be (G, 8)")
    precondition(sigmas > 0 && sigmas.isFinite, "ellipseOutlines: sigmas \(sigmas) must be positive")
    var image = render
    for index in image.pixels.indices { image.pixels[index] = 0.5 + 0.5 * Swift.min(Swift.max(image.pixels[index], 0), 1) }
    let rows = parameters.scalars
    for g in 0..<parameters.shape[0] {
        let row = rows[(g * 8)..<(g * 8 + 8)].map(Double.init)
        drawEllipseOutline(on: &image, centerX: row[ImageGSColumn.x] * Double(image.width),
                           centerY: row[ImageGSColumn.y] * Double(image.height),
                           radiusX: sigmas / abs(row[ImageGSColumn.scaleX]), radiusY: sigmas / abs(row[ImageGSColumn.scaleY]),
                           rotation: row[ImageGSColumn.rotation], colour: (0, 0, 0))
    }
    return image
}

/// `parameters` (G, 8) with each Gaussian's r, g, b replaced by its identity colour: a bright,
/// saturated colour (random hue, saturation 0.65–1, lightness 0.4–0.65) drawn in Gaussian
/// order from `RandomGenerator(seed: seed)`, so a seed gives the same colours everywhere.
public func identityColoured(_ parameters: Tensor, seed: UInt64) -> Tensor {
    precondition(parameters.rank == 2 && parameters.shape[1] == ImageGSColumn.count,
                 "identityColoured: parameters \(parameters.shape) must be (G, 8)")
    var generator = RandomGenerator(seed: seed)
    var rows = parameters.scalars
    for g in 0..<parameters.shape[0] {
        let hue = generator.nextUniform(), saturation = 0.65 + 0.35 * generator.nextUniform()
        let lightness = 0.4 + 0.25 * generator.nextUniform()
        let colour = hslToRGB(hue: hue, saturation: saturation, lightness: lightness)
        rows[g * 8 + ImageGSColumn.red] = colour.x
        rows[g * 8 + ImageGSColumn.green] = colour.y
        rows[g * 8 + ImageGSColumn.blue] = colour.z
    }
    return Tensor(shape: parameters.shape, scalars: rows)
}
