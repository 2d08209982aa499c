import Foundation
import TensorCore

// Seeded hole masks for training and evaluating inpainting, and the hole-ratio curriculum.
//
// A mask is [Float] of H·W values, row-major, 1 = hole, 0 = known (files: white = hole, see
// MaskFiles.swift). Pixel (x, y) covers [x, x+1) × [y, y+1); a shape covers the pixels whose
// centres (x + ½, y + ½) it contains.
//
// Shapes (s = min(W, H); thickness t uniform in 4…20 px, capped at max(4, s/8) for small masks):
//   line         a segment of length s/8…s/2 with round caps, thickness t
//   circle       a filled disc of radius s/32…s/8
//   ellipse arc  an arc of an ellipse (semi-axes s/16…s/4, any rotation) spanning 90°…360°,
//                thickness t
//   brush        a free-form stroke (DeepFill v2 style): a random walk of 4–12 vertices, steps of
//                s/16…s/6, turning up to ±72° per vertex, its width varying between the vertices'
//                thicknesses
//   rectangle    axis-aligned, sides 0.2…0.7·s (the box class)
//
// Classes: small (20–40 % hole) and large (40–60 %) are irregular (lines, circles, arcs, brush
// strokes mixed); box is 20–50 % of rectangles. A mask draws a target ratio uniformly in its
// class's range, then adds shapes while the ratio is below the target, rejecting any shape that
// would push it past the range's top; shapes shrink as rejections accumulate, and if 300
// attempts were not enough, 3-pixel discs (squares for boxes) finish the job. So every mask's
// ratio lies in its range (for masks of at least 16 × 16 pixels and a range at least 0.05 wide).
//
// Determinism. Mask `index` of a generator with `seed` uses its own random stream, seeded with
// (seed, index, ratio range, style): the same mask whatever was generated before it, on any
// thread, and unrelated masks for different classes.

/// The mask classes.
public enum MaskKind: String, CaseIterable, Codable, Sendable {
    /// Irregular strokes covering 20–40 % of the image.
    case small
    /// Irregular strokes covering 40–60 %.
    case large
    /// Rectangles covering 20–50 %.
    case box

    /// The hole ratios this class's masks fall in.
    public var holeRatioRange: ClosedRange<Float> {
        switch self {
        case .small: return 0.2...0.4
        case .large: return 0.4...0.6
        case .box: return 0.2...0.5
        }
    }

    /// The shapes this class draws.
    public var style: MaskStyle { self == .box ? .boxes : .irregular }
}

/// Which shapes a mask is drawn with.
public enum MaskStyle: String, Codable, Sendable {
    /// Lines, circles, ellipse arcs and brush strokes.
    case irregular
    /// Axis-aligned rectangles.
    case boxes
}

/// The fraction of hole pixels (values ≥ ½) of a mask.
public func holeRatio(_ mask: [Float]) -> Float {
    precondition(!mask.isEmpty, "holeRatio: empty mask")
    return Float(mask.reduce(0) { $0 + ($1 >= 0.5 ? 1 : 0) }) / Float(mask.count)
}

/// The hole ratio as training proceeds: rising linearly from `start` to `end` (0.2 → 0.6 by default).
public struct MaskCurriculum: Equatable, Sendable {
    public var start: Float
    public var end: Float

    public init(start: Float = 0.2, end: Float = 0.6) {
        precondition(start > 0 && start <= end && end < 1, "MaskCurriculum: ratios \(start) → \(end) must rise within (0, 1)")
        self.start = start
        self.end = end
    }

    /// The target ratio at `progress` (step / steps, clamped to [0, 1]).
    public func holeRatio(progress: Double) -> Float {
        start + (end - start) * Float(Swift.min(Swift.max(progress, 0), 1))
    }

    /// The ratios to draw masks from at `progress`: the target ± `spread`, within [0.01, 0.95].
    public func holeRatioRange(progress: Double, spread: Float = 0.1) -> ClosedRange<Float> {
        let target = holeRatio(progress: progress)
        return Swift.max(0.01, target - spread)...Swift.min(0.95, target + spread)
    }
}

/// Draws seeded masks of one size.
public struct MaskGenerator: Sendable {
    public let width: Int
    public let height: Int
    public let seed: UInt64

    public init(width: Int, height: Int, seed: UInt64) {
        precondition(width >= 1 && height >= 1, "MaskGenerator: size \(width)×\(height) must be positive")
        self.width = width
        self.height = height
        self.seed = seed
    }

    /// Mask `index` of class `kind`: (H·W), 1 = hole.
    public func mask(index: Int, kind: MaskKind) -> [Float] {
        mask(index: index, holeRatio: kind.holeRatioRange, style: kind.style)
    }

