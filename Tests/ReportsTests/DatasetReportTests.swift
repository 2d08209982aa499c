import Foundation
@testable import GaussianData
import SplatIO
import TensorCore
import XCTest
@testable import Reports

/// End to end: a tiny synthetic dataset (no fitting) → `writeDatasetReport` → a page with the
/// expected sections, charts and embedded images, all well-formed XML.
final class DatasetReportTests: ReportTestCase {
    func testReportHasSectionsChartsAndImages() throws {
        // Item 1 is procedural (its source is regenerated), item 2 has a file in --images,
        // item 0 has no source and a name that needs escaping.
        let dataset = try makeDataset(names: ["item <0> & co", "art_00001", "photo.png", "other"])
        let images = path("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let photo = RGBImage(width: 20, height: 24, pixels: (0..<(20 * 24 * 3)).map { Float($0 % 7) / 6 })
        try photo.writePNG(to: (images as NSString).appendingPathComponent("photo.png"))

        let output = path("report/nested")
        let page = try writeDatasetReport(dataset: dataset, output: output, samples: 4, images: images)
        XCTAssertEqual(page, (output as NSString).appendingPathComponent("index.html"))
        let html = try String(contentsOfFile: page, encoding: .utf8)

        for heading in ["Summary", "Sorting: Morton (Z-order)", "Parameter distributions", "Fit quality", "Sample renders"] {
            XCTAssertTrue(html.contains(">\(heading)</h2>"), "missing section \(heading)")
        }
        XCTAssertTrue(html.contains("item &lt;0&gt; &amp; co"))
        XCTAssertFalse(html.contains("item <0>"))
        XCTAssertTrue(html.contains("procedural, regenerated from seed 3"))
        XCTAssertTrue(html.contains("photo.png: source (photo.png)"))
        XCTAssertTrue(html.contains("source not found (no such PNG in \(images))"))
        XCTAssertTrue(html.contains("train split, 2 sets"))

        // 3 sorting items × 3 panels + 8 parameter histograms + PSNR and SSIM histograms.
        let charts = svgs(in: html)
        XCTAssertEqual(charts.count, 3 * 3 + 8 + 2)
        for svg in charts { XCTAssertEqual(XMLCheck.wellFormed(svg).elementCounts["svg"], 1) }
        XCTAssertEqual(occurrences(of: "<polyline", in: html), 3, "one path panel per sorting item")

        // 4 samples × (source or placeholder, render, error map or placeholder).
        XCTAssertEqual(occurrences(of: "src=\"data:image/png;base64,", in: html), 12)
        let page_ = XMLCheck.wellFormed(html)
        XCTAssertEqual(page_.elementCounts["img"], 12)
        XCTAssertEqual(page_.elementCounts["h2"], 5)

        // The first embedded PNG decodes to a 16 × 16 image.
        let uri = html.components(separatedBy: "data:image/png;base64,")[1].components(separatedBy: "\"")[0]
        let bytes = try XCTUnwrap(Data(base64Encoded: uri))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decodedPath = path("decoded.png")
        try bytes.write(to: URL(fileURLWithPath: decodedPath))
        let decoded = try RGBImage(contentsOfPNG: decodedPath)
        XCTAssertEqual([decoded.width, decoded.height], [16, 16])
    }

    func testPNGDataMatchesTheFileWriter() throws {
        let image = RGBImage(width: 5, height: 3, pixels: (0..<45).map { Float($0) / 44 * 1.2 - 0.1 })
        let filePath = path("file.png")
        try image.writePNG(to: filePath)
        let memoryPath = path("memory.png")
        try Data(try image.pngData()).write(to: URL(fileURLWithPath: memoryPath))
        XCTAssertEqual(try RGBImage(contentsOfPNG: memoryPath), try RGBImage(contentsOfPNG: filePath))
    }

    func testIncompleteAndEmptyDatasetsStillReport() throws {
        let dataset = try makeDataset(names: ["a", "b", "c"], setSize: 120, finish: false)
        let output = path("incomplete")
        let html = try String(contentsOfFile: try writeDatasetReport(dataset: dataset, output: output, samples: 2), encoding: .utf8)
        XCTAssertTrue(html.contains("incomplete: the build has not finished"))
        XCTAssertTrue(html.contains("all 3 items"))
        XCTAssertTrue(html.contains("Path, first 100 Gaussians"))
        XCTAssertEqual(occurrences(of: "src=\"data:image/png;base64,", in: html), 2, "renders only: no sources")
        XCTAssertEqual(XMLCheck.wellFormed(html).elementCounts["svg"], 2 * 3 + 8 + 2)

        try FileManager.default.removeItem(atPath: dataset)
        let empty = try makeDataset(names: [], finish: false)
        let emptyOutput = path("empty")
        let emptyHTML = try String(contentsOfFile: try writeDatasetReport(dataset: empty, output: emptyOutput), encoding: .utf8)
        XCTAssertTrue(emptyHTML.contains("no items yet"))
        _ = XMLCheck.wellFormed(emptyHTML)
    }

    func testMergedDatasetListsItsInputs() throws {
        for name in ["a.h5", "b.h5"] {
            try FileManager.default.moveItem(atPath: try makeDataset(names: ["x", "y"]), toPath: path(name))
        }
        try GaussianDatasetMerge.merge([path("a.h5"), path("b.h5")], into: path("merged.h5"), seed: 1, splits: [0.5, 0.5, 0])
        let html = try String(contentsOfFile: try writeDatasetReport(dataset: path("merged.h5"), output: path("merged"), samples: 1),
                              encoding: .utf8)
        XCTAssertTrue(html.contains("\(path("b.h5")): 2 items, imagegs, 1 steps, seed 3"), "one summary row per input")
        XCTAssertTrue(html.contains("a.h5/x, a.h5/y, b.h5/x"))
    }

    func testMissingDatasetThrowsAFileError() {
        XCTAssertThrowsError(try writeDatasetReport(dataset: path("none.h5"), output: path("out")))
    }
}
