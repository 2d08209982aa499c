// What the Reports tests share: a temporary folder per test, a synthetic Gaussian dataset (no
// fitting), and helpers to pick a page apart.

import Foundation
import GaussianFitting
@testable import GaussianData
import TensorCore
import XCTest

/// A test case with a fresh temporary folder, removed after each test.
class ReportTestCase: XCTestCase {
    private(set) var folder = ""

    override func setUpWithError() throws {
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("reports-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `name` inside the test's folder.
    func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    /// A dataset `tiny.h5` of `names.count` random sets of `setSize` Gaussians (Morton-ordered,
    /// σ ≈ 2–3 px) fitted "at" 16 px, with stored PSNR 20 + i and SSIM 0.5 + 0.1·i for item i.
    func makeDataset(names: [String], setSize: Int = 24, splits: [Double] = [0.5, 0.25, 0.25],
                     finish: Bool = true) throws -> String {
        let path = path("tiny.h5")
        let settings = DatasetSettings(setSize: setSize, imageSize: 16, steps: 1, recipe: .fit(.imagegs), order: .morton,
                                       seed: 3, splits: splits)
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
}

/// How often `needle` occurs in `text`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

/// The `<svg>…</svg>` substrings of a page.
func svgs(in html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
}

/// `relative` inside this package (found from this file's path, not the working directory).
func packageFile(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}
