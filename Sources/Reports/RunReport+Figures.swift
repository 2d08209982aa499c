import Foundation
import GaussianData
import GaussianRasterizer
import GaussianVAE
import SplatIO
import TensorCore

// The figures of the run report (RunReport.swift): per-epoch curves from metrics.csv, and the
// reconstruction grid and quality table of the run's checkpoint on a dataset split.
//
// Curves: x is the epoch (from 1); every loss chart has a train and a validation series (the
// columns train_<loss> and val_<loss>) and the best epoch as a dashed line. A y axis is log10
// when every value is positive and they span a factor of 20 or more (losses falling by orders
// of magnitude, learning rates cut by a plateau schedule), else linear.

/// Whether `values` are best drawn on a log axis: all finite ones positive, spanning ≥ 20×.
func prefersLogScale(_ values: [Double]) -> Bool {
    let finite = values.filter(\.isFinite)
    guard let low = finite.min(), let high = finite.max(), low > 0 else { return false }
    return high / low >= 20
}

/// A line chart of the metrics columns `columns` (name in the legend, column) against the
/// epoch, with the best epoch marked; nil when the file has none of the columns.
func epochChart(_ metrics: RunMetrics, columns: [(name: String, column: String)], title: String, yLabel: String,
                marker: ChartMarker?, width: Double = 420, height: Double = 300) -> String? {
    let series = columns.compactMap { entry in
        metrics.values(entry.column).map { LineSeries(name: entry.name, values: $0, xs: metrics.epochs) }
    }
    guard !series.isEmpty else { return nil }
    let options = ChartOptions(title: title, xLabel: "epoch", yLabel: yLabel, width: width, height: height, tickCount: 5)
    let logY = prefersLogScale(series.flatMap { $0.points.map(\.y) })
    return SVGChart.lineChart(series, options: options, logY: logY, integerX: true, marker: marker)
}

/// Train and validation curves of the loss `name` (columns train_name, val_name).
private func lossChart(_ metrics: RunMetrics, loss name: String, title: String, marker: ChartMarker?) -> (svg: String, caption: String?)? {
    epochChart(metrics, columns: [("train", "train_" + name), ("validation", "val_" + name)], title: title,
               yLabel: "loss", marker: marker).map { ($0, nil) }
}

/// Total, reconstruction and KL curves, then one chart per loss group.
func addLossCurves(to report: inout HTMLReport, metrics: RunMetrics, marker: ChartMarker?) {
    guard !metrics.rows.isEmpty else {
        report.paragraph("metrics.csv holds no epochs yet, so there are no curves.")
        return
    }
    let bestNote = marker.map { _ in " The dashed line marks the best epoch (lowest validation total, saved as best.h5)." } ?? ""
    let terms = [("total", "Total loss"), ("reconstruction", "Reconstruction (Σ w·MSE)"), ("kl", "KL divergence")]
        .compactMap { lossChart(metrics, loss: $0.0, title: $0.1, marker: marker) }
    report.figureRow(terms, columns: 3,
                     caption: "Per-epoch means over the train and validation splits; total = reconstruction + β·KL"
                        + (metrics.groupNames.contains("render") ? " + the render term" : "") + "." + bestNote)
    let groups = metrics.groupNames.compactMap { lossChart(metrics, loss: $0, title: "Group: \($0)", marker: marker) }
    guard !groups.isEmpty else { return }
    report.figureRow(groups, columns: Swift.min(3, groups.count),
                     caption: "Per-group losses: normalised MSE of each parameter group (xy, scale, rotation, colour)"
                        + (metrics.groupNames.contains("render") ? " and the weighted render term" : "") + ", unweighted.")
}

/// β and learning-rate curves.
func addScheduleCurves(to report: inout HTMLReport, metrics: RunMetrics, marker: ChartMarker?) {
    let charts = [(column: "beta", title: "KL weight β", label: "β"), ("learning_rate", "Learning rate", "learning rate")]
        .compactMap { entry in
            epochChart(metrics, columns: [("", entry.column)], title: entry.title, yLabel: entry.label, marker: marker)
                .map { (svg: $0, caption: String?.none) }
        }
    guard !charts.isEmpty, !metrics.rows.isEmpty else {
        report.paragraph("metrics.csv has no beta or learning_rate values.")
        return
    }
    report.figureRow(charts, columns: 3,
                     caption: "β rises linearly over the warm-up epochs to max_beta; the learning rate is the one each epoch "
                        + "trained with (the plateau schedule lowers it when the validation total stalls).")
}

