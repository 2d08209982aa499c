import Foundation
import SplatIO
import TensorCore

// SplatKit's embedded default data: procedural abstract paintings in the spirit of the
// GaussVAE corpus (11,501 abstract paintings fitted with Gaussians), made without downloads.
//
// One painting, in layers:
// 1. a palette of 3–6 harmonious colours (`ArtPalette`);
// 2. 20–120 points — the canvas corners, a few on each border, the rest uniform or in 1–4
//    clusters — cut the canvas into Delaunay triangles (`DelaunayTriangulation`);
// 3. each triangle is filled flat, with a two-colour linear gradient, or with vertex colours
//    blended across it, its colour chosen by a coherent "colour field" (regions, bands, or
//    scattered) so neighbouring triangles tend to agree, like the areas of a composition;
// 4. texture: soft Gaussian blobs, thin lines along some triangle edges, and brush strokes
//    (cubic Bézier curves with varying width, fading, dry-brush streaks).
// All geometry is drawn in unit coordinates and scaled to the size, so one (seed, index)
// gives the same painting at every size. Each painting has its own generator, derived from
// (seed, index) alone: paintings can be made in any order, in parallel, or resumed.

/// Procedural abstract paintings, deterministic in (seed, index).
///
/// ```swift
/// let painting = ProceduralArt.image(index: 7, size: 256, seed: 1)
/// try painting.writePNG(to: "art_00007.png")
/// ```
public enum ProceduralArt {
    /// Painting `index` of the collection `seed`, `size`×`size` pixels (size ≥ 16).
    public static func image(index: Int, size: Int, seed: UInt64) -> RGBImage {
        precondition(size >= 16, "ProceduralArt.image: size must be at least 16, got \(size)")
        var generator = RandomGenerator(seed: imageSeed(seed: seed, index: index))
        let palette = ArtPalette.random(using: &generator)
        let points = scatterPoints(using: &generator)
        let triangulation = DelaunayTriangulation(points: points)
        let scale = Float(size)
        func pixel(_ point: SIMD2<Double>) -> SIMD2<Float> { SIMD2<Float>(point) * scale }

        // Mosaic.
        var canvas = ArtCanvas(size: size)
        let field = ColourField.random(palette: palette, using: &generator)
        let vertexColours = points.map { field.colour(at: $0, jitter: 0.04, using: &generator) }
        let flatShare = generator.nextUniform(), gradientShare = generator.nextUniform()
        let blendShare = generator.nextUniform() * 0.8
        let shareTotal = flatShare + gradientShare + blendShare
        for (a, b, c) in triangulation.triangles {
            let vertices = (pixel(points[a]), pixel(points[b]), pixel(points[c]))
            let centroid = (points[a] + points[b] + points[c]) / 3
            let base = field.colour(at: centroid, jitter: 0.06, using: &generator)
            let style = generator.nextUniform() * shareTotal
            if style < flatShare {
                canvas.fillTriangle(vertices, colours: (base, base, base))
            } else if style < flatShare + gradientShare {
                // Linear gradient from `base` to another palette colour across the triangle.
                let other = palette[generator.nextInt(below: palette.count)]
                let target = base + (0.4 + 0.6 * generator.nextUniform()) * (other - base)
                let angle = 2 * Float.pi * generator.nextUniform()
                let axis = SIMD2<Float>(cos(angle), sin(angle))
                let projections = [vertices.0, vertices.1, vertices.2].map { ($0 * axis).sum() }
                let low = projections.min()!, span = Swift.max(projections.max()! - low, 1e-6)
                let at = projections.map { base + ($0 - low) / span * (target - base) }
                canvas.fillTriangle(vertices, colours: (at[0], at[1], at[2]))
            } else {
                canvas.fillTriangle(vertices, colours: (vertexColours[a], vertexColours[b], vertexColours[c]))
            }
        }
        canvas.resolveTriangles(fallback: palette[0])

        // Soft blobs.
        for _ in 0..<generator.nextInt(below: 6) {
            let centre = SIMD2<Float>(generator.nextUniform(), generator.nextUniform()) * scale
            let sigma = (0.04 + 0.14 * generator.nextUniform()) * scale
            let sigmas = SIMD2<Float>(sigma, sigma * (0.4 + 0.6 * generator.nextUniform()))
            canvas.paintBlob(centre: centre, sigmas: sigmas, angle: Float.pi * generator.nextUniform(),
                             colour: palette[generator.nextInt(below: palette.count)],
                             opacity: 0.25 + 0.5 * generator.nextUniform())
        }

        // Thin lines along some triangle edges.
        if generator.nextUniform() < 0.5 {
            let share = 0.1 + 0.4 * generator.nextUniform()
            let colour = generator.nextUniform() < 0.7 ? palette.darkest * 0.6 : palette.lightest
            let radius = Swift.max(0.5, (0.001 + 0.003 * generator.nextUniform()) * scale)
            let opacity = 0.4 + 0.5 * generator.nextUniform()
            for (u, v) in triangulation.edges where generator.nextUniform() < share {
                canvas.paintStroke(points: [pixel(points[u]), pixel(points[v])], radii: [radius, radius],
                                   startColour: colour, endColour: colour, bristles: nil) { _ in opacity }
            }
        }

        // Brush strokes.
        let strokeCount = generator.nextUniform() < 0.25 ? 0 : 1 + generator.nextInt(below: 9)
        for _ in 0..<strokeCount {
            paintBrushStroke(on: &canvas, palette: palette, using: &generator)
        }
        return canvas.image()
    }

