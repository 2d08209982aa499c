import Foundation
import Inpainting
import NeuralNetwork
@testable import Reports
import SplatIO
import TensorCore
import XCTest

// The inpainting report on a tiny untrained model: every section is written, the gallery holds
// four panels per shown item, and the training curves read a train-inpaint run's logs (and
// name the file when one is malformed).

final class InpaintingReportTests: ReportTestCase {
    /// A tiny network (c = 4, one block, P = 16 with pad 2, a 28-entry dictionary).
    private func tinyModel() -> InpaintingModel {
        var config = InpaintingModelConfig()
        (config.baseChannels, config.residualBlocks, config.groupNormGroups, config.featureChannels) = (4, 1, 2, 3)
        (config.patchPadding, config.patchEmbeddingChannels, config.mlpHidden, config.choleskyValues) = (2, 8, 8, 3)
        (config.semanticFeatures, config.globalChannels) = (8, 4)
        return InpaintingModel(config: config, store: ParameterStore(seed: 1))
    }

    private func writeImages(count: Int) throws -> String {
        let images = path("images")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for index in 0..<count {
            let pixels = (0..<(40 * 36 * 3)).map { Float(($0 * (index + 3)) % 17) / 16 }
            try RGBImage(width: 40, height: 36, pixels: pixels).writePNG(to: (images as NSString).appendingPathComponent("p\(index).png"))
        }
        return images
    }

    func testReportHasEverySectionAndTheTrainingCurves() throws {
        let items = try InpaintingEvaluationSet.items(images: try writeImages(count: 3), kinds: [.small, .large], size: 32)
        let run = path("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try "step,loss,l1,ssim,hole_ratio,learning_rate,samples_per_s\n10,0.5,0.3,0.2,0.25,0.0002,4\n20,0.4,0.25,0.3,0.3,0.0002,4\n"
            .write(toFile: run + "/train.csv", atomically: true, encoding: .utf8)
        let scores = InpaintingScores.columnNames
        let header = (["step"] + ["small", "large"].flatMap { kind in scores.map { "\(kind)_\($0)" } } + ["improved"]).joined(separator: ",")
        try (header + "\n20," + Array(repeating: "15", count: 12).joined(separator: ",") + ",1\n")
            .write(toFile: run + "/validation.csv", atomically: true, encoding: .utf8)
        let page = try writeInpaintingReport(model: tinyModel(), modelPath: "tiny.h5", items: items, gallery: 2, run: run,
                                             output: path("report"), command: "splatkit report inpaint")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        for heading in ["Summary", "Scores per item", "Gallery", "Training"] { XCTAssertTrue(html.contains(">\(heading)<"), heading) }
        XCTAssertEqual(html.components(separatedBy: "<img").count - 1, 8)  // 2 items × 4 panels
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3)   // scatter, loss, validation
        XCTAssertTrue(html.contains("push-pull fill"))

        try "step,loss\n10,0.5\n".write(toFile: run + "/train.csv", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try writeInpaintingReport(model: tinyModel(), modelPath: "tiny.h5", items: items, gallery: 1, run: run,
                                                       output: path("report2"), command: "x")) { error in
            XCTAssertTrue("\(error)".contains(run + "/train.csv") && "\(error)".contains("'l1'"), "\(error)")
        }
    }
}
