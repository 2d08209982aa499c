import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Reports

/// Parses `text` as XML; returns nil when well-formed, else the parser's error, and counts elements.
final class XMLCheck: NSObject, XMLParserDelegate {
    private(set) var elementCounts: [String: Int] = [:]
    private(set) var errorDescription: String?

    /// Parses `text`; true when it is well-formed XML.
    static func wellFormed(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> XMLCheck {
        let check = XMLCheck()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = check
        if !parser.parse() {
            check.errorDescription = parser.parserError.map { "\($0) at line \(parser.lineNumber), column \(parser.columnNumber)" } ?? "unknown error"
        }
        XCTAssertNil(check.errorDescription, "not well-formed XML: \(check.errorDescription ?? "")\n\(text.prefix(2000))", file: file, line: line)
        return check
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elementCounts[elementName, default: 0] += 1
    }
}

final class SVGChartTests: XCTestCase {
    /// Steps are 1, 2 or 5 × 10^k, evenly spaced, first ≤ min, last ≥ max.
    private func assertNice(_ ticks: [Double], covering low: Double, _ high: Double, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(ticks.count, 2, line: line)
        XCTAssertLessThanOrEqual(ticks.first!, Swift.min(low, high), line: line)
        XCTAssertGreaterThanOrEqual(ticks.last!, Swift.max(low, high), line: line)
        let step = ticks[1] - ticks[0]
        let mantissa = step / pow(10, floor(log10(step) + 1e-9))  // differences of large ticks carry rounding
        XCTAssertTrue([1.0, 2, 5].contains { abs(mantissa - $0) < 1e-6 }, "step \(step) is not 1-2-5", line: line)
        for (a, b) in zip(ticks, ticks.dropFirst()) { XCTAssertEqual(b - a, step, accuracy: step * 1e-9, line: line) }
    }

