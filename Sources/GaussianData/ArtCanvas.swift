import Foundation
import SplatIO

// The raster primitives of the procedural paintings, on a float RGB canvas.
//
// Coordinates are pixels: x right, y down, pixel (x, y) covers [x, x+1) × [y, y+1) and its
// centre is (x + ½, y + ½). Layout of `pixels`: (H, W, 3) interleaved, like `RGBImage`.
//
// - Triangles are antialiased by 2×2 supersampling and accumulate colour × coverage plus the
//   coverage itself; `resolveTriangles` divides the two, so a mosaic of triangles sharing
//   edges comes out seamless (an edge sample counted by both neighbours averages them).
// - Blobs (Gaussian discs), strokes and lines are alpha-blended over the canvas ("over"):
//   their edges are antialiased analytically from the distance to the shape.

/// A float RGB canvas with triangle, blob and brush-stroke drawing.
struct ArtCanvas {
    let size: Int
    /// (H, W, 3) interleaved colour.
    var pixels: [Float]
    /// (H, W) coverage accumulated by `fillTriangle`, consumed by `resolveTriangles`.
    private var coverage: [Float]

    /// A black square canvas, ready for a triangle mosaic (draw the triangles first, then
    /// `resolveTriangles`, then blobs and strokes).
    init(size: Int) {
        precondition(size > 0, "ArtCanvas: size must be positive, got \(size)")
        self.size = size
        pixels = [Float](repeating: 0, count: size * size * 3)
        coverage = [Float](repeating: 0, count: size * size)
    }

    // MARK: Triangles

    /// Accumulates a triangle whose colour is interpolated linearly from its vertex colours
    /// (barycentric): equal colours give a flat fill, colours sampled from a linear gradient
    /// reproduce that gradient. Either winding is accepted; slivers (area < 1e-6 px²) are skipped.
    mutating func fillTriangle(_ vertices: (SIMD2<Float>, SIMD2<Float>, SIMD2<Float>),
                               colours: (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>)) {
        precondition(!coverage.isEmpty, "ArtCanvas.fillTriangle: triangles come before resolveTriangles")
        var (a, b, c) = vertices
        var (colourA, colourB, colourC) = colours
        var doubleArea = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
        if doubleArea < 0 {
            swap(&b, &c)
            swap(&colourB, &colourC)
            doubleArea = -doubleArea
        }
        guard doubleArea > 2e-6 else { return }

        // Edge i runs opposite vertex i; f_i(p) = cross(edge, p − start) ≥ 0 inside, and
        // f_i / (2·area) is the barycentric weight of vertex i.
        let starts = [b, c, a]
        let ends = [c, a, b]
        let lengths = (0..<3).map { i -> Float in
            let e = ends[i] - starts[i]
            return Swift.max((e * e).sum().squareRoot(), 1e-12)
        }
        func edgeValues(_ p: SIMD2<Float>) -> SIMD3<Float> {
            var values = SIMD3<Float>()
            for i in 0..<3 {
                let e = ends[i] - starts[i], q = p - starts[i]
                values[i] = e.x * q.y - e.y * q.x
            }
            return values
        }
        let inverseLengths = SIMD3<Float>(1 / lengths[0], 1 / lengths[1], 1 / lengths[2])
        func colour(_ f: SIMD3<Float>) -> SIMD3<Float> {
            (colourA * f.x + colourB * f.y + colourC * f.z) / doubleArea
        }
        let halfDiagonal: Float = 0.7072
        let tolerance: Float = 1e-3  // px: samples on a shared edge land in both triangles, none in neither
        let offsets: [SIMD2<Float>] = [[-0.25, -0.25], [0.25, -0.25], [-0.25, 0.25], [0.25, 0.25]]

        let lower = pointwiseMin(pointwiseMin(a, b), c), upper = pointwiseMax(pointwiseMax(a, b), c)
        let x0 = Swift.max(0, Int(lower.x.rounded(.down))), x1 = Swift.min(size - 1, Int(upper.x.rounded(.down)))
        let y0 = Swift.max(0, Int(lower.y.rounded(.down))), y1 = Swift.min(size - 1, Int(upper.y.rounded(.down)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let centre = SIMD2<Float>(Float(x) + 0.5, Float(y) + 0.5)
                let f = edgeValues(centre)
                let distances = f * inverseLengths  // signed distances to the edges, px
                let nearest = distances.min()
                if nearest < -halfDiagonal { continue }
                var weight: Float = 1
                var sampleColour: SIMD3<Float>
                if nearest > halfDiagonal {
                    sampleColour = colour(f)
                } else {
                    weight = 0
                    sampleColour = .zero
                    for offset in offsets {
                        let fs = edgeValues(centre + offset)
                        if (fs * inverseLengths).min() >= -tolerance {
                            weight += 0.25
                            sampleColour += 0.25 * colour(fs)
                        }
                    }
                    if weight == 0 { continue }
                    sampleColour /= weight
                }
                let pixel = y * size + x
                coverage[pixel] += weight
                pixels[pixel * 3] += weight * sampleColour.x
                pixels[pixel * 3 + 1] += weight * sampleColour.y
                pixels[pixel * 3 + 2] += weight * sampleColour.z
            }
        }
    }

