import Foundation
import GaussianData
import GaussianVAE
import NeuralNetwork
import SplatIO

// `splatkit report run`: one HTML page describing a VAE training run folder (the --output of
// `splatkit train`: config.yaml, metrics.csv, best.h5, last.h5, logs/), the static
// counterpart of GaussVAE's training notebooks:
//
//   1. Summary          model, epochs, the best epoch (lowest validation total, = best.h5),
//                       the last epoch's losses, training time, checkpoint and dataset used
//   2. Losses           train and validation curves of the total, reconstruction and KL terms,
//                       then one chart per loss group (xy, scale, rotation, colour [, render]);
//                       the best epoch is a dashed line on every chart
//   3. Schedules        β (KL warm-up) and the learning rate per epoch
//   4. Model            the layer table of ModelSummary: kind, output shape, parameters
//   5. Reconstructions  with a dataset: the first N sets of its test split (validation when the
//                       test split is empty), fitted set | VAE reconstruction rendered at the
//                       dataset's image size, with each reconstruction's PSNR; and the
//                       per-group MSE and R² of `evaluateVAE` on up to 256 sets of that split
//
// The checkpoint shown is best.h5 (last.h5 when the run has no best.h5 yet); the config is the
// folder's config.yaml (the checkpoint's saved config when it is missing). The dataset is
// --data, else the config's data.train_dir when that names an existing .h5 file; without one
// the page says so and leaves out section 5. Problems with the folder's files are
// `FileError`s naming the file. The page is written as `index.html` in the output folder.

/// Sets of the split `evaluateVAE` measures for the R² table, at most.
let runReportEvaluationLimit = 256

/// Writes the HTML report of the training run in `folder` to `output/index.html`; returns the
/// page path.
///
/// - Parameters:
///   - dataset: the Gaussian dataset to reconstruct from (default: the config's
///     data.train_dir when it is an existing .h5 file).
///   - samples: sets in the reconstruction grid.
///   - command: the command line shown in the page footer (default: a reconstruction).
/// - Throws: `FileError` naming the file: no such folder, a missing or malformed metrics.csv,
///   a config that does not decode, a checkpoint that is not a Gaussian-set VAE, a dataset
///   that cannot be read or whose sets do not fit the model.
@discardableResult
public func writeRunReport(run folder: String, output: String, dataset: String? = nil, samples: Int = 6,
                           command: String? = nil) throws -> String {
    precondition(samples >= 0, "writeRunReport: samples must be ≥ 0, got \(samples)")
    let run = try TrainingRunFolder(opening: folder)
    let datasetPath = dataset ?? run.configuredDataset
    var defaultCommand = "splatkit report run \(folder) --output \(output) --samples \(samples)"
    if let dataset { defaultCommand += " --data \(dataset)" }
    var report = HTMLReport(title: "Training run: \(run.name)", command: command ?? defaultCommand)
    let best = run.metrics.bestEpoch
    let marker = best.map { ChartMarker(x: Double($0.epoch), label: "best: epoch \($0.epoch)") }

    report.section("Summary")
    addRunSummary(to: &report, run: run, dataset: datasetPath)

    report.section("Losses")
    addLossCurves(to: &report, metrics: run.metrics, marker: marker)

    report.section("Schedules")
    addScheduleCurves(to: &report, metrics: run.metrics, marker: marker)

    report.section("Model")
    addModelSummary(to: &report, summary: run.modelSummary)

    report.section("Reconstructions")
    if let vae = run.vae, let datasetPath {
        try addReconstructions(to: &report, vae: vae, checkpoint: run.checkpointName, dataset: datasetPath, samples: samples)
    } else if run.vae == nil {
        report.paragraph("The run has no best.h5 or last.h5 yet, so there is nothing to reconstruct with.")
    } else {
        report.paragraph("No dataset: pass --data DATASET.h5 to show reconstructions and per-group R²"
                         + (run.config.data.trainDir.map { " (the config's data.train_dir, \($0), is not an existing .h5 dataset)" } ?? "")
                         + ".")
    }
    return try report.write(toFolder: output)
}

/// A training run folder, its files read and checked.
struct TrainingRunFolder {
    let path: String
    let metrics: RunMetrics
    let config: VAEConfig
    /// "best.h5" or "last.h5" (the one `vae` was loaded from); nil when neither exists.
    let checkpointName: String?
    let vae: VAEInference?

