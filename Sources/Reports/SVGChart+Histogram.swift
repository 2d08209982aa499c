import Foundation

// Histogram charts: one bar per bin of a `Histogram` (Histogram.swift), x exactly from the
// first to the last bin edge (ticks inside), y from 0 to a nice count above the tallest bar.
// Values the histogram could not bin (outside its range, or NaN/inf) are noted in the top
// right corner, so a clipped range never hides data silently.

extension SVGChart {
    /// A bar chart of `histogram`'s counts.
    ///
    /// - Parameters:
    ///   - colour: bar fill (CSS colour; default the first palette colour).
    ///   - density: plot count / (total binned · bin width) instead of counts.
    public static func histogram(_ histogram: Histogram, options: ChartOptions, colour: String? = nil, density: Bool = false) -> String {
        let binned = histogram.binnedCount
        let scale = density && binned > 0 ? 1 / (Double(binned) * histogram.binWidth) : 1
        let heights = histogram.counts.map { Double($0) * scale }
        let xAxis = ChartAxis.linear([histogram.lowerBound, histogram.upperBound], count: options.tickCount, padding: 0)
        var yAxis = ChartAxis.linear([0] + heights, count: Swift.max(2, options.tickCount - 1), integer: !density)
        yAxis.hasData = binned > 0
        let frame = PlotFrame(options: options, xAxis: xAxis, yAxis: yAxis)
        let fill = colour.map(xmlEscaped) ?? palette[0]

        var svg = frame.header() + frame.axes()
        svg += "<g fill=\"\(fill)\" stroke=\"#ffffff\" stroke-width=\"0.5\">"
        let baseline = frame.y(0)
        for (index, height) in heights.enumerated() where height > 0 {
            let x0 = frame.x(histogram.edge(index)), x1 = frame.x(histogram.edge(index + 1))
            let top = frame.y(height)
            svg += "<rect x=\"\(svgNumber(x0))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(Swift.max(x1 - x0, 0.5)))\" "
                + "height=\"\(svgNumber(baseline - top))\"/>"
        }
        svg += "</g>"
        var notes: [String] = []
        if histogram.below > 0 { notes.append("\(histogram.below) below range") }
        if histogram.above > 0 { notes.append("\(histogram.above) above range") }
        if histogram.invalid > 0 { notes.append("\(histogram.invalid) NaN/inf") }
        if !notes.isEmpty {
            svg += "<text x=\"\(svgNumber(frame.right - 6))\" y=\"\(svgNumber(frame.top + 14))\" text-anchor=\"end\" "
                + "font-size=\"11\" fill=\"#a33\">\(xmlEscaped(notes.joined(separator: ", ")))</text>"
        }
        if binned == 0 { svg += frame.noDataNote() }
        return svg + "</svg>"
    }

    /// A histogram chart of `values` in `bins` bins over their finite range.
    public static func histogram(values: [Double], bins: Int = 30, options: ChartOptions, colour: String? = nil) -> String {
        histogram(Histogram(values: values, bins: bins), options: options, colour: colour)
    }
}
