import Foundation

// A small SVG chart library: line charts (SVGChart+Line.swift), histograms
// (SVGChart+Histogram.swift) and scatter/path plots (SVGChart+Scatter.swift), each returned as
// one self-contained `<svg>` string for inline use in an HTML page. This file holds what they
// share: options, tick computation and formatting, XML escaping, and the plot frame (axes,
// grid, titles, legend).
//
// Geometry: a chart has a fixed viewBox (options.width × options.height user units) and no
// pixel size, so it scales with its container. The plot rectangle is the viewBox minus margins
// for the title (top), tick labels and axis titles (left, bottom) and the legend or colour bar
// (right). Data y grows upwards unless a chart asks for image coordinates (y down).
//
// Data: non-finite values (NaN, ±inf) are skipped, as are non-positive values on a log axis.
// An axis with no data spans 0…1 and the chart says "no data"; a constant value gets a range
// around it (see `niceTicks`). Axis ranges always include every drawn value.
//
// Text: every caller string passes through `xmlEscaped`, so the SVG is well-formed XML. The
// charts use no element ids, so any number of them can sit in one page.

/// A point in data coordinates.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Whether both coordinates are finite (only such points are drawn).
    public var isFinite: Bool { x.isFinite && y.isFinite }
}

/// Text and size shared by every chart.
public struct ChartOptions: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// The viewBox size in user units (the chart scales to its container).
    public var width: Double
    public var height: Double
    /// Ticks wanted per axis; 1-2-5 steps give roughly this many.
    public var tickCount: Int

    public init(title: String = "", xLabel: String = "", yLabel: String = "", width: Double = 640, height: Double = 400, tickCount: Int = 6) {
        precondition(width >= 120 && height >= 100, "ChartOptions: chart of \(width)×\(height) is too small (at least 120×100)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.width = width
        self.height = height
        self.tickCount = Swift.max(2, tickCount)
    }
}

/// Namespace of the chart functions (`lineChart`, `histogram`, `scatterPlot`).
public enum SVGChart {
    /// Categorical series colours (matplotlib's tab10).
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
}

// MARK: - Ticks and numbers

/// "Nice" axis ticks covering `min…max`: about `count` values spaced by 1, 2 or 5 × 10^k (the
/// nice value nearest to span / (count − 1)), the first ≤ min and the last ≥ max, so an axis
/// from the first to the last tick includes the data.
///
/// The bounds may come in either order. A zero range gets a range around the value (±1 for 0,
/// else ±10% of |value|); non-finite bounds give `[]`. Ticks are exact decimal values (an
/// integer divided by a power of ten), so 0.1 + 0.2 shows as 0.3.
public func niceTicks(min: Double, max: Double, count: Int) -> [Double] {
    niceTicks(min: min, max: max, count: count, minimumStep: 0)
}

/// `niceTicks` with a lower bound on the step (1 for axes of counts).
func niceTicks(min lowerValue: Double, max upperValue: Double, count: Int, minimumStep: Double) -> [Double] {
    guard lowerValue.isFinite, upperValue.isFinite else { return [] }
    var low = Swift.min(lowerValue, upperValue), high = Swift.max(lowerValue, upperValue)
    if high - low <= Swift.max(abs(low), abs(high)) * 1e-12 {
        let half = low == 0 ? 1 : abs(low) * 0.1
        low -= half
        high += half
    }
    let span = high - low
    guard span.isFinite else { return [low, high] }
    let rawStep = Swift.max(span / Double(Swift.max(1, count - 1)), minimumStep)
    let exponent = Int(floor(log10(rawStep)))
    let magnitude = pow(10, Double(exponent))
    let residual = rawStep / magnitude
    // The nearest nice multiple (Heckbert's "nice numbers"), so the count stays near `count`.
    var multiple: Double = residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10
    if multiple * magnitude < minimumStep { multiple = residual <= 2 ? 2 : residual <= 5 ? 5 : 10 }
    let step = multiple * magnitude
    let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
    guard last - first < 10_000 else { return [low, high] }
    // tick = k·multiple·10^exponent; dividing by an exact power of ten rounds correctly.
    return stride(from: first, through: last, by: 1).map { k in
        exponent < 0 ? k * multiple / pow(10, Double(-exponent)) : k * multiple * magnitude
    }
}

