import Foundation
import GaussianRasterizer
import TensorCore

// The grids a coded set lives on. Per Gaussian (Image-GS row [x, y, sx, sy, θ, r, g, b], see
// GaussianConventions.swift), with L = 2^bits levels per attribute:
//   x, y     cells of [−m, 1 + m) with m = 1/16 (fits put a few centres just outside the
//            image): u = (x + m) / (1 + 2m), q = clamp(⌊u·2^b⌋, 0, 2^b − 1); back to
//            (q + ½) / 2^b · (1 + 2m) − m
//   sx, sy   log2|s| on a grid whose end points are the set's range [lo, hi] (carried in the
//            header): q = round((log2|s| − lo) / step), step = (hi − lo) / (L − 1)
//   θ        θ mod π (an ellipse is symmetric): q = round(θ·L/π) mod L; back to q·π/L
//   colour   in an orthonormal luma/chroma basis (ColourBasis), where the three components are
//            far less alike than r, g, b: luma on a grid of 2^b levels with end points
//            [lo_0, hi_0], each chroma component on a grid of the same step from lo_c (as
//            many levels as its range needs, at least 2), so the quantisation error is that
//            of three channels of one step (the basis is orthonormal) while the chroma
//            symbols, of small range, cost few bits
// Only the integer symbols and the grids' parameters are stored; the decoder and the encoder's
// final render both dequantise with `dequantized`, so they agree bit for bit.

/// Bits per attribute (the grids' sizes).
public struct QuantizationBits: Equatable, Sendable {
    /// Per axis; 2·position ≤ 32 (a Morton code fits in 32 bits).
    public var position: Int
    public var scale: Int
    public var rotation: Int
    public var colour: Int

    /// Defaults: 7 bits for scales, rotations and luma (chosen on the validation photos,
    /// BENCHMARKS.md §8: +0.2 dB over 6 at equal bytes at 0.25 bpp).
    public init(position: Int, scale: Int = 7, rotation: Int = 7, colour: Int = 7) {
        self.position = position
        self.scale = scale
        self.rotation = rotation
        self.colour = colour
    }

    /// The margin m of the position grid beyond each image edge, in image widths (heights).
    public static let positionMargin: Float = 1.0 / 16

    /// Positions at half a pixel or finer on the longer side: ⌈log2((1 + 2m)·max(W, H))⌉ + 1 bits.
    public static func positionBits(width: Int, height: Int) -> Int {
        let span = Double(Swift.max(width, height, 2)) * Double(1 + 2 * positionMargin)
        return Swift.min(16, Int(log2(span).rounded(.up)) + 1)
    }

    /// The ranges a decoder accepts.
    public static let positionRange = 1...16, attributeRange = 1...12

    public var isValid: Bool {
        Self.positionRange.contains(position) && Self.attributeRange.contains(scale)
            && Self.attributeRange.contains(rotation) && Self.attributeRange.contains(colour) && rotation >= 2
    }
}

/// The end points of the scale and colour grids, chosen from a set (its extremes).
public struct QuantizationRanges: Equatable, Sendable {
    /// log2 of the inverse standard deviations (1/px), both axes.
    public var logScale: ClosedRange<Float>
    /// Luma and the two chroma components (ColourBasis).
    public var colour: [ClosedRange<Float>]

    public init(logScale: ClosedRange<Float>, colour: [ClosedRange<Float>]) {
        precondition(colour.count == 3, "QuantizationRanges: three colour ranges")
        self.logScale = logScale
        self.colour = colour
    }

    /// Ranges for a set's rows (N, 8) fitted to a width × height image: each attribute's
    /// `tail` and 1 − `tail` quantiles (the few outliers beyond are clamped, and fine-tuning
    /// adapts them), the log-scales also within [−log2(4·max(W, H)), 3] (σ from a third of a
    /// pixel to four image sides: a larger Gaussian is flat over the image). Non-finite values
    /// are ignored.
    public init(covering rows: Tensor, width: Int, height: Int, tail: Double = 0.002) {
        precondition(rows.rank == 2 && rows.shape[1] == ImageGSColumn.count, "QuantizationRanges: rows \(rows.shape) must be (N, 8)")
        let n = rows.shape[0]
        let logScales = (0..<n).flatMap { g in
            [ImageGSColumn.scaleX, ImageGSColumn.scaleY].map { log2(Swift.max(abs(rows.scalars[g * 8 + $0]), 1e-6)) }
        }
        let scales = quantileRange(logScales, tail: tail)
        let floor = -Float(log2(4 * Double(Swift.max(width, height, 1)))), ceiling: Float = 3
        let low = Swift.min(Swift.max(scales.lowerBound, floor), ceiling), high = Swift.max(Swift.min(scales.upperBound, ceiling), low)
        logScale = low...high
        let components = (0..<n).map { g in
            ColourBasis.forward(rows.scalars[g * 8 + ImageGSColumn.red], rows.scalars[g * 8 + ImageGSColumn.green],
                                rows.scalars[g * 8 + ImageGSColumn.blue])
        }
        colour = (0..<3).map { c in quantileRange(components.map { $0[c] }, tail: tail) }
    }