/// The reconstruction grid of the first `samples` sets of the dataset's test split (validation
/// when the test split is empty), and the per-group quality table.
func addReconstructions(to report: inout HTMLReport, vae: VAEInference, checkpoint: String?, dataset path: String,
                        samples: Int) throws {
    let dataset = try GaussianDatasetFile(opening: path)
    defer { try? dataset.close() }
    var split = try DatasetSplit(dataset, split: "test"), splitName = "test"
    if split.count == 0 { (split, splitName) = (try DatasetSplit(dataset, split: "validation"), "validation") }
    guard split.count > 0 else {
        report.paragraph("\(path) has no test or validation sets to reconstruct.")
        return
    }
    try vae.checkSetSize(split.setSize, in: path)
    let size = dataset.fittedImageSize
    let renderer = SetRenderer(recipe: dataset.settings.recipe)
    let shown = Array(0..<Swift.min(samples, split.count))
    report.subsection("Reconstructions of \(shown.count) \(splitName) sets")
    if !shown.isEmpty {
        let sets = Tensor(shape: [shown.count, vae.setSize, 8], scalars: try split.read(indices: shown))  // (k, N, 8)
        let reconstructed = vae.reconstruct(sets)                                                        // (k, N, 8)
        var cells: [ReportImage] = []
        let pixelated = size < displaySize(forImageSide: size)
        for offset in shown {
            let item = split.items[offset]
            let name = try dataset.names(item..<(item + 1))[0]
            func render(_ sets: Tensor) -> Tensor {
                renderer.render(sets.sliced(offset..<(offset + 1), alongAxis: 0).squeezed(0),
                                fittedWidth: size, fittedHeight: size, width: size, height: size)  // (3, size, size)
            }
            let fitted = render(sets), reconstruction = render(reconstructed)
            var comparison = ImageComparison()
            comparison.add(reconstruction, reference: fitted)
            let quality = "PSNR \(formatNumber(comparison.psnrValues[0])) dB, SSIM \(formatNumber(comparison.ssimValues[0]))"
            cells.append(ReportImage(RGBImage(tensor: fitted), caption: "\(name): fitted set", pixelated: pixelated))
            cells.append(ReportImage(RGBImage(tensor: reconstruction), caption: "VAE reconstruction, \(quality)", pixelated: pixelated))
        }
        report.paragraph("Each pair: the dataset's fitted set and the VAE's reconstruction (decoded μ, \(checkpoint ?? "checkpoint")), "
                         + "both rendered with the \(renderer.rawValue) rasterizer at \(size) × \(size) px; PSNR and SSIM "
                         + "of the reconstruction against the fitted render.")
        try report.imageGrid(cells, columns: shown.count > 1 ? 4 : 2, displaySize: displaySize(forImageSide: size))
    }
    let evaluation = try evaluateVAE(vae, split: split, sources: nil, fittedSize: size, imageSize: size,
                                     renderer: renderer, limit: runReportEvaluationLimit)
    report.subsection("Reconstruction quality")
    var rows = evaluation.groups.map { group in
        [group.name, formatNumber(group.meanSquaredError), runReportRSquared(group)]
    }
    if let psnr = evaluation.vaeVersusFitted.meanPSNR, let ssim = evaluation.vaeVersusFitted.meanSSIM {
        rows.append(["renders", "PSNR \(formatNumber(psnr)) dB", "SSIM \(formatNumber(ssim))"])
    }
    report.paragraph("Over \(evaluation.count) \(splitName) sets, as `splatkit evaluate` measures them: per parameter group, "
                     + "the MSE and R² = 1 − SSE/SST of the reconstruction in normalised units (R² 1 is perfect, 0 no better "
                     + "than predicting each column's mean); renders: mean PSNR and SSIM of the VAE's render against the fitted set's."
                     + (evaluation.groups.contains(where: \.isConstant)
                        ? " A group marked constant does not vary across these sets (a fixed layout's positions or shapes): "
                          + "its error measures nothing the model learned." : ""))
    report.table(header: ["group", "normalised MSE", "R²"], rows: rows)
}

/// The run report's R² cell of a group: the value, or "constant" for a group whose values do
/// not vary across the sets (its error then measures nothing learned).
func runReportRSquared(_ group: GroupReconstructionMetric) -> String {
    group.isConstant ? "constant across sets (not learned)" : group.rSquared.map { formatNumber($0) } ?? "n/a"
}