/// Labels for evenly spaced ticks: every label with the decimals the step needs ("0.0", "0.2",
/// …, "1.0"; "0", "500", "1000"), or scientific notation ("2e6", "2.5e-5") when the largest
/// tick is ≥ 10⁶ or below 10⁻³. A rounding residue of zero shows as zero, never "-0.0".
public func formatTickLabels(_ ticks: [Double]) -> [String] {
    guard let largest = ticks.map({ abs($0) }).filter({ $0.isFinite }).max() else { return ticks.map { formatNumber($0) } }
    let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : (largest > 0 ? largest : 1)
    let isZero = { (value: Double) in abs(value) <= step * 1e-9 }
    if largest >= 1e6 || (largest < 1e-3 && largest > 0) {
        let stepExponent = Int(floor(log10(step) + 1e-9))
        return ticks.map { value in
            guard value.isFinite else { return formatNumber(value) }
            if isZero(value) { return "0" }
            let digits = Swift.max(0, Swift.min(6, Int(floor(log10(abs(value)) + 1e-9)) - stepExponent))
            return scientific(value, digits: digits)
        }
    }
    let decimals = Swift.max(0, Swift.min(10, -Int(floor(log10(step) + 1e-9))))
    return ticks.map { value in
        guard value.isFinite else { return formatNumber(value) }
        return String(format: "%.\(decimals)f", isZero(value) ? 0 : value)
    }
}

/// A number for tables and captions: `significantDigits` significant digits without trailing
/// zeros, scientific outside 10⁻³…10⁶; "NaN", "inf", "-inf" for non-finite values.
public func formatNumber(_ value: Double, significantDigits: Int = 4) -> String {
    guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
    if value == 0 { return "0" }
    let digits = Swift.max(1, significantDigits)
    let exponent = Int(floor(log10(abs(value))))
    if abs(value) >= 1e6 || abs(value) < 1e-3 { return scientific(value, digits: digits - 1) }
    let decimals = Swift.max(0, digits - 1 - exponent)
    return trimmedDecimal(String(format: "%.\(decimals)f", value))
}

/// "2.5e-5" style: `digits` mantissa decimals, trailing zeros dropped, exponent without "+" or padding.
func scientific(_ value: Double, digits: Int) -> String {
    let text = String(format: "%.\(digits)e", value)
    guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
    let mantissa = trimmedDecimal(String(text[..<e]))
    let exponent = Int(text[text.index(after: e)...]) ?? 0
    return "\(mantissa)e\(exponent)"
}

/// "1.500" → "1.5", "2.000" → "2"; text without a decimal point is unchanged.
private func trimmedDecimal(_ text: String) -> String {
    guard text.contains(".") else { return text }
    var result = text
    while result.hasSuffix("0") { result.removeLast() }
    if result.hasSuffix(".") { result.removeLast() }
    return result == "-0" ? "0" : result
}