    /// Finishes a triangle mosaic: colour = accumulated colour / coverage, and `fallback`
    /// where no triangle reached (none, when the triangles cover the canvas).
    mutating func resolveTriangles(fallback: SIMD3<Float>) {
        guard !coverage.isEmpty else { return }
        for pixel in 0..<(size * size) {
            let weight = coverage[pixel]
            for channel in 0..<3 {
                pixels[pixel * 3 + channel] = weight > 0 ? pixels[pixel * 3 + channel] / weight : fallback[channel]
            }
        }
        coverage = []
    }

    // MARK: Blending

    /// Blends `colour` over pixel (x, y) with opacity `alpha` in [0, 1].
    @inline(__always)
    private mutating func blend(x: Int, y: Int, _ colour: SIMD3<Float>, alpha: Float) {
        let base = (y * size + x) * 3
        pixels[base] += alpha * (colour.x - pixels[base])
        pixels[base + 1] += alpha * (colour.y - pixels[base + 1])
        pixels[base + 2] += alpha * (colour.z - pixels[base + 2])
    }

    /// The pixel range covering [low, high] in one axis, clipped to the canvas.
    private func pixelRange(_ low: Float, _ high: Float) -> ClosedRange<Int>? {
        let first = Swift.max(0, Int(low.rounded(.down))), last = Swift.min(size - 1, Int(high.rounded(.down)))
        return first <= last ? first...last : nil
    }

    /// An elliptical soft blob: opacity `opacity · exp(−½ (u²/σu² + v²/σv²))` in the frame
    /// rotated by `angle`, cut off at 3σ.
    mutating func paintBlob(centre: SIMD2<Float>, sigmas: SIMD2<Float>, angle: Float,
                            colour: SIMD3<Float>, opacity: Float) {
        let reach = 3 * Swift.max(sigmas.x, sigmas.y)
        guard let rows = pixelRange(centre.y - reach, centre.y + reach),
              let columns = pixelRange(centre.x - reach, centre.x + reach) else { return }
        let (cosine, sine) = (cos(angle), sin(angle))
        let inverseVariance = 1 / (sigmas * sigmas)
        for y in rows {
            for x in columns {
                let d = SIMD2<Float>(Float(x) + 0.5, Float(y) + 0.5) - centre
                let u = cosine * d.x + sine * d.y, v = -sine * d.x + cosine * d.y
                let exponent = -0.5 * (u * u * inverseVariance.x + v * v * inverseVariance.y)
                if exponent < -4.5 { continue }
                blend(x: x, y: y, colour, alpha: opacity * exp(exponent))
            }
        }
    }

    // MARK: Strokes

