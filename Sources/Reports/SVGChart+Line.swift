import Foundation

// Line charts: several named series over a shared x axis (steps, epochs), with a legend and an
// optional log-scaled y axis (loss curves).
//
// A series is drawn as polylines broken wherever a point cannot be drawn (NaN, ±inf, or y ≤ 0
// on a log axis), like matplotlib breaks lines at NaN. Runs of a single drawable point get a
// dot so they stay visible; so do all points of short series (`markers`).

/// One named line of a line chart.
public struct LineSeries: Sendable {
    public var name: String
    public var points: [ChartPoint]

    public init(name: String, points: [ChartPoint]) {
        self.name = name
        self.points = points
    }

    /// A series of `values` at x = 0, 1, 2, … (or `xs` when given, of the same length).
    public init(name: String, values: [Double], xs: [Double]? = nil) {
        precondition(xs == nil || xs!.count == values.count, "LineSeries: \(xs?.count ?? 0) x values for \(values.count) y values")
        self.name = name
        points = values.enumerated().map { ChartPoint(x: xs?[$0.offset] ?? Double($0.offset), y: $0.element) }
    }
}

/// A labelled vertical line across a chart's plot area (the best epoch of a run).
public struct ChartMarker: Sendable {
    /// Where, in data x.
    public var x: Double
    /// Shown at the top of the line.
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

extension SVGChart {
    /// A line chart of `series` (colours from `palette`, in order) with a legend of their names.
    ///
    /// - Parameters:
    ///   - logY: log10 y axis; points with y ≤ 0 are skipped.
    ///   - markers: dots on every point (default: when no series has more than 30 points).
    ///   - integerX: x ticks at whole numbers only (epochs, steps).
    ///   - marker: a dashed vertical line with a label, drawn when its x is inside the axis.
    public static func lineChart(_ series: [LineSeries], options: ChartOptions, logY: Bool = false, markers: Bool? = nil,
                                 integerX: Bool = false, marker: ChartMarker? = nil) -> String {
        let xs = series.flatMap { $0.points.filter { $0.isFinite && (!logY || $0.y > 0) }.map(\.x) }
        let ys = series.flatMap { $0.points.filter { $0.isFinite }.map(\.y) }
        let xAxis = ChartAxis.linear(xs, count: options.tickCount, integer: integerX)
        let yAxis = logY ? ChartAxis.logarithmic(ys, count: options.tickCount) : ChartAxis.linear(ys, count: options.tickCount)
        let named = series.enumerated().filter { !$0.element.name.isEmpty }
        let legendEntries = named.map { (name: $0.element.name, colour: palette[$0.offset % palette.count]) }
        let frame = PlotFrame(options: options, xAxis: xAxis, yAxis: yAxis,
                              rightMargin: legendEntries.isEmpty ? 16 : PlotFrame.legendWidth(legendEntries.map(\.name)))
        let showMarkers = markers ?? (series.map(\.points.count).max() ?? 0 <= 30)

        var svg = frame.header() + frame.axes()
        for (index, line) in series.enumerated() {
            let colour = palette[index % palette.count]
            let runs = drawableRuns(line.points, frame: frame)
            svg += "<g fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\">"
            for run in runs where run.count > 1 {
                svg += "<polyline points=\"\(run.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " "))\"/>"
            }
            svg += "</g><g fill=\"\(colour)\">"
            for run in runs where run.count == 1 || showMarkers {
                for point in run { svg += "<circle cx=\"\(svgNumber(point.x))\" cy=\"\(svgNumber(point.y))\" r=\"3\"/>" }
            }
            svg += "</g>"
        }
        if let marker, xAxis.hasData, marker.x.isFinite, marker.x >= xAxis.lower, marker.x <= xAxis.upper {
            svg += verticalMarker(marker, frame: frame)
        }
        if !(xAxis.hasData && yAxis.hasData) { svg += frame.noDataNote() }
        svg += frame.legend(legendEntries)
        return svg + "</svg>"
    }

    /// A dashed grey line from the top to the bottom of the plot at `marker.x`, its label just
    /// right of the line's top (left of it in the right half, so it stays inside the plot).
    private static func verticalMarker(_ marker: ChartMarker, frame: PlotFrame) -> String {
        let x = frame.x(marker.x)
        let inRightHalf = x > (frame.left + frame.right) / 2
        var svg = "<line x1=\"\(svgNumber(x))\" y1=\"\(svgNumber(frame.top))\" x2=\"\(svgNumber(x))\" y2=\"\(svgNumber(frame.bottom))\" "
            + "stroke=\"#555555\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"/>"
        if !marker.label.isEmpty {
            svg += "<text x=\"\(svgNumber(x + (inRightHalf ? -4 : 4)))\" y=\"\(svgNumber(frame.top + 14))\" "
                + "text-anchor=\"\(inRightHalf ? "end" : "start")\" font-size=\"11\" fill=\"#333333\">\(xmlEscaped(marker.label))</text>"
        }
        return svg
    }

    /// The SVG positions of `points`, split into runs at points the frame cannot draw.
    private static func drawableRuns(_ points: [ChartPoint], frame: PlotFrame) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        for point in points {
            if let position = frame.position(point) {
                current.append(position)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