    /// The generator seed of painting `index` in collection `seed` (SplitMix64 mixing, so
    /// nearby seeds and indices give unrelated paintings).
    public static func imageSeed(seed: UInt64, index: Int) -> UInt64 {
        mix64(mix64(seed) ^ mix64(UInt64(bitPattern: Int64(index)) &+ 0x632B_E59B_D9B4_E019))
    }

    /// SplitMix64's output function: a bijective 64-bit mix.
    private static func mix64(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 20–120 points in the unit square: the 4 corners (so the triangles cover the canvas),
    /// 0–3 more on each border, and the rest uniform or around 1–4 cluster centres.
    static func scatterPoints(using generator: inout RandomGenerator) -> [SIMD2<Double>] {
        var points: [SIMD2<Double>] = [[0, 0], [1, 0], [1, 1], [0, 1]]
        for side in 0..<4 {
            for _ in 0..<generator.nextInt(below: 4) {
                let t = Double(0.1 + 0.8 * generator.nextUniform())
                points.append([[t, 0], [1, t], [t, 1], [0, t]][side])
            }
        }
        let total = 20 + generator.nextInt(below: 101)
        let clusters = (0..<(1 + generator.nextInt(below: 4))).map { _ in
            (centre: SIMD2<Double>(Double(generator.nextUniform()), Double(generator.nextUniform())),
             spread: Double(0.03 + 0.12 * generator.nextUniform()))
        }
        let clusteredShare = 0.8 * generator.nextUniform()
        while points.count < total {
            var point = SIMD2<Double>(Double(generator.nextUniform()), Double(generator.nextUniform()))
            if generator.nextUniform() < clusteredShare {
                let cluster = clusters[generator.nextInt(below: clusters.count)]
                let offset = SIMD2<Double>(Double(generator.nextNormal()), Double(generator.nextNormal()))
                let candidate = cluster.centre + cluster.spread * offset
                if candidate.x > 0, candidate.x < 1, candidate.y > 0, candidate.y < 1 { point = candidate }
            }
            points.append(point)
        }
        return points
    }

    /// One brush stroke: a cubic Bézier of length 0.15–0.75 of the canvas from a random start,
    /// bending sideways, 32 segments; radius swelling from the tips with a pressure wobble;
    /// opacity fading towards the end; a palette colour shifting towards another; dry-brush
    /// bristles across it.
    private static func paintBrushStroke(on canvas: inout ArtCanvas, palette: ArtPalette,
                                         using generator: inout RandomGenerator) {
        let scale = Float(canvas.size)
        let start = SIMD2<Float>(generator.nextUniform() * 1.2 - 0.1, generator.nextUniform() * 1.2 - 0.1)
        let angle = 2 * Float.pi * generator.nextUniform()
        let direction = SIMD2<Float>(cos(angle), sin(angle)), normal = SIMD2<Float>(-direction.y, direction.x)
        let length = 0.15 + 0.6 * generator.nextUniform()
        let bend1 = (generator.nextUniform() - 0.5) * 0.8 * length
        let bend2 = (generator.nextUniform() - 0.5) * 0.8 * length
        let control = [start, start + direction * (length / 3) + normal * bend1,
                       start + direction * (2 * length / 3) + normal * bend2, start + direction * length]
        let radius = (0.006 + 0.035 * generator.nextUniform()) * scale
        let wobble = 0.15 * generator.nextUniform(), wobblePhase = 2 * Float.pi * generator.nextUniform()
        let segments = 32
        var points: [SIMD2<Float>] = [], radii: [Float] = []
        for i in 0...segments {
            let t = Float(i) / Float(segments), s = 1 - t
            let p = s * s * s * control[0] + 3 * s * s * t * control[1] + 3 * s * t * t * control[2] + t * t * t * control[3]
            points.append(p * scale)
            let swell = 0.35 + 0.65 * sin(Float.pi * t).squareRoot()
            radii.append(radius * swell * (1 + wobble * sin(6 * Float.pi * t + wobblePhase)))
        }
        let startColour = palette[generator.nextInt(below: palette.count)]
        let shift = generator.nextUniform() < 0.5 ? 0 : 0.6 * generator.nextUniform()
        let endColour = startColour + shift * (palette[generator.nextInt(below: palette.count)] - startColour)
        let opacity = 0.55 + 0.4 * generator.nextUniform(), dryness = 0.7 * generator.nextUniform()
        let bristles = (0..<24).map { _ in 1 - dryness * generator.nextUniform() * generator.nextUniform() }
        canvas.paintStroke(points: points, radii: radii, startColour: startColour, endColour: endColour,
                           bristles: bristles) { t in opacity * (1 - dryness * t * t) }
    }
}

/// Which palette colour goes where: a coherent field over the unit square, so neighbouring
/// triangles tend to share colours. Regions: the colour of the nearest of 2–7 seeds. Bands:
/// stripes along a random direction, warped by a sine. Scattered: independent random colours.
/// In every mode some places (up to 35%) get a random palette colour instead.
private struct ColourField {
    enum Mode { case regions, bands, scattered }
    let mode: Mode
    let palette: ArtPalette
    let seeds: [(position: SIMD2<Double>, colour: Int)]
    let axis: SIMD2<Double>, bandCount: Double, warp: Double, warpFrequency: Double
    let noise: Float

