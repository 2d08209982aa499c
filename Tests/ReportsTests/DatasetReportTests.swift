import Foundation
@testable import GaussianData
import SplatIO
import TensorCore
import XCTest
@testable import Reports

/// End to end: a tiny synthetic dataset (no fitting) → `writeDatasetReport` → a page with the
/// expected sections, charts and embedded images, all well-formed XML.
final class DatasetReportTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("reports-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A dataset of `names.count` random sets of `setSize` Gaussians (Morton-ordered) at 16 px.
    private func makeDataset(names: [String], setSize: Int = 24, finish: Bool = true) throws -> String {
        let path = (folder as NSString).appendingPathComponent("tiny.h5")
        let settings = DatasetSettings(setSize: setSize, imageSize: 16, steps: 1, recipe: "imagegs", order: "morton",
                                       seed: 3, splits: [0.5, 0.25, 0.25])
        let file = try GaussianDatasetFile(creating: path, settings: settings)
        var generator = RandomGenerator(seed: 11)
        for (index, name) in names.enumerated() {
            var rows: [Float] = []
            for _ in 0..<setSize {
                rows += [generator.nextUniform(), generator.nextUniform(),          // x, y
                         0.3 + 0.3 * generator.nextUniform(), 0.3 + 0.3 * generator.nextUniform(),  // sx, sy: σ ≈ 2–3 px
                         6 * generator.nextUniform() - 3,                           // θ
                         generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
            }
            let order = SpatialOrder.morton.permutation(for: rows, count: setSize)
            let sorted = order.flatMap { rows[($0 * 8)..<($0 * 8 + 8)] }
            try file.append(DatasetItem(name: name, gaussians: sorted, psnr: 20 + Float(index), ssim: 0.5 + 0.1 * Float(index),
                                        sourceWidth: 16, sourceHeight: 16), at: index)
        }
        if finish { try file.finish() }
        try file.close()
        return path
    }

    private func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// The `<svg>…</svg>` substrings of a page.
    private func svgs(in html: String) -> [String] {
        html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
    }

    func testReportHasSectionsChartsAndImages() throws {
        // Item 1 is procedural (its source is regenerated), item 2 has a file in --images,
        // item 0 has no source and a name that needs escaping.
        let path = try makeDataset(names: ["item <0> & co", "art_00001", "photo.png", "other"])
        let images = (folder as NSString).appendingPathComponent("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let photo = RGBImage(width: 20, height: 24, pixels: (0..<(20 * 24 * 3)).map { Float($0 % 7) / 6 })
        try photo.writePNG(to: (images as NSString).appendingPathComponent("photo.png"))

        let output = (folder as NSString).appendingPathComponent("report/nested")
        let page = try writeDatasetReport(dataset: path, output: output, samples: 4, images: images)
        XCTAssertEqual(page, (output as NSString).appendingPathComponent("index.html"))
        let html = try String(contentsOfFile: page, encoding: .utf8)

        for heading in ["Summary", "Sorting: Morton (Z-order)", "Parameter distributions", "Fit quality", "Sample renders"] {
            XCTAssertTrue(html.contains(">\(heading)</h2>"), "missing section \(heading)")
        }
        XCTAssertTrue(html.contains("item &lt;0&gt; &amp; co"))
        XCTAssertFalse(html.contains("item <0>"))
        XCTAssertTrue(html.contains("procedural, regenerated from seed 3"))
        XCTAssertTrue(html.contains("photo.png: source (photo.png)"))
        XCTAssertTrue(html.contains("source not found"))
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
        let decodedPath = (folder as NSString).appendingPathComponent("decoded.png")
        try bytes.write(to: URL(fileURLWithPath: decodedPath))
        let decoded = try RGBImage(contentsOfPNG: decodedPath)
        XCTAssertEqual([decoded.width, decoded.height], [16, 16])
    }

    func testPNGDataMatchesTheFileWriter() throws {
        let image = RGBImage(width: 5, height: 3, pixels: (0..<45).map { Float($0) / 44 * 1.2 - 0.1 })
        let filePath = (folder as NSString).appendingPathComponent("file.png")
        try image.writePNG(to: filePath)
        let memoryPath = (folder as NSString).appendingPathComponent("memory.png")
        try Data(try image.pngData()).write(to: URL(fileURLWithPath: memoryPath))
        XCTAssertEqual(try RGBImage(contentsOfPNG: memoryPath), try RGBImage(contentsOfPNG: filePath))
    }

    func testIncompleteAndEmptyDatasetsStillReport() throws {
        let path = try makeDataset(names: ["a", "b", "c"], setSize: 120, finish: false)
        let output = (folder as NSString).appendingPathComponent("incomplete")
        let html = try String(contentsOfFile: try writeDatasetReport(dataset: path, output: output, samples: 2), encoding: .utf8)
        XCTAssertTrue(html.contains("incomplete: the build has not finished"))
        XCTAssertTrue(html.contains("all 3 items"))
        XCTAssertTrue(html.contains("Path, first 100 Gaussians"))
        XCTAssertEqual(occurrences(of: "src=\"data:image/png;base64,", in: html), 2, "renders only: no sources")
        XCTAssertEqual(XMLCheck.wellFormed(html).elementCounts["svg"], 2 * 3 + 8 + 2)

        try FileManager.default.removeItem(atPath: path)
        let empty = try makeDataset(names: [], finish: false)
        let emptyOutput = (folder as NSString).appendingPathComponent("empty")
        let emptyHTML = try String(contentsOfFile: try writeDatasetReport(dataset: empty, output: emptyOutput), encoding: .utf8)
        XCTAssertTrue(emptyHTML.contains("no items yet"))
        _ = XMLCheck.wellFormed(emptyHTML)
    }

    func testMissingDatasetThrowsAFileError() {
        XCTAssertThrowsError(try writeDatasetReport(dataset: (folder as NSString).appendingPathComponent("none.h5"),
                                                    output: (folder as NSString).appendingPathComponent("out")))
    }
}