    /// Mask `index` with a hole ratio drawn uniformly from `holeRatio` (see the file header).
    public func mask(index: Int, holeRatio range: ClosedRange<Float>, style: MaskStyle) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= 1, "MaskGenerator: hole ratio range \(range)")
        // The stream of (seed, index, range, style): a small and a large mask of one index differ.
        let salt = UInt64(range.lowerBound.bitPattern) << 33 | UInt64(range.upperBound.bitPattern) << 1
            | (style == .boxes ? 1 : 0)
        var random = RandomGenerator(seed: seed ^ (UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15)
                                         ^ (salt &* 0xBF58_476D_1CE4_E5B9))
        var canvas = MaskCanvas(width: width, height: height)
        let total = Float(width * height)
        let target = range.lowerBound + (range.upperBound - range.lowerBound) * random.nextUniform()
        let limit = Int((range.upperBound * total).rounded(.down))
        var attempt = 0
        while Float(canvas.holes) < target * total && attempt < 300 {
            let shrink = Swift.max(0.15, 1 - Float(attempt) / 100)
            let before = canvas.holes
            let added = style == .boxes
                ? canvas.rectangle(random: &random, scale: shrink)
                : canvas.irregularShape(random: &random, scale: shrink)
            if canvas.holes > limit { canvas.revert(added, to: before) }
            attempt += 1
        }
        // Rarely needed: small dots until the range's bottom is reached (each adds ≤ 9 pixels).
        var dots = 0
        while Float(canvas.holes) < range.lowerBound * total && dots < 100 * width * height {
            dots += 1
            let before = canvas.holes
            let x = Float(random.nextInt(below: width)) + 0.5, y = Float(random.nextInt(below: height)) + 0.5
            let added = style == .boxes
                ? canvas.fillRectangle(x0: x - 1.5, y0: y - 1.5, x1: x + 1.5, y1: y + 1.5)
                : canvas.stampSegment(SIMD2(x, y), SIMD2(x, y), radii: (1.5, 1.5))
            if canvas.holes > limit { canvas.revert(added, to: before) }
        }
        return canvas.values
    }
}

