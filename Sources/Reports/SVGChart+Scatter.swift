import Foundation

// Scatter and path plots: points coloured by a value through a colour scale (with a colour bar),
// an optional polyline through a sequence of points drawn under them, and optional grey
// context points. Built for the sorting figure: Gaussian positions coloured by their index in a
// set, and the path through the first Gaussians in stored order.
//
// Axes are tight: the data (and any requested range) plus 3% on each side, ticks inside.
// Positions may be in image coordinates (`yDown`: y = 0 at the top, as in the Image-GS
// convention). The colour bar maps the finite colour values' min…max onto the scale; a
// constant value gets the scale's middle colour.

/// A sequential colour scale: piecewise-linear through evenly spaced stops.
public struct ColourScale: Sendable {
    /// Stops as (red, green, blue) in 0…1, from the low end to the high end.
    public let stops: [(red: Double, green: Double, blue: Double)]

    public init(stops: [(red: Double, green: Double, blue: Double)]) {
        precondition(stops.count >= 2, "ColourScale: needs at least 2 stops, got \(stops.count)")
        self.stops = stops
    }

    /// matplotlib's viridis at 9 evenly spaced points (perceptually uniform, colour-blind safe).
    public static let viridis = ColourScale(stops: [
        (0.267, 0.005, 0.329), (0.279, 0.175, 0.483), (0.230, 0.322, 0.546), (0.173, 0.449, 0.558),
        (0.128, 0.567, 0.551), (0.153, 0.680, 0.504), (0.361, 0.785, 0.388), (0.668, 0.862, 0.196),
        (0.993, 0.906, 0.144),
    ])

    /// The colour at `fraction` (clamped to 0…1; NaN gives the low end) as "#rrggbb".
    public func colour(at fraction: Double) -> String {
        let t = fraction.isNaN ? 0 : Swift.min(Swift.max(fraction, 0), 1)
        let position = t * Double(stops.count - 1)
        let index = Swift.min(Int(position), stops.count - 2)
        let f = position - Double(index)
        let (a, b) = (stops[index], stops[index + 1])
        func hex(_ low: Double, _ high: Double) -> String {
            let byte = Int(((low + (high - low) * f) * 255).rounded())
            let text = String(Swift.min(Swift.max(byte, 0), 255), radix: 16)
            return text.count == 1 ? "0" + text : text
        }
        return "#" + hex(a.red, b.red) + hex(a.green, b.green) + hex(a.blue, b.blue)
    }
}

/// What a scatter/path plot draws.
public struct ScatterPlot: Sendable {
    public var points: [ChartPoint]
    /// One colour value per point (nil: all points in the first palette colour).
    public var values: [Double]?
    public var colourScale = ColourScale.viridis
    /// Title of the colour bar.
    public var colourLabel = ""
    /// A polyline through these points, in order, under the coloured points.
    public var path: [ChartPoint] = []
    /// Grey points under everything (context, e.g. the rest of a set behind a path).
    public var background: [ChartPoint] = []
    /// Ranges the axes cover at least (the data may widen them).
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Image coordinates: y grows downwards.
    public var yDown = false
    public var pointRadius = 3.0

    public init(points: [ChartPoint], values: [Double]? = nil) {
        precondition(values == nil || values!.count == points.count, "ScatterPlot: \(values?.count ?? 0) colour values for \(points.count) points")
        self.points = points
        self.values = values
    }
}