    func testNiceTicksForSeveralRanges() {
        XCTAssertEqual(niceTicks(min: 0, max: 1, count: 6), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(niceTicks(min: 0, max: 10, count: 5), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(niceTicks(min: 0, max: 10, count: 3), [0, 5, 10])
        XCTAssertEqual(niceTicks(min: 0.13, max: 0.87, count: 5), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(niceTicks(min: -3.7, max: 12.2, count: 6), [-5, 0, 5, 10, 15])
        XCTAssertEqual(niceTicks(min: 1e6, max: 5e6, count: 5), [1e6, 2e6, 3e6, 4e6, 5e6])
        XCTAssertEqual(niceTicks(min: 0.0012, max: 0.0047, count: 4), [0.001, 0.002, 0.003, 0.004, 0.005])
        // Exact decimals: 3 × 0.1 is 0.3, not 0.30000000000000004.
        XCTAssertEqual(niceTicks(min: 0, max: 0.3, count: 4), [0, 0.1, 0.2, 0.3])
        // Either order; zero range around 0 and around a value; non-finite bounds.
        XCTAssertEqual(niceTicks(min: 1, max: 0, count: 6), niceTicks(min: 0, max: 1, count: 6))
        XCTAssertEqual(niceTicks(min: 0, max: 0, count: 5), [-1, -0.5, 0, 0.5, 1])
        let constant = niceTicks(min: 5, max: 5, count: 6)
        assertNice(constant, covering: 5, 5)
        XCTAssertTrue(constant.first! < 5 && constant.last! > 5)
        XCTAssertEqual(niceTicks(min: .nan, max: 1, count: 5), [])
        XCTAssertEqual(niceTicks(min: 0, max: .infinity, count: 5), [])

        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let scale = pow(10, Double.random(in: -6...8, using: &generator))
            let a = Double.random(in: -1...1, using: &generator) * scale, b = Double.random(in: -1...1, using: &generator) * scale
            let count = Int.random(in: 2...10, using: &generator)
            let ticks = niceTicks(min: a, max: b, count: count)
            assertNice(ticks, covering: a, b)
            XCTAssertLessThanOrEqual(ticks.count, 2 * count + 2)
        }
    }

    func testAxisRangesIncludeTheData() {
        for values in [[0.13, 0.87], [-3.7, 12.2, 4], [1e-4, 3e-4], [42.0], [7, 7, 7]] {
            let axis = ChartAxis.linear(values, count: 6)
            XCTAssertLessThanOrEqual(axis.lower, values.min()!)
            XCTAssertGreaterThanOrEqual(axis.upper, values.max()!)
            XCTAssertLessThan(axis.lower, axis.upper)
        }
        let widened = ChartAxis.linear([0.2, 0.4], including: 0...1, count: 6)
        XCTAssertEqual(widened.lower, 0)
        XCTAssertEqual(widened.upper, 1)
        // Tight axes: the data plus padding, with the nice ticks inside.
        let tight = ChartAxis.linear([-0.029, 1.033, 0.5], count: 6, padding: 0.03)
        XCTAssertEqual(tight.lower, -0.029 - 0.03 * 1.062, accuracy: 1e-12)
        XCTAssertEqual(tight.upper, 1.033 + 0.03 * 1.062, accuracy: 1e-12)
        XCTAssertEqual(tight.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let tightConstant = ChartAxis.linear([3, 3], count: 6, padding: 0.03)
        XCTAssertTrue(tightConstant.lower < 3 && tightConstant.upper > 3)
        let log = ChartAxis.logarithmic([0.002, 0, -1, 30, .nan], count: 6)
        XCTAssertTrue(log.isLogarithmic)
        XCTAssertLessThanOrEqual(log.lower, log10(0.002))
        XCTAssertGreaterThanOrEqual(log.upper, log10(30))
        XCTAssertEqual(log.labels.first, "0.001")
        XCTAssertEqual(log.labels.last, "100")
        let narrow = ChartAxis.logarithmic([2, 7], count: 6)
        XCTAssertEqual(narrow.labels, ["1", "2", "5", "10"])
    }

    func testTickLabelsAreFormatted() {
        XCTAssertEqual(formatTickLabels([0, 0.2, 0.4, 0.6, 0.8, 1]), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(formatTickLabels([0, 500, 1000]), ["0", "500", "1000"])
        XCTAssertEqual(formatTickLabels([-1, -0.5, 0, 0.5]), ["-1.0", "-0.5", "0.0", "0.5"])
        XCTAssertEqual(formatTickLabels([0, 0.05, 0.1]), ["0.00", "0.05", "0.10"])
        XCTAssertEqual(formatTickLabels([0, 2e6, 4e6]), ["0", "2e6", "4e6"])
        XCTAssertEqual(formatTickLabels([2e6, 2.5e6, 3e6]), ["2e6", "2.5e6", "3e6"])
        XCTAssertEqual(formatTickLabels([0, 2e-5, 4e-5]), ["0", "2e-5", "4e-5"])
        XCTAssertEqual(formatTickLabels([2.5e-5, 3e-5, 3.5e-5]), ["2.5e-5", "3e-5", "3.5e-5"])
        XCTAssertEqual(formatTickLabels([-0.2, 1e-17, 0.2]), ["-0.2", "0.0", "0.2"])
        XCTAssertEqual(formatNumber(3.14159), "3.142")
        XCTAssertEqual(formatNumber(28.5), "28.5")
        XCTAssertEqual(formatNumber(1_234_567), "1.235e6")
        XCTAssertEqual(formatNumber(0.000_12), "1.2e-4")
        XCTAssertEqual(formatNumber(0), "0")
        XCTAssertEqual(formatNumber(.nan), "NaN")
        XCTAssertEqual(formatNumber(-.infinity), "-inf")
        XCTAssertEqual(svgNumber(12.5), "12.5")
        XCTAssertEqual(svgNumber(-0.004), "0")
        XCTAssertEqual(svgNumber(3.14159), "3.14")
        XCTAssertEqual(svgNumber(-2.05), "-2.05")
    }

    func testUserTextIsEscapedInSVGAndHTML() {
        let name = "loss <train> & \"val\" 'β'"
        XCTAssertEqual(xmlEscaped(name), "loss &lt;train&gt; &amp; &quot;val&quot; &#39;β&#39;")
        XCTAssertEqual(xmlEscaped("a\u{1}b\tc"), "a\u{FFFD}b\tc")
        let options = ChartOptions(title: "<&> title", xLabel: "step <x>", yLabel: "y & z")
        let svg = SVGChart.lineChart([LineSeries(name: name, values: [3, 2, 1])], options: options)
        XCTAssertTrue(svg.contains("loss &lt;train&gt; &amp; &quot;val&quot;"))
        XCTAssertFalse(svg.contains("<train>"))
        XCTAssertTrue(svg.contains("&lt;&amp;&gt; title"))
        XCTAssertEqual(XMLCheck.wellFormed(svg).elementCounts["svg"], 1)

        var report = HTMLReport(title: "Report <&>", command: "splatkit report dataset 'a&b.h5'")
        report.section("Section <1> & more")
        report.paragraph("x < y && y > z")
        report.table(header: ["<name>", "value"], rows: [["a&b", "<1>"], ["short"]], caption: "caption \"q\"")
        report.figure(svg: svg, caption: "chart of <loss>")
        report.section("Second")
        let html = report.html()
        XCTAssertTrue(html.contains("<title>Report &lt;&amp;&gt;</title>"))
        XCTAssertTrue(html.contains("<p>x &lt; y &amp;&amp; y &gt; z</p>"))
        XCTAssertTrue(html.contains("<td>a&amp;b</td><td>&lt;1&gt;</td>"))
        XCTAssertTrue(html.contains("<td>short</td><td></td>"), "short rows are padded")
        XCTAssertTrue(html.contains("&#39;a&amp;b.h5&#39;"))
        XCTAssertFalse(html.contains("<name>"))
        let check = XMLCheck.wellFormed(html)
        XCTAssertEqual(check.elementCounts["h2"], 2)
        XCTAssertEqual(check.elementCounts["li"], 2, "a table of contents lists both sections")
    }

    func testEmptyConstantAndNonFiniteDataStillGiveValidSVG() {
        let options = ChartOptions(title: "edge", xLabel: "x", yLabel: "y")
        var charts = [
            SVGChart.lineChart([], options: options),
            SVGChart.lineChart([LineSeries(name: "empty", points: [])], options: options),
            SVGChart.lineChart([LineSeries(name: "one", values: [4])], options: options),
            SVGChart.lineChart([LineSeries(name: "constant", values: [2, 2, 2])], options: options),
            SVGChart.lineChart([LineSeries(name: "gaps", values: [1, .nan, 3, .infinity, 5, 6])], options: options),
            SVGChart.lineChart([LineSeries(name: "all NaN", values: [.nan, .nan])], options: options),
            SVGChart.lineChart([LineSeries(name: "log", values: [1, 0.1, 0, -1, 0.01]), LineSeries(name: "b", values: [5])],
                               options: options, logY: true),
            SVGChart.lineChart([LineSeries(name: "log empty", values: [0, -2])], options: options, logY: true),
            SVGChart.histogram(values: [], options: options),
            SVGChart.histogram(values: [3, 3, 3], options: options),
            SVGChart.histogram(values: [.nan, 1, 2, .infinity], bins: 4, options: options),
            SVGChart.scatterPlot(ScatterPlot(points: []), options: options),
            SVGChart.scatterPlot(ScatterPlot(points: [ChartPoint(x: 0.5, y: 0.5)], values: [7]), options: options),
            SVGChart.scatterPlot(ScatterPlot(points: [ChartPoint(x: .nan, y: 1), ChartPoint(x: 1, y: 2)], values: [1, .nan]), options: options),
        ]
        var path = ScatterPlot(points: (0..<20).map { ChartPoint(x: Double($0 % 5) / 4, y: Double($0 / 5) / 4) }, values: (0..<20).map(Double.init))
        path.path = path.points
        path.background = [ChartPoint(x: 0.1, y: 0.9)]
        path.yDown = true
        path.colourLabel = "index <i>"
        charts.append(SVGChart.scatterPlot(path, options: options))
        for svg in charts {
            let check = XMLCheck.wellFormed(svg)
            XCTAssertEqual(check.elementCounts["svg"], 1)
            XCTAssertFalse(svg.lowercased().contains("nan\""), "no NaN coordinates")
            XCTAssertFalse(svg.contains("inf\""), "no infinite coordinates")
        }
        XCTAssertTrue(charts[0].contains("no data"))
        XCTAssertTrue(charts[8].contains("no data"))
        XCTAssertFalse(charts[3].contains("no data"))
        XCTAssertTrue(charts[2].contains("<circle"), "a single point gets a marker")
        XCTAssertTrue(charts[10].contains("1 NaN/inf") || charts[10].contains("2 NaN/inf"))
        XCTAssertTrue(charts.last!.contains("<polyline"))
        XCTAssertTrue(charts.last!.contains("index &lt;i&gt;"))
    }

    func testHistogramBinsAndReservoirQuantiles() {
        var histogram = Histogram(lowerBound: 0, upperBound: 1, bins: 4)
        histogram.add(contentsOf: [0, 0.25, 0.5, 0.999, 1, -0.1, 1.5, .nan] as [Double])
        XCTAssertEqual(histogram.counts, [1, 1, 1, 2])
        XCTAssertEqual([histogram.below, histogram.above, histogram.invalid], [1, 1, 1])
        XCTAssertEqual(histogram.totalCount, 8)
        XCTAssertEqual(histogram.edge(4), 1)

        var sample = ReservoirSample(capacity: 100, seed: 1)
        for value in 0..<10_000 { sample.add(Double(value)) }
        sample.add(.nan)
        XCTAssertEqual(sample.values.count, 100)
        XCTAssertEqual(sample.seen, 10_000)
        XCTAssertEqual(sample.minimum, 0)
        XCTAssertEqual(sample.maximum, 9999)
        XCTAssertEqual(sample.quantile(0.5)!, 5000, accuracy: 1500, "a uniform sample's median is near the middle")
        var exact = ReservoirSample(capacity: 1000)
        for value in 0...100 { exact.add(Double(value)) }
        XCTAssertEqual(exact.quantile(0.25), 25)
        XCTAssertEqual(exact.histogramRange(tail: 0), 0...100)
        XCTAssertEqual(ReservoirSample(capacity: 3).histogramRange(), 0...1)
    }

    func testColourScaleEnds() {
        XCTAssertEqual(ColourScale.viridis.colour(at: 0), "#440154")
        XCTAssertEqual(ColourScale.viridis.colour(at: 1), "#fde725")
        XCTAssertEqual(ColourScale.viridis.colour(at: -3), ColourScale.viridis.colour(at: 0))
        XCTAssertEqual(ColourScale.viridis.colour(at: .nan), ColourScale.viridis.colour(at: 0))
    }

    func testMarkerLineAndIntegerTicks() {
        let series = [LineSeries(name: "val", values: [30, 10, 20], xs: [1, 2, 3])]  // y ticks 10, 15, …, 30
        let options = ChartOptions(title: "loss", xLabel: "epoch", width: 400, height: 300, tickCount: 5)
        let marked = SVGChart.lineChart(series, options: options, integerX: true, marker: ChartMarker(x: 2, label: "best <2>"))
        XCTAssertEqual(XMLCheck.wellFormed(marked).elementCounts["line"].map { $0 > 0 }, true)
        XCTAssertEqual(occurrences(of: "stroke-dasharray", in: marked), 1)
        XCTAssertTrue(marked.contains(">best &lt;2&gt;</text>"))
        // The dashed line sits at the x of the series' middle point (epoch 2), top to bottom.
        let circles = marked.components(separatedBy: "<circle cx=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        let dashed = marked.components(separatedBy: "stroke-dasharray")[0].components(separatedBy: "<line x1=\"").last!
        XCTAssertEqual(String(dashed.prefix { $0 != "\"" }), String(circles[1]))
        // Whole-number x ticks only: 1, 2, 3, never 1.5.
        XCTAssertTrue(marked.contains(">2</text>"))
        XCTAssertFalse(marked.contains(">1.5</text>"))
        XCTAssertTrue(SVGChart.lineChart(series, options: options).contains(">1.5</text>"))
        // Outside the axis, or with no data, no marker.
        XCTAssertFalse(SVGChart.lineChart(series, options: options, marker: ChartMarker(x: 9, label: "far")).contains("far"))
        XCTAssertFalse(SVGChart.lineChart([], options: options, marker: ChartMarker(x: 0.5, label: "no data marker")).contains("no data marker"))
    }
}