/// A binary mask being drawn; every stamp returns the pixels it newly set, so it can be undone.
private struct MaskCanvas {
    let width: Int, height: Int
    var values: [Float]
    var holes = 0

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        values = [Float](repeating: 0, count: width * height)
    }

    var side: Float { Float(Swift.min(width, height)) }

    mutating func revert(_ pixels: [Int], to count: Int) {
        for p in pixels { values[p] = 0 }
        holes = count
    }

    private mutating func set(_ x: Int, _ y: Int, into added: inout [Int]) {
        let p = y * width + x
        if values[p] == 0 {
            values[p] = 1
            holes += 1
            added.append(p)
        }
    }

    /// Pixels whose centres lie within the segment a–b grown by a radius varying linearly from
    /// radii.0 at a to radii.1 at b (a capsule when equal).
    mutating func stampSegment(_ a: SIMD2<Float>, _ b: SIMD2<Float>, radii: (Float, Float)) -> [Int] {
        var added: [Int] = []
        let reach = Swift.max(radii.0, radii.1)
        let x0 = Swift.max(0, Int((Swift.min(a.x, b.x) - reach).rounded(.down)))
        let x1 = Swift.min(width - 1, Int((Swift.max(a.x, b.x) + reach).rounded(.up)))
        let y0 = Swift.max(0, Int((Swift.min(a.y, b.y) - reach).rounded(.down)))
        let y1 = Swift.min(height - 1, Int((Swift.max(a.y, b.y) + reach).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return added }
        let direction = b - a
        let lengthSquared = (direction * direction).sum()
        for y in y0...y1 {
            for x in x0...x1 {
                let p = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                let t = lengthSquared > 0 ? Swift.min(1, Swift.max(0, ((p - a) * direction).sum() / lengthSquared)) : 0
                let d = p - (a + t * direction)
                let radius = radii.0 + (radii.1 - radii.0) * t
                if (d * d).sum() <= radius * radius { set(x, y, into: &added) }
            }
        }
        return added
    }

    /// Pixels whose centres lie in [x0, x1) × [y0, y1).
    mutating func fillRectangle(x0: Float, y0: Float, x1: Float, y1: Float) -> [Int] {
        var added: [Int] = []
        let columns = Swift.max(0, Int((x0 - 0.5).rounded(.up)))..<Swift.max(0, Swift.min(width, Int((x1 - 0.5).rounded(.up))))
        let rows = Swift.max(0, Int((y0 - 0.5).rounded(.up)))..<Swift.max(0, Swift.min(height, Int((y1 - 0.5).rounded(.up))))
        for y in rows {
            for x in columns { set(x, y, into: &added) }
        }
        return added
    }

    // MARK: Random shapes

    private func uniform(_ low: Float, _ high: Float, _ random: inout RandomGenerator) -> Float {
        low + (high - low) * random.nextUniform()
    }

    private func point(_ random: inout RandomGenerator) -> SIMD2<Float> {
        SIMD2(uniform(0, Float(width), &random), uniform(0, Float(height), &random))
    }

    /// A stroke thickness: 4…20 px, capped at max(4, s/8), times `scale` (at least 2 px).
    private func thickness(_ random: inout RandomGenerator, scale: Float) -> Float {
        Swift.max(2, uniform(4, Swift.min(20, Swift.max(4, side / 8)), &random) * scale)
    }

    /// A line, circle, ellipse arc or brush stroke (30/15/20/35 %), sized by `scale`.
    mutating func irregularShape(random: inout RandomGenerator, scale: Float) -> [Int] {
        let pick = random.nextUniform()
        if pick < 0.3 {
            let start = point(&random), angle = uniform(0, 2 * .pi, &random)
            let length = uniform(side / 8, side / 2, &random) * scale
            let radius = thickness(&random, scale: scale) / 2
            return stampSegment(start, start + length * SIMD2(Foundation.cos(angle), Foundation.sin(angle)), radii: (radius, radius))
        } else if pick < 0.45 {
            let centre = point(&random), radius = Swift.max(1.5, uniform(side / 32, side / 8, &random) * scale)
            return stampSegment(centre, centre, radii: (radius, radius))
        } else if pick < 0.65 {
            return ellipseArc(random: &random, scale: scale)
        } else {
            return brushStroke(random: &random, scale: scale)
        }
    }

    private mutating func ellipseArc(random: inout RandomGenerator, scale: Float) -> [Int] {
        let centre = point(&random)
        let axes = SIMD2(uniform(side / 16, side / 4, &random), uniform(side / 16, side / 4, &random)) * scale
        let rotation = uniform(0, .pi, &random), start = uniform(0, 2 * .pi, &random)
        let span = uniform(.pi / 2, 2 * .pi, &random)
        let radius = thickness(&random, scale: scale) / 2
        let (cosine, sine) = (Foundation.cos(rotation), Foundation.sin(rotation))
        func position(_ angle: Float) -> SIMD2<Float> {
            let local = SIMD2(axes.x * Foundation.cos(angle), axes.y * Foundation.sin(angle))
            return centre + SIMD2(cosine * local.x - sine * local.y, sine * local.x + cosine * local.y)
        }
        let steps = Swift.max(4, Int(span * Swift.max(axes.x, axes.y) / 2))  // ~2 px per segment
        var added: [Int] = []
        for i in 0..<steps {
            let a = start + span * Float(i) / Float(steps), b = start + span * Float(i + 1) / Float(steps)
            added += stampSegment(position(a), position(b), radii: (radius, radius))
        }
        return added
    }

    private mutating func brushStroke(random: inout RandomGenerator, scale: Float) -> [Int] {
        var position = point(&random), heading = uniform(0, 2 * .pi, &random)
        var radius = thickness(&random, scale: scale) / 2
        var added: [Int] = []
        for _ in 0..<(4 + random.nextInt(below: 9)) {
            heading += uniform(-2 * .pi / 5, 2 * .pi / 5, &random)
            let length = uniform(side / 16, side / 6, &random) * scale
            var next = position + length * SIMD2(Foundation.cos(heading), Foundation.sin(heading))
            next = SIMD2(Swift.min(Swift.max(next.x, 0), Float(width)), Swift.min(Swift.max(next.y, 0), Float(height)))
            let nextRadius = thickness(&random, scale: scale) / 2
            added += stampSegment(position, next, radii: (radius, nextRadius))
            (position, radius) = (next, nextRadius)
        }
        return added
    }

    /// An axis-aligned rectangle with sides 0.2…0.7·s times `scale`, inside the mask.
    mutating func rectangle(random: inout RandomGenerator, scale: Float) -> [Int] {
        let w = Swift.max(2, uniform(0.2 * side, 0.7 * side, &random) * scale)
        let h = Swift.max(2, uniform(0.2 * side, 0.7 * side, &random) * scale)
        let x0 = uniform(0, Swift.max(0, Float(width) - w), &random), y0 = uniform(0, Swift.max(0, Float(height) - h), &random)
        return fillRectangle(x0: x0, y0: y0, x1: x0 + w, y1: y0 + h)
    }
}