extension SVGChart {
    /// A scatter plot of `plot.points` (coloured by `plot.values` with a colour bar), its path
    /// and background points.
    public static func scatterPlot(_ plot: ScatterPlot, options: ChartOptions) -> String {
        let everything = plot.points + plot.path + plot.background
        let drawable = everything.filter(\.isFinite)
        let xAxis = ChartAxis.linear(drawable.map(\.x), including: plot.xRange, count: options.tickCount, padding: 0.03)
        let yAxis = ChartAxis.linear(drawable.map(\.y), including: plot.yRange, count: options.tickCount, padding: 0.03)
        let finiteValues = (plot.values ?? []).filter { $0.isFinite }
        let hasColourBar = !finiteValues.isEmpty
        let frame = PlotFrame(options: options, xAxis: xAxis, yAxis: yAxis, rightMargin: hasColourBar ? 78 : 16, yDown: plot.yDown)

        var svg = frame.header() + frame.axes()
        if !plot.background.isEmpty {
            svg += "<g fill=\"#c8c8c8\">"
            for point in plot.background {
                guard let p = frame.position(point) else { continue }
                svg += "<circle cx=\"\(svgNumber(p.x))\" cy=\"\(svgNumber(p.y))\" r=\"\(svgNumber(plot.pointRadius * 0.7))\"/>"
            }
            svg += "</g>"
        }
        let pathPositions = plot.path.compactMap { frame.position($0) }
        if pathPositions.count > 1 {
            svg += "<polyline fill=\"none\" stroke=\"#555555\" stroke-width=\"1.2\" stroke-linejoin=\"round\" points=\""
                + pathPositions.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " ") + "\"/>"
        }
        let low = finiteValues.min() ?? 0, high = finiteValues.max() ?? 1
        svg += "<g stroke=\"#ffffff\" stroke-width=\"0.4\">"
        for (index, point) in plot.points.enumerated() {
            guard let p = frame.position(point) else { continue }
            let fill: String
            if let values = plot.values {
                guard values[index].isFinite else { continue }
                fill = plot.colourScale.colour(at: high > low ? (values[index] - low) / (high - low) : 0.5)
            } else {
                fill = palette[0]
            }
            svg += "<circle cx=\"\(svgNumber(p.x))\" cy=\"\(svgNumber(p.y))\" r=\"\(svgNumber(plot.pointRadius))\" fill=\"\(fill)\"/>"
        }
        svg += "</g>"
        if hasColourBar { svg += colourBar(plot, low: low, high: high, frame: frame, count: options.tickCount) }
        if drawable.isEmpty { svg += frame.noDataNote() }
        return svg + "</svg>"
    }

    /// A vertical colour bar in the right margin: 48 bands from low (bottom) to high (top),
    /// labelled at the nice ticks inside low…high (or at the value itself when constant).
    private static func colourBar(_ plot: ScatterPlot, low: Double, high: Double, frame: PlotFrame, count: Int) -> String {
        let x0 = frame.right + 14, barWidth = 12.0
        let top = frame.top + (plot.colourLabel.isEmpty ? 0 : 16), bottom = frame.bottom
        let bands = 48
        let bandHeight = (bottom - top) / Double(bands)
        var svg = "<g>"
        for band in 0..<bands {
            let y = bottom - Double(band + 1) * bandHeight
            svg += "<rect x=\"\(svgNumber(x0))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(barWidth))\" "
                + "height=\"\(svgNumber(bandHeight + 0.3))\" fill=\"\(plot.colourScale.colour(at: (Double(band) + 0.5) / Double(bands)))\"/>"
        }
        svg += "<rect x=\"\(svgNumber(x0))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(barWidth))\" height=\"\(svgNumber(bottom - top))\" "
            + "fill=\"none\" stroke=\"#333333\" stroke-width=\"0.8\"/>"
        var ticks: [Double], labels: [String]
        if high > low {
            ticks = niceTicks(min: low, max: high, count: Swift.max(2, count - 1)).filter { $0 >= low - 1e-9 * (high - low) && $0 <= high + 1e-9 * (high - low) }
            labels = formatTickLabels(ticks)
        } else {
            ticks = [low]
            labels = [formatNumber(low)]
        }
        svg += "<g font-size=\"10\" fill=\"#333333\">"
        for (tick, label) in zip(ticks, labels) {
            let fraction = high > low ? (tick - low) / (high - low) : 0.5
            let y = bottom - fraction * (bottom - top)
            svg += "<line x1=\"\(svgNumber(x0 + barWidth))\" y1=\"\(svgNumber(y))\" x2=\"\(svgNumber(x0 + barWidth + 4))\" "
                + "y2=\"\(svgNumber(y))\" stroke=\"#333333\"/>"
            svg += "<text x=\"\(svgNumber(x0 + barWidth + 6))\" y=\"\(svgNumber(y + 3.5))\">\(xmlEscaped(label))</text>"
        }
        svg += "</g>"
        if !plot.colourLabel.isEmpty {
            svg += "<text x=\"\(svgNumber(x0))\" y=\"\(svgNumber(frame.top + 8))\" font-size=\"11\">\(xmlEscaped(plot.colourLabel))</text>"
        }
        return svg + "</g>"
    }
}