    init(opening folder: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw FileError(folder, "no such run folder (the --output folder of `splatkit train`)")
        }
        func file(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        path = folder
        metrics = try RunMetrics(contentsOf: file("metrics.csv"))
        checkpointName = [VAETrainer.bestCheckpointName, VAETrainer.lastCheckpointName]
            .first { FileManager.default.fileExists(atPath: file($0)) }
        vae = try checkpointName.map { try VAEInference(checkpoint: file($0)) }
        if FileManager.default.fileExists(atPath: file("config.yaml")) {
            config = try VAEConfig.load(from: file("config.yaml"))
        } else if let vae {
            config = vae.config
        } else {
            throw FileError(file("config.yaml"), "no such file, and the run has no best.h5 or last.h5 to read the config from")
        }
    }

    /// The run's name: the config's experiment name, else the folder's.
    var name: String { config.experimentName ?? (path as NSString).lastPathComponent }

    /// The layer table of the checkpoint's model, or of the config's (freshly initialised).
    var modelSummary: ModelSummary { (vae?.model ?? config.makeModel()).summary() }

    /// The config's data.train_dir when it names an existing .h5 file.
    var configuredDataset: String? {
        guard let trainDir = config.data.trainDir, trainDir.hasSuffix(".h5"), FileManager.default.fileExists(atPath: trainDir) else {
            return nil
        }
        return trainDir
    }
}

/// The summary table: model, epochs, best and last epoch, time, checkpoint and dataset.
private func addRunSummary(to report: inout HTMLReport, run: TrainingRunFolder, dataset: String?) {
    let model = run.config.model, metrics = run.metrics
    let summary = run.modelSummary
    var rows: [[String]] = [
        ["run folder", run.path],
        ["model", "\(model.name): \(model.architecture.rawValue), latent \(model.latentDim), \(model.numGaussians) Gaussians, "
            + "\(run.config.data.representation.rawValue) representation"],
        ["parameters", "\(groupedDigits(summary.parameterCount)) (\(groupedDigits(summary.trainableCount)) trainable)"],
        ["epochs", "\(metrics.rows.count) logged, \(run.config.training.epochs) configured"
            + (metrics.rows.count < run.config.training.epochs ? " (stopped early or still running)" : "")],
    ]
    if let best = metrics.bestEpoch {
        rows.append(["best epoch", "epoch \(best.epoch): validation total \(formatNumber(best.validationTotal))"
                     + (run.checkpointName == VAETrainer.bestCheckpointName ? " (saved as best.h5)" : "")])
    } else {
        rows.append(["best epoch", "none: no epoch has a finite validation total"])
    }
    if let last = metrics.rows.indices.last, let train = metrics.values("train_total"), let validation = metrics.values("val_total") {
        rows.append(["last epoch", "epoch \(formatNumber(metrics.epochs[last])): train total \(formatNumber(train[last])), "
                     + "validation total \(formatNumber(validation[last]))"])
    }
    if let seconds = metrics.values("seconds") {
        rows.append(["training time", "\(formatNumber(seconds.filter(\.isFinite).reduce(0, +))) s"])
    }
    rows.append(["checkpoint shown", run.checkpointName ?? "none (no best.h5 or last.h5)"])
    rows.append(["dataset", dataset ?? "none given"])
    rows.append(["metrics", metrics.path])
    report.table(header: ["", "value"], rows: rows)
}

/// The layer table of `summary` with its totals.
private func addModelSummary(to report: inout HTMLReport, summary: ModelSummary) {
    let rows = summary.rows.map { row in
        [row.name, row.kind, "(" + (["B"] + row.outputShape.map(String.init)).joined(separator: ", ") + ")",
         groupedDigits(row.trainableCount), groupedDigits(row.nonTrainableCount)]
    }
    report.paragraph("\(summary.title): \(groupedDigits(summary.parameterCount)) parameters, "
                     + "\(groupedDigits(summary.trainableCount)) trainable and \(groupedDigits(summary.nonTrainableCount)) "
                     + "non-trainable (batch-norm moving statistics).")
    report.table(header: ["layer", "kind", "output shape", "trainable", "non-trainable"], rows: rows,
                 caption: "Layers in build order; output shapes per sample in SplatKit's NCL layout (B the batch).")
}