/// A coordinate in SVG user units: at most 2 decimals, no trailing zeros ("12.5", "3").
func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let hundredths = Int((value * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let magnitude = abs(hundredths)
    let whole = magnitude / 100, fraction = magnitude % 100
    if fraction == 0 { return "\(sign)\(whole)" }
    if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
    return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
}

// MARK: - Escaping

/// `text` safe inside XML/HTML text and attribute values: `&`, `<`, `>`, `"` and `'` become
/// entities, and characters XML 1.0 forbids (C0 controls other than tab, newline and carriage
/// return; U+FFFE, U+FFFF) become U+FFFD.
public func xmlEscaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
            result += "\u{FFFD}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}

// MARK: - Axes

/// One axis: its range and ticks in plotted space (log10 of the value on a log axis).
struct ChartAxis {
    var lower: Double
    var upper: Double
    var ticks: [Double]
    var labels: [String]
    var isLogarithmic = false
    /// Whether any value was given (else the chart says "no data").
    var hasData = true

    /// The plotted coordinate of a data value; nil for values this axis cannot draw.
    func plotted(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if isLogarithmic { return value > 0 ? log10(value) : nil }
        return value
    }

    /// A linear axis over the finite `values`, widened to include `including`.
    ///
    /// By default the axis runs from nice tick to nice tick around the data (`niceTicks`). With
    /// `padding` it is tight instead: the data range widened by `padding` × its span on each
    /// side, with the nice ticks that fall inside (matplotlib's style; for scatter plots and
    /// histogram bins, whose ranges mean something).
    static func linear(_ values: [Double], including: ClosedRange<Double>? = nil, count: Int, integer: Bool = false,
                       padding: Double? = nil) -> ChartAxis {
        var finite = values.filter { $0.isFinite }
        let hasData = !finite.isEmpty
        if let including { finite += [including.lowerBound, including.upperBound] }
        guard let low = finite.min(), let high = finite.max() else {
            let ticks = niceTicks(min: 0, max: 1, count: count)
            return ChartAxis(lower: 0, upper: 1, ticks: ticks, labels: formatTickLabels(ticks), hasData: false)
        }
        let minimumStep = integer ? 1.0 : 0
        let ticks = niceTicks(min: low, max: high, count: count, minimumStep: minimumStep)
        let extended = ChartAxis(lower: ticks.first ?? low, upper: ticks.last ?? high, ticks: ticks,
                                 labels: formatTickLabels(ticks), hasData: hasData)
        guard let padding, high > low else { return extended }
        let lower = low - padding * (high - low), upper = high + padding * (high - low)
        let tolerance = (upper - lower) * 1e-9
        for tickCount in [count, 2 * count] {
            let inside = niceTicks(min: lower, max: upper, count: tickCount, minimumStep: minimumStep)
                .filter { $0 >= lower - tolerance && $0 <= upper + tolerance }
            if inside.count >= 2 {
                return ChartAxis(lower: lower, upper: upper, ticks: inside, labels: formatTickLabels(inside), hasData: hasData)
            }
        }
        return extended
    }

    /// A log10 axis over the positive finite `values`, from decade to decade: ticks at powers of
    /// ten (every few decades when there are many), or at 1, 2, 5 × 10^k within one or two decades.
    static func logarithmic(_ values: [Double], count: Int) -> ChartAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else {
            return ChartAxis(lower: 0, upper: 1, ticks: [0, 1], labels: ["1", "10"], isLogarithmic: true, hasData: false)
        }
        var first = floor(log10(low)), last = ceil(log10(high))
        if last <= first { last = first + 1 }
        if last - first > 2 {
            let every = Swift.max(1, Int(ceil((last - first) / Double(Swift.max(1, count - 1)))))
            first = floor(first / Double(every)) * Double(every)
            last = ceil(last / Double(every)) * Double(every)
            let ticks = stride(from: first, through: last, by: Double(every)).map { $0 }
            return ChartAxis(lower: first, upper: last, ticks: ticks, labels: ticks.map { decadeLabel(Int($0)) }, isLogarithmic: true)
        }
        var ticks: [Double] = [], labels: [String] = []
        for decade in Int(first)...Int(last) {
            for multiple in [1.0, 2, 5] where Double(decade) + log10(multiple) <= last + 1e-9 {
                ticks.append(Double(decade) + log10(multiple))
                let value = decade < 0 ? multiple / pow(10, Double(-decade)) : multiple * pow(10, Double(decade))
                labels.append(formatNumber(value))
            }
        }
        return ChartAxis(lower: first, upper: last, ticks: ticks, labels: labels, isLogarithmic: true)
    }

    /// 10^exponent as "0.01", "1000", or "1e-5", "1e7" outside 10⁻³…10⁶.
    private static func decadeLabel(_ exponent: Int) -> String {
        (-3...6).contains(exponent) ? formatNumber(pow(10, Double(exponent))) : "1e\(exponent)"
    }
}

/// A chart's frame: the plot rectangle, the data → SVG mapping, and the shared decorations.
struct PlotFrame {
    let options: ChartOptions
    let xAxis: ChartAxis
    let yAxis: ChartAxis
    /// Image coordinates: y grows downwards.
    let yDown: Bool
    let left: Double, top: Double, right: Double, bottom: Double

    /// A frame leaving `rightMargin` units on the right (legend, colour bar).
    init(options: ChartOptions, xAxis: ChartAxis, yAxis: ChartAxis, rightMargin: Double = 16, yDown: Bool = false) {
        self.options = options
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.yDown = yDown
        let longestLabel = Double(yAxis.labels.map(\.count).max() ?? 1)
        left = 12 + 7 * longestLabel + (options.yLabel.isEmpty ? 0 : 20)
        top = options.title.isEmpty ? 14 : 34
        right = options.width - rightMargin
        bottom = options.height - (options.xLabel.isEmpty ? 26 : 44)
    }

    /// SVG x of a plotted x coordinate.
    func x(_ plotted: Double) -> Double {
        left + (plotted - xAxis.lower) / (xAxis.upper - xAxis.lower) * (right - left)
    }

    /// SVG y of a plotted y coordinate.
    func y(_ plotted: Double) -> Double {
        let fraction = (plotted - yAxis.lower) / (yAxis.upper - yAxis.lower)
        return yDown ? top + fraction * (bottom - top) : bottom - fraction * (bottom - top)
    }