    public var isValid: Bool {
        ([logScale] + colour).allSatisfy { $0.lowerBound.isFinite && $0.upperBound.isFinite }
    }
}

/// The `tail` and 1 − `tail` quantiles of the finite `values` (0...0 when there are none).
func quantileRange(_ values: [Float], tail: Double) -> ClosedRange<Float> {
    let sorted = values.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return 0...0 }
    let last = Double(sorted.count - 1)
    return sorted[Int((last * tail).rounded())]...sorted[Int((last * (1 - tail)).rounded())]
}

/// The orthonormal colour basis of the codec: luma (r + g + b)/√3 and two chroma components
/// (r − b)/√2 and (r − 2g + b)/√6. Orthonormal, so a quantisation error of a given size costs
/// the same squared error in r, g, b whichever component it falls on.
public enum ColourBasis {
    static let a = 1 / Float(3).squareRoot(), b = 1 / Float(2).squareRoot(), c = 1 / Float(6).squareRoot()

    public static func forward(_ red: Float, _ green: Float, _ blue: Float) -> [Float] {
        [a * (red + green + blue), b * (red - blue), c * (red - 2 * green + blue)]
    }

    public static func inverse(_ components: [Float]) -> (red: Float, green: Float, blue: Float) {
        let (y, u, v) = (components[0], components[1], components[2])
        return (a * y + b * u + c * v, a * y - 2 * c * v, a * y - b * u + c * v)
    }
}

/// A set's symbols: one array per attribute, N each (x, y are position cells).
public struct QuantizedGaussians: Equatable {
    public var x: [UInt32], y: [UInt32], scaleX: [UInt32], scaleY: [UInt32], rotation: [UInt32]
    /// Luma and chroma symbols, 3 × N.
    public var colour: [[UInt32]]

    public var count: Int { x.count }

    public init(count: Int) {
        let zeros = [UInt32](repeating: 0, count: count)
        (x, y, scaleX, scaleY, rotation) = (zeros, zeros, zeros, zeros, zeros)
        colour = [zeros, zeros, zeros]
    }
}

/// One attribute's uniform grid with end points `range` and `levels` levels (≥ 2).
struct EndPointGrid {
    let low: Float, step: Float, levels: Int

    init(_ range: ClosedRange<Float>, levels: Int) {
        self.levels = levels
        low = range.lowerBound
        step = (range.upperBound - range.lowerBound) / Float(levels - 1)
    }

    func symbol(_ value: Float) -> UInt32 {
        guard step > 0, value.isFinite else { return 0 }
        return UInt32(Swift.min(Swift.max(((value - low) / step).rounded(), 0), Float(levels - 1)))
    }

    func value(_ symbol: UInt32) -> Float { low + Float(symbol) * step }
}

/// The grids of one coded set.
public struct GaussianQuantizer: Equatable, Sendable {
    public let bits: QuantizationBits
    /// The grids' end points (the chroma ones a whole number of luma steps apart).
    public let ranges: QuantizationRanges
    /// Levels of the luma and the two chroma grids.
    public let colourLevels: [Int]
    /// The most levels a chroma grid may have (its symbols' alphabet).
    public static let maximumColourLevels = 4096

    /// Grids of `bits` over `ranges`: luma 2^bits.colour levels; each chroma grid the luma
    /// step from its lower end, with as many levels as reach its upper end (2…4096).
    public init(bits: QuantizationBits, ranges: QuantizationRanges) {
        let lumaLevels = 1 << bits.colour, luma = ranges.colour[0]
        let step = (luma.upperBound - luma.lowerBound) / Float(lumaLevels - 1)
        var colour = ranges.colour, levels = [lumaLevels]
        for c in 1...2 {
            let span = colour[c].upperBound - colour[c].lowerBound
            let needed = step > 0 ? Int(Swift.min((span / step).rounded(.up), Float(Self.maximumColourLevels))) + 1 : 2
            let count = Swift.min(Swift.max(needed, 2), Self.maximumColourLevels)
            levels.append(count)
            if step > 0 { colour[c] = colour[c].lowerBound...(colour[c].lowerBound + Float(count - 1) * step) }
        }
        self.init(bits: bits, ranges: QuantizationRanges(logScale: ranges.logScale, colour: colour), colourLevels: levels)
    }

    /// Grids exactly as a stream records them.
    public init(bits: QuantizationBits, ranges: QuantizationRanges, colourLevels: [Int]) {
        precondition(bits.isValid, "GaussianQuantizer: invalid bits \(bits)")
        precondition(colourLevels.count == 3 && colourLevels.allSatisfy { (2...Self.maximumColourLevels).contains($0) },
                     "GaussianQuantizer: colour levels \(colourLevels) must be three counts in 2...\(Self.maximumColourLevels)")
        self.bits = bits
        self.ranges = ranges
        self.colourLevels = colourLevels
    }