    /// A brush stroke along the polyline `points` with radius `radii[i]` at each point
    /// (linear in between, round ends). Along the stroke (parameter t from 0 to 1) the colour
    /// goes from `startColour` to `endColour` and the opacity is `opacity(t)`; across it
    /// (u from −1 to 1) `bristles` (any count ≥ 2, linearly interpolated) scale the opacity
    /// for a dry-brush streak; `nil` means a solid stroke. Each pixel is blended once with
    /// the strongest segment that reaches it, so the stroke does not darken where segments
    /// overlap. Edges ramp over one pixel.
    mutating func paintStroke(points: [SIMD2<Float>], radii: [Float],
                              startColour: SIMD3<Float>, endColour: SIMD3<Float>,
                              bristles: [Float]?, opacity: (Float) -> Float) {
        precondition(points.count >= 2 && radii.count == points.count,
                     "paintStroke: needs ≥ 2 points and one radius each, got \(points.count) and \(radii.count)")
        let reach = (radii.max() ?? 0) + 1
        var lower = points[0], upper = points[0]
        for p in points {
            lower = pointwiseMin(lower, p)
            upper = pointwiseMax(upper, p)
        }
        guard let rows = pixelRange(lower.y - reach, upper.y + reach),
              let columns = pixelRange(lower.x - reach, upper.x + reach) else { return }
        // Per-pixel strongest opacity and its stroke parameter, over the stroke's box.
        let boxWidth = columns.count
        var alphas = [Float](repeating: 0, count: rows.count * boxWidth)
        var parameters = [Float](repeating: 0, count: rows.count * boxWidth)
        let segments = points.count - 1
        for segment in 0..<segments {
            let a = points[segment], b = points[segment + 1]
            let (radiusA, radiusB) = (radii[segment], radii[segment + 1])
            let direction = b - a
            let lengthSquared = Swift.max((direction * direction).sum(), 1e-12)
            let length = lengthSquared.squareRoot()
            let segmentReach = Swift.max(radiusA, radiusB) + 1
            guard let segmentRows = pixelRange(Swift.min(a.y, b.y) - segmentReach, Swift.max(a.y, b.y) + segmentReach),
                  let segmentColumns = pixelRange(Swift.min(a.x, b.x) - segmentReach, Swift.max(a.x, b.x) + segmentReach)
            else { continue }
            for y in segmentRows {
                for x in segmentColumns {
                    let q = SIMD2<Float>(Float(x) + 0.5, Float(y) + 0.5) - a
                    let s = Swift.min(Swift.max((q * direction).sum() / lengthSquared, 0), 1)
                    let offset = q - s * direction
                    let distance = (offset * offset).sum().squareRoot()
                    let radius = radiusA + s * (radiusB - radiusA)
                    var alpha = Swift.min(Swift.max(radius - distance + 0.5, 0), 1)
                    if alpha == 0 { continue }
                    let t = (Float(segment) + s) / Float(segments)
                    alpha *= opacity(t)
                    if let bristles {
                        let across = (direction.x * q.y - direction.y * q.x) / (length * Swift.max(radius, 0.5))
                        alpha *= interpolate(bristles, at: (Swift.min(Swift.max(across, -1), 1) + 1) / 2)
                    }
                    let boxIndex = (y - rows.lowerBound) * boxWidth + (x - columns.lowerBound)
                    if alpha > alphas[boxIndex] {
                        alphas[boxIndex] = alpha
                        parameters[boxIndex] = t
                    }
                }
            }
        }
        for y in rows {
            for x in columns {
                let boxIndex = (y - rows.lowerBound) * boxWidth + (x - columns.lowerBound)
                let alpha = alphas[boxIndex]
                if alpha <= 0 { continue }
                let t = parameters[boxIndex]
                blend(x: x, y: y, startColour + t * (endColour - startColour), alpha: alpha)
            }
        }
    }

    /// The canvas as an image, components clamped to [0, 1].
    func image() -> RGBImage {
        RGBImage(width: size, height: size, pixels: pixels.map { Swift.min(Swift.max($0, 0), 1) })
    }
}

/// `values` read at `position` in [0, 1] with linear interpolation between neighbours.
private func interpolate(_ values: [Float], at position: Float) -> Float {
    let scaled = position * Float(values.count - 1)
    let index = Swift.min(Int(scaled), values.count - 2)
    let fraction = scaled - Float(index)
    return values[index] + fraction * (values[index + 1] - values[index])
}
