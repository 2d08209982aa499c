import Foundation
import NeuralNetwork
import SplatIO
import TensorCore
import TestSupport
import XCTest
@testable import Inpainting

// What `evaluate-inpaint --item-files` writes: the items exactly as scored (PNGs and float32
// arrays), the per-item CSV's columns, whole-image items; and the reference script
// scripts/reference/inpaint_baselines.py, which must reproduce the Swift scores from those files
// (and fail loudly when it does not) before it scores OpenCV's fills.

final class InpaintingEvaluationFilesTests: XCTestCase {
    private var folder: String!

    /// picture_0 (40 × 36) is only cropped to 32²; picture_1 (24 × 20) is scaled up to cover it.
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("inpaint-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        for (index, (width, height)) in [(40, 36), (24, 20)].enumerated() {
            var pixels: [Float] = []
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 { pixels.append(0.5 + 0.4 * Foundation.sin(Float(x) / 4 + Float(y * (c + 1)) / 6 + Float(index))) }
                }
            }
            try RGBImage(width: width, height: height, pixels: pixels).writePNG(to: folder + "/images/picture_\(index).png")
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// An untrained tiny model (c = 4, one block, 16-pixel patches padded by 2) on small and box masks at 32².
    private func evaluatedItems() throws -> [InpaintingEvaluationResult] {
        var config = InpaintingModelConfig()
        (config.baseChannels, config.residualBlocks, config.groupNormGroups, config.featureChannels) = (4, 1, 2, 3)
        (config.patchPadding, config.patchEmbeddingChannels, config.mlpHidden, config.choleskyValues) = (2, 8, 8, 3)
        (config.semanticFeatures, config.globalChannels) = (8, 4)
        let model = InpaintingModel(config: config, store: ParameterStore(seed: 1))
        let items = try InpaintingEvaluationSet.items(images: folder + "/images", kinds: [.small, .box], size: 32)
        return items.map { model.evaluate($0) }
    }

    func testItemFilesHoldTheItemsExactlyAsScoredAndTheCSVHasItsColumns() throws {
        let results = try evaluatedItems()
        let stems = try results.enumerated().map { index, result in try result.writeItemFiles(index: index, to: folder) }
        XCTAssertEqual(stems, ["0000_picture_0_small", "0001_picture_0_box", "0002_picture_1_small", "0003_picture_1_box"])
        for (result, stem) in zip(results, stems) {
            let item = result.item
            XCTAssertEqual(try HoleMask.read(from: "\(folder!)/\(stem)_mask.png").mask, item.mask)
            let arrays = try NPZ.read("\(folder!)/\(stem).npz")
            XCTAssertEqual(arrays["original"]?.shape, [3, 32, 32])
            XCTAssertEqual(try arrays["original"]?.floats(), item.image.scalars)
            XCTAssertEqual(arrays["mask"]?.shape, [32, 32])
            XCTAssertEqual(try arrays["mask"]?.floats(), item.mask)
            XCTAssertEqual(try arrays["model"]?.floats(), result.output.image.scalars)
            let fill = pushPullFill(item.image.scalars, mask: item.mask, width: 32, height: 32)
            XCTAssertEqual(try arrays["push_pull"]?.floats(), fill)
            // The saved fill is the one scored.
            let rescored = inpaintingScores(output: Tensor(shape: [1, 3, 32, 32], scalars: fill), target: item.image.reshaped([1, 3, 32, 32]),
                                            mask: Tensor(shape: [1, 1, 32, 32], scalars: item.mask))[0]
            XCTAssertEqual(rescored, result.baselineScores)
            let png = try RGBImage(contentsOfPNG: "\(folder!)/\(stem)_original.png").tensor().scalars
            if item.imageName == "picture_0.png" {  // only cropped: the 8-bit PNG is exact
                XCTAssertEqual(png, item.image.scalars)
            } else {  // resampled: the PNG is the original rounded to 8 bits
                XCTAssertEqual(zip(png, item.image.scalars).map { abs($0 - $1) }.max()!, 0, accuracy: 0.5 / 255 + 1e-6)
            }
        }

        let lines = inpaintingScoresCSV(results, itemStems: stems).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let columns = ["psnr", "ssim", "l1", "hole_psnr", "hole_ssim", "hole_l1"]
        XCTAssertEqual(lines[0], ["item", "image", "mask", "group", "hole_ratio"] + columns + columns.map { "fill_\($0)" })
        XCTAssertEqual(lines.count, 1 + results.count)
        XCTAssertEqual(lines[2][0...3], ["0001_picture_0_box", "picture_0.png", "box", "box"])
        XCTAssertEqual(Double(lines[2][8])!, results[1].scores.holePSNR, accuracy: 1e-3)
        XCTAssertEqual(Double(lines[2][14])!, results[1].baselineScores.holePSNR, accuracy: 1e-3)
        let plain = inpaintingScoresCSV(results).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(plain[0], Array(lines[0].dropFirst()))
        XCTAssertEqual(plain[3], Array(lines[3].dropFirst()))

        let nested = InpaintingEvaluationItem(imageName: "photos/wiki_003.png", maskName: "m.png", group: "masks",
                                              image: results[0].item.image, mask: results[0].item.mask, features: nil)
        XCTAssertEqual(nested.fileStem(index: 12), "0012_photos_wiki_003_m")
    }

    func testWholeImageItemsKeepEachImagesSize() throws {
        let items = try InpaintingEvaluationSet.items(images: folder + "/images", kinds: [.large], size: nil)
        XCTAssertEqual(items.map(\.image.shape), [[3, 36, 40], [3, 20, 24]])
        XCTAssertEqual(items[0].image.scalars, try RGBImage(contentsOfPNG: folder + "/images/picture_0.png").tensor().scalars)
        XCTAssertEqual(items[1].mask, MaskGenerator(width: 24, height: 20, seed: 0).mask(index: 1, kind: .large))
        try RGBImage(width: 12, height: 30).writePNG(to: folder + "/images/picture_2.png")
        XCTAssertThrowsError(try InpaintingEvaluationSet.items(images: folder + "/images", size: nil)) { error in
            XCTAssertTrue("\(error)".contains("picture_2.png") && "\(error)".contains("12×30"), "\(error)")
        }
    }

    /// The reference script reproduces the Swift scores from the files, scores OpenCV's fills
    /// beside them, and refuses an items.csv its own scores disagree with.
    func testReferenceScriptReproducesTheSwiftScoresAndRefusesADisagreement() throws {
        let check = try runPython("import numpy, cv2")
        guard check.status == 0 else { throw XCTSkip("python3 with numpy and cv2 is not available: \(check.standardError)") }
        let results = try evaluatedItems()
        let stems = try results.enumerated().map { index, result in try result.writeItemFiles(index: index, to: folder) }
        let csv = inpaintingScoresCSV(results, itemStems: stems)
        try csv.write(toFile: folder + "/items.csv", atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/reference/inpaint_baselines.py").path
        let runner = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
        let run = try runPython(runner, arguments: [script, "--items", folder, "--output", folder + "/baselines.csv",
                                                    "--json", folder + "/baselines.json"])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssertTrue(run.standardOutput.contains("self-check passed"), run.standardOutput)

        let rows = try String(contentsOfFile: folder + "/baselines.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.count, 1 + results.count)
        let column = { (name: String) in rows[0].firstIndex(of: name)! }
        for (row, result) in zip(rows.dropFirst(), results) {
            XCTAssertEqual(Double(row[column("model_hole_psnr")])!, result.scores.holePSNR, accuracy: 1e-3)
            XCTAssertEqual(Double(row[column("push_pull_hole_ssim")])!, result.baselineScores.holeSSIM, accuracy: 1e-4)
            for method in ["telea", "ns"] {
                let holePSNR = Double(row[column("\(method)_hole_psnr")])!
                XCTAssertTrue(holePSNR > 10 && holePSNR < 100, "\(method) \(holePSNR)")  // a real fill of a smooth picture
            }
        }
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/baselines.json"))) as! [String: Any]
        let groups = report["groups"] as! [String: [String: Any]]
        XCTAssertEqual(Set(groups.keys), ["small", "box", "all"])
        XCTAssertEqual(groups["all"]?["items"] as? Int, 4)

        // One hole PSNR moved by 0.01 dB: the self-check must refuse the run.
        var lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        lines[2][8] = String(format: "%.6g", results[1].scores.holePSNR + 0.01)
        try (lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").write(toFile: folder + "/items.csv", atomically: true,
                                                                                        encoding: .utf8)
        let refused = try runPython(runner, arguments: [script, "--items", folder])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.standardError.contains("self-check FAILED") && refused.standardError.contains("0001_picture_0_box"),
                      refused.standardError)
    }
}