    /// SVG position of a data point; nil when either axis cannot draw it.
    func position(_ point: ChartPoint) -> (x: Double, y: Double)? {
        guard let px = xAxis.plotted(point.x), let py = yAxis.plotted(point.y) else { return nil }
        return (x(px), y(py))
    }

    /// `<svg>` opening tag, accessible title, white background and the chart title.
    func header() -> String {
        let (w, h) = (svgNumber(options.width), svgNumber(options.height))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(w) \(h)\" class=\"chart\" role=\"img\" "
            + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">"
        svg += "<title>\(xmlEscaped(options.title.isEmpty ? "chart" : options.title))</title>"
        svg += "<rect width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>"
        if !options.title.isEmpty {
            svg += "<text x=\"\(svgNumber(options.width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">"
                + "\(xmlEscaped(options.title))</text>"
        }
        return svg
    }

    /// Grid lines, the plot border, ticks, tick labels and axis titles.
    func axes() -> String {
        var svg = "<g stroke=\"#e3e3e3\" stroke-width=\"1\">"
        for tick in xAxis.ticks { svg += line(x(tick), top, x(tick), bottom) }
        for tick in yAxis.ticks { svg += line(left, y(tick), right, y(tick)) }
        svg += "</g><g stroke=\"#333333\" stroke-width=\"1\">"
        for tick in xAxis.ticks { svg += line(x(tick), bottom, x(tick), bottom + 5) }
        for tick in yAxis.ticks { svg += line(left - 5, y(tick), left, y(tick)) }
        svg += "</g><rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(right - left))\" "
            + "height=\"\(svgNumber(bottom - top))\" fill=\"none\" stroke=\"#333333\"/>"
        svg += "<g fill=\"#333333\" text-anchor=\"middle\">"
        for (tick, label) in zip(xAxis.ticks, xAxis.labels) {
            svg += "<text x=\"\(svgNumber(x(tick)))\" y=\"\(svgNumber(bottom + 18))\">\(xmlEscaped(label))</text>"
        }
        svg += "</g><g fill=\"#333333\" text-anchor=\"end\">"
        for (tick, label) in zip(yAxis.ticks, yAxis.labels) {
            svg += "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y(tick) + 4))\">\(xmlEscaped(label))</text>"
        }
        svg += "</g>"
        if !options.xLabel.isEmpty {
            svg += "<text x=\"\(svgNumber((left + right) / 2))\" y=\"\(svgNumber(options.height - 8))\" text-anchor=\"middle\">"
                + "\(xmlEscaped(options.xLabel))</text>"
        }
        if !options.yLabel.isEmpty {
            let (cx, cy) = (svgNumber(14), svgNumber((top + bottom) / 2))
            svg += "<text x=\"\(cx)\" y=\"\(cy)\" transform=\"rotate(-90 \(cx) \(cy))\" text-anchor=\"middle\">"
                + "\(xmlEscaped(options.yLabel))</text>"
        }
        return svg
    }

    /// A centred "no data" note over the plot area.
    func noDataNote() -> String {
        "<text x=\"\(svgNumber((left + right) / 2))\" y=\"\(svgNumber((top + bottom) / 2))\" text-anchor=\"middle\" "
            + "fill=\"#888888\" font-size=\"14\">no data</text>"
    }

    /// A legend box at the top of the right margin: one swatch and name per entry.
    func legend(_ entries: [(name: String, colour: String)]) -> String {
        guard !entries.isEmpty else { return "" }
        let x0 = right + 12
        var svg = "<g font-size=\"11\">"
        for (index, entry) in entries.enumerated() {
            let y0 = top + 8 + Double(index) * 18
            svg += "<line x1=\"\(svgNumber(x0))\" y1=\"\(svgNumber(y0))\" x2=\"\(svgNumber(x0 + 18))\" y2=\"\(svgNumber(y0))\" "
                + "stroke=\"\(entry.colour)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(svgNumber(x0 + 24))\" y=\"\(svgNumber(y0 + 4))\">\(xmlEscaped(entry.name))</text>"
        }
        return svg + "</g>"
    }

    /// The right margin a legend of these names needs (about 6.2 units per character at 11 pt).
    static func legendWidth(_ names: [String]) -> Double {
        guard let longest = names.map(\.count).max() else { return 16 }
        return Swift.min(240, 48 + 6.2 * Double(longest))
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> String {
        "<line x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\"/>"
    }
}