    static func random(palette: ArtPalette, using generator: inout RandomGenerator) -> ColourField {
        let draw = generator.nextUniform()
        let mode: Mode = draw < 0.5 ? .regions : draw < 0.8 ? .bands : .scattered
        let seeds = (0..<(2 + generator.nextInt(below: 6))).map { _ in
            (position: SIMD2<Double>(Double(generator.nextUniform()), Double(generator.nextUniform())),
             colour: generator.nextInt(below: palette.count))
        }
        let angle = 2 * Double.pi * Double(generator.nextUniform())
        return ColourField(
            mode: mode, palette: palette, seeds: seeds, axis: SIMD2(cos(angle), sin(angle)),
            bandCount: Double(1 + generator.nextInt(below: palette.count + 2)),
            warp: 0.3 * Double(generator.nextUniform()), warpFrequency: 2 + 6 * Double(generator.nextUniform()),
            noise: 0.35 * generator.nextUniform())
    }

    /// The colour at `point`, its brightness jittered by a factor 1 ± `jitter` (one sigma).
    func colour(at point: SIMD2<Double>, jitter: Float, using generator: inout RandomGenerator) -> SIMD3<Float> {
        var index: Int
        switch mode {
        case .regions:
            index = seeds.min { simdDistanceSquared($0.position, point) < simdDistanceSquared($1.position, point) }!.colour
        case .bands:
            let across = SIMD2(-axis.y, axis.x)
            let t = (point * axis).sum() + warp * sin(warpFrequency * (point * across).sum())
            let band = Int((t * bandCount).rounded(.down))
            index = ((band % palette.count) + palette.count) % palette.count
        case .scattered:
            index = generator.nextInt(below: palette.count)
        }
        if generator.nextUniform() < noise { index = generator.nextInt(below: palette.count) }
        return palette[index] * (1 + jitter * generator.nextNormal())
    }

    private func simdDistanceSquared(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        let d = a - b
        return d.x * d.x + d.y * d.y
    }
}
