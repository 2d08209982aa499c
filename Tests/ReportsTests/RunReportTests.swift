// The run report end to end: a real run folder (configs/test_tiny.yaml trained for 3 epochs on
// a synthetic dataset of 16-Gaussian sets) → `writeRunReport` → a page with the expected
// sections, curves, best epoch, layer table, reconstructions and the numbers `evaluateVAE`
// gives; and bad run folders fail with `FileError`s naming the file at fault.

import Foundation
import NeuralNetwork
@testable import GaussianData
@testable import GaussianVAE
import SplatIO
import XCTest
@testable import Reports

final class RunReportTests: ReportTestCase {
    /// Trains configs/test_tiny.yaml (plus `extraYAML`) into `run/` on a dataset of 8 sets of 16
    /// Gaussians split 4 / 2 / 2; returns the run folder and the dataset.
    private func trainTinyRun(extraYAML: String = "") throws -> (run: String, dataset: String) {
        let dataset = try makeDataset(names: (0..<8).map { "set \($0)" }, setSize: 16)
        let text = try String(contentsOfFile: packageFile("configs/test_tiny.yaml"), encoding: .utf8) + extraYAML
        let config = try VAEConfig.decode(yaml: text, sourceName: "test_tiny.yaml")
        let trainer = try VAETrainer(config: config, configText: text, data: try VAETrainingData.open(dataset: dataset),
                                     outputDirectory: path("run"), prefetch: false)
        try trainer.run()
        return (path("run"), dataset)
    }

    /// The error `body` throws, checked to be a FileError naming `file`.
    private func assertFileError(naming file: String, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual((error as? FileError)?.path, file, "\(error)", line: line)
        }
    }

    func testReportOfATrainedRun() throws {
        let (run, dataset) = try trainTinyRun(extraYAML: "data:\n  train_dir: \"\(path("tiny.h5"))\"\n")
        let page = try writeRunReport(run: run, output: path("report"), dataset: dataset, samples: 2)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let structure = XMLCheck.wellFormed(html)

        for heading in ["Summary", "Losses", "Schedules", "Model", "Reconstructions"] {
            XCTAssertTrue(html.contains(">\(heading)</h2>"), "missing section \(heading)")
        }
        XCTAssertEqual(structure.elementCounts["h2"], 5)
        // total, reconstruction, KL; the four groups; β and learning rate.
        let charts = svgs(in: html)
        XCTAssertEqual(charts.count, 3 + 4 + 2)
        for svg in charts { XCTAssertEqual(XMLCheck.wellFormed(svg).elementCounts["svg"], 1) }
        for title in ["Total loss", "Group: xy", "Group: colour", "KL weight β", "Learning rate"] {
            XCTAssertTrue(html.contains(">\(title)</text>"), "missing chart \(title)")
        }

        // The best epoch is the one metrics.csv says, stated and marked on every chart.
        let metrics = try RunMetrics(contentsOf: (run as NSString).appendingPathComponent("metrics.csv"))
        XCTAssertEqual(metrics.rows.count, 3)
        let best = try XCTUnwrap(metrics.bestEpoch)
        XCTAssertTrue(html.contains("epoch \(best.epoch): validation total \(formatNumber(best.validationTotal)) (saved as best.h5)"))
        XCTAssertEqual(occurrences(of: ">best: epoch \(best.epoch)</text>", in: html), charts.count)

        // Every layer of the model, with the totals.
        let vae = try VAEInference(checkpoint: (run as NSString).appendingPathComponent("best.h5"))
        let summary = vae.model.summary()
        for row in summary.rows { XCTAssertTrue(html.contains("<td>\(row.name)</td>"), "missing layer \(row.name)") }
        XCTAssertTrue(html.contains("\(groupedDigits(summary.parameterCount)) parameters"))

        // Two test sets, fitted | reconstruction, each reconstruction with its PSNR.
        XCTAssertTrue(html.contains("Reconstructions of 2 test sets"))
        XCTAssertEqual(structure.elementCounts["img"], 4)
        XCTAssertEqual(occurrences(of: "<figcaption>VAE reconstruction, PSNR ", in: html), 2)
        let file = try GaussianDatasetFile(opening: dataset)
        defer { try? file.close() }
        let test = try DatasetSplit(file, split: "test")
        for item in test.items { XCTAssertTrue(html.contains("set \(item): fitted set"), "test item \(item) not shown") }

        // The R² table holds what `splatkit evaluate` computes on the same split.
        let evaluation = try evaluateVAE(vae, split: test, sources: nil, fittedSize: 16, imageSize: 16, renderer: .topK)
        XCTAssertEqual(evaluation.groups.map(\.name), ["xy", "scale", "rotation", "colour", "all"])
        for group in evaluation.groups {
            let r2 = runReportRSquared(group)
            XCTAssertTrue(html.contains("<td>\(group.name)</td><td>\(formatNumber(group.meanSquaredError))</td><td>\(r2)</td>"),
                          "missing R² row of \(group.name)")
        }

        // Without --data the config's data.train_dir is used; once it is gone, the page says so.
        let defaulted = try String(contentsOfFile: try writeRunReport(run: run, output: path("defaulted"), samples: 1), encoding: .utf8)
        XCTAssertTrue(defaulted.contains("Reconstructions of 1 test sets"))
        try FileManager.default.moveItem(atPath: dataset, toPath: path("moved.h5"))
        let noData = try String(contentsOfFile: try writeRunReport(run: run, output: path("no-data")), encoding: .utf8)
        XCTAssertTrue(noData.contains("No dataset: pass --data DATASET.h5"))
        XCTAssertEqual(XMLCheck.wellFormed(noData).elementCounts["img"], nil)
        XCTAssertEqual(svgs(in: noData).count, charts.count)
    }

    func testBadRunFoldersAreFileErrorsNamingTheFile() throws {
        let run = path("run")
        assertFileError(naming: run) { try writeRunReport(run: run, output: path("out")) }
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let metrics = (run as NSString).appendingPathComponent("metrics.csv")
        assertFileError(naming: metrics) { try writeRunReport(run: run, output: path("out")) }

        try "epoch,train_total,val_total\n1,2\n".write(toFile: metrics, atomically: true, encoding: .utf8)
        assertFileError(naming: metrics) { try writeRunReport(run: run, output: path("out")) }

        try "epoch,train_total,val_total\n1,2,3\n".write(toFile: metrics, atomically: true, encoding: .utf8)
        let config = (run as NSString).appendingPathComponent("config.yaml")
        assertFileError(naming: config) { try writeRunReport(run: run, output: path("out")) }

        try "model:\n  latent_dim: many\n".write(toFile: config, atomically: true, encoding: .utf8)
        assertFileError(naming: config) { try writeRunReport(run: run, output: path("out")) }
        try FileManager.default.removeItem(atPath: config)

        // A best.h5 that is not a checkpoint at all, then one of another kind of file.
        let best = (run as NSString).appendingPathComponent("best.h5")
        try "not HDF5".write(toFile: best, atomically: true, encoding: .utf8)
        assertFileError(naming: best) { try writeRunReport(run: run, output: path("out")) }
        try FileManager.default.removeItem(atPath: best)
        try FileManager.default.copyItem(atPath: try makeDataset(names: ["a"]), toPath: best)
        assertFileError(naming: best) { try writeRunReport(run: run, output: path("out")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out/index.html")), "no page for a broken run")
    }
}