    private var scaleGrid: EndPointGrid { EndPointGrid(ranges.logScale, levels: 1 << bits.scale) }
    private func colourGrid(_ channel: Int) -> EndPointGrid { EndPointGrid(ranges.colour[channel], levels: colourLevels[channel]) }

    /// The symbols of rows (N, 8), in row order.
    public func quantized(_ rows: Tensor) -> QuantizedGaussians {
        precondition(rows.rank == 2 && rows.shape[1] == ImageGSColumn.count, "GaussianQuantizer: rows \(rows.shape) must be (N, 8)")
        let n = rows.shape[0], cells = Float(1 << bits.position), rotationLevels = 1 << bits.rotation
        let margin = QuantizationBits.positionMargin, span = 1 + 2 * QuantizationBits.positionMargin
        let scales = scaleGrid, colours = (0..<3).map(colourGrid)
        var q = QuantizedGaussians(count: n)
        let values = rows.scalars
        for g in 0..<n {
            let base = g * 8
            func row(_ column: Int) -> Float { values[base + column] }
            func cell(_ v: Float) -> UInt32 {
                v.isFinite ? UInt32(Swift.min(Swift.max(((v + margin) / span * cells).rounded(.down), 0), cells - 1)) : 0
            }
            q.x[g] = cell(row(ImageGSColumn.x))
            q.y[g] = cell(row(ImageGSColumn.y))
            q.scaleX[g] = scales.symbol(log2(Swift.max(abs(row(ImageGSColumn.scaleX)), 1e-6)))
            q.scaleY[g] = scales.symbol(log2(Swift.max(abs(row(ImageGSColumn.scaleY)), 1e-6)))
            let theta = row(ImageGSColumn.rotation)
            let turns = theta.isFinite ? Double(theta) / Double.pi * Double(rotationLevels) : 0
            let level = Int(turns.rounded()) % rotationLevels
            q.rotation[g] = UInt32(level < 0 ? level + rotationLevels : level)
            let components = ColourBasis.forward(row(ImageGSColumn.red), row(ImageGSColumn.green), row(ImageGSColumn.blue))
            for c in 0..<3 { q.colour[c][g] = colours[c].symbol(components[c]) }
        }
        return q
    }

    /// Rows (N, 8) of symbols: every value on its grid.
    public func dequantized(_ q: QuantizedGaussians) -> Tensor {
        let cells = Float(1 << bits.position), rotationStep = Float.pi / Float(1 << bits.rotation)
        let margin = QuantizationBits.positionMargin, span = 1 + 2 * QuantizationBits.positionMargin
        let scales = scaleGrid, colours = (0..<3).map(colourGrid)
        var rows = [Float](repeating: 0, count: q.count * 8)
        for g in 0..<q.count {
            rows[g * 8 + ImageGSColumn.x] = (Float(q.x[g]) + 0.5) / cells * span - margin
            rows[g * 8 + ImageGSColumn.y] = (Float(q.y[g]) + 0.5) / cells * span - margin
            rows[g * 8 + ImageGSColumn.scaleX] = exp2(scales.value(q.scaleX[g]))
            rows[g * 8 + ImageGSColumn.scaleY] = exp2(scales.value(q.scaleY[g]))
            rows[g * 8 + ImageGSColumn.rotation] = Float(q.rotation[g]) * rotationStep
            let rgb = ColourBasis.inverse((0..<3).map { colours[$0].value(q.colour[$0][g]) })
            rows[g * 8 + ImageGSColumn.red] = rgb.red
            rows[g * 8 + ImageGSColumn.green] = rgb.green
            rows[g * 8 + ImageGSColumn.blue] = rgb.blue
        }
        return Tensor(shape: [q.count, 8], scalars: rows)
    }

    /// Rows (N, 8) moved onto the grids (quantise, then dequantise) in their own order, each
    /// scale keeping its sign and θ its turn (θ − θ mod π), so that a straight-through
    /// estimator's gradient of the projected rows is the gradient of the rows themselves.
    public func projected(_ rows: Tensor) -> Tensor {
        var values = dequantized(quantized(rows)).scalars
        for g in 0..<rows.shape[0] {
            for column in [ImageGSColumn.scaleX, ImageGSColumn.scaleY] where rows.scalars[g * 8 + column] < 0 {
                values[g * 8 + column] = -values[g * 8 + column]
            }
            let theta = rows.scalars[g * 8 + ImageGSColumn.rotation], onGrid = values[g * 8 + ImageGSColumn.rotation]
            if theta.isFinite { values[g * 8 + ImageGSColumn.rotation] = onGrid + (Float.pi * ((theta - onGrid) / Float.pi).rounded()) }
        }
        return Tensor(shape: rows.shape, scalars: values)
    }
}
