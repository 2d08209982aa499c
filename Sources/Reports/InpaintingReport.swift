import Foundation
import GaussianRasterizer
import Inpainting
import SplatIO
import TensorCore

// `splatkit report inpaint`: one HTML page showing what an inpainting model does on images with
// hole masks (InpaintingEvaluation.swift builds the items):
//
//   1. Summary     the model (checkpoint, parameters, config), the items, and per mask group the
//                  mean scores of the model and of the push-pull fill, whole image and holes
//   2. Scores      per item, the fill's hole PSNR (x) against the model's (y), coloured by the
//                  hole ratio; above the diagonal the network beats the classical fill
//   3. Gallery     per shown item: masked input (holes white) | the model's output | the
//                  predicted Gaussians drawn as 1σ ellipses over the lightened output (those
//                  centred in a hole, on an 8-pixel grid: all of them would cover every pixel) |
//                  the ground truth; captions give hole PSNR of the model and of the fill
//   4. Training    with the run folder of `train-inpaint`: the training loss and the validation
//                  hole PSNR for small and large masks over steps (train.csv, validation.csv)
//
// The page is written as `index.html` in the output folder, with every figure inline.

/// Writes the inpainting report to `folder/index.html`; returns the page path.
///
/// - Parameters:
///   - model: the network, `modelPath` the file it came from.
///   - items: the images with masks to inpaint (all are scored; the first `gallery` are shown).
///   - run: a `train-inpaint` output folder for the training curves, or nil.
///   - command: the command line shown in the page footer.
@discardableResult
public func writeInpaintingReport(model: InpaintingModel, modelPath: String, items: [InpaintingEvaluationItem],
                                  gallery: Int = 8, run: String? = nil, output folder: String, command: String) throws -> String {
    var report = HTMLReport(title: "Inpainting report: \((modelPath as NSString).lastPathComponent)", command: command)
    let results = items.map { model.evaluate($0) }

    report.section("Summary")
    let config = model.config
    report.paragraph("Model \(modelPath): U-Net base \(config.baseChannels) channels, \(config.residualBlocks) semantic-alignment "
                     + "blocks, \(config.featureChannels) features per Gaussian, \(config.patchSize)-pixel patches padded by "
                     + "\(config.patchPadding) (\(config.patchOptions.windowPixelCount) Gaussians each), a "
                     + "\(config.dictionary.count)-entry covariance dictionary. \(results.count) items.")
    var rows: [[String]] = []
    for (group, members) in groupedByMask(results) {
        for (who, scores) in [("model", members.map(\.scores)), ("push-pull fill", members.map(\.baselineScores))] {
            let mean = InpaintingScores.mean(scores)
            rows.append([group, "\(members.count)", who] + [mean.psnr, mean.ssim, mean.l1, mean.holePSNR, mean.holeSSIM, mean.holeL1]
                .enumerated().map { String(format: [0, 3].contains($0.offset) ? "%.2f" : "%.4f", $0.element) })
        }
    }
    report.table(header: ["masks", "items", "method", "PSNR", "SSIM", "L1", "hole PSNR", "hole SSIM", "hole L1"], rows: rows,
                 caption: "Mean scores per mask group; whole-image figures include the known pixels, which are copied "
                     + "from the input. The push-pull fill is a classical smooth interpolation of the holes.")

    report.section("Scores per item")
    report.figure(svg: scoreScatter(results), caption: "Hole PSNR of each item: push-pull fill (x) against the model (y), "
                  + "coloured by the hole ratio. Points above the diagonal are items where the network beats the fill.")

    report.section("Gallery")
    let shown = results.prefix(max(gallery, 0))
    var images: [ReportImage] = []
    for result in shown {
        let item = result.item
        let label = "\(item.imageName), \(item.maskName)"
        images += [
            ReportImage(item.maskedInput, caption: "\(label): input, \(Int((100 * holeRatio(item.mask)).rounded())) % hole",
                        pixelated: false),
            ReportImage(RGBImage(tensor: result.output.image.clamped(min: 0, max: 1)),
                        caption: String(format: "output: holes %.2f dB (fill %.2f dB)", result.scores.holePSNR,
                                        result.baselineScores.holePSNR), pixelated: false),
            ReportImage(gaussianDrawing(result), caption: "Gaussians in the holes (1σ, every 8th pixel)", pixelated: false),
            ReportImage(RGBImage(tensor: item.image), caption: "ground truth", pixelated: false),
        ]
    }
    try report.imageGrid(images, columns: 4, displaySize: 200,
                         caption: "Masked input | output | predicted Gaussians | ground truth, for the first \(shown.count) items.")

    if let run { try addTrainingCurves(to: &report, run: run) }
    return try report.write(toFolder: folder)
}

private func scoreScatter(_ results: [InpaintingEvaluationResult]) -> String {
    let points = results.map { ChartPoint(x: $0.baselineScores.holePSNR, y: $0.scores.holePSNR) }
    let finite = points.filter(\.isFinite).flatMap { [$0.x, $0.y] }
    let (low, high) = ((finite.min() ?? 0).rounded(.down) - 1, (finite.max() ?? 1).rounded(.up) + 1)
    var plot = ScatterPlot(points: points, values: results.map { Double(holeRatio($0.item.mask)) })
    plot.colourLabel = "hole ratio"
    plot.path = [ChartPoint(x: low, y: low), ChartPoint(x: high, y: high)]
    plot.xRange = low...high
    plot.yRange = low...high
    plot.pointRadius = 4
    return SVGChart.scatterPlot(plot, options: ChartOptions(title: "Hole PSNR: model against push-pull fill",
                                                              xLabel: "push-pull fill, dB", yLabel: "model, dB"))
}

/// The output lightened, with 1σ outlines of the Gaussians centred in holes on an 8-pixel grid.
private func gaussianDrawing(_ result: InpaintingEvaluationResult) -> RGBImage {
    let set = result.output.gaussians
    let (P, pad) = (set.options.patchSize, set.options.padding)
    let side = P + 2 * pad, patchesAcross = set.width / P
    let (W, H) = (set.imageWidth, set.imageHeight)
    let screen = set.gaussians.scalars  // (N, G, 8), G = side², one per window pixel (row-major)
    var chosen: [Float] = []
    for patch in 0..<set.gaussians.shape[0] {
        let (left, top) = ((patch % patchesAcross) * P - pad, (patch / patchesAcross) * P - pad)
        for row in stride(from: pad, to: pad + P, by: 8) {
            for column in stride(from: pad, to: pad + P, by: 8) {
                let (x, y) = (left + column, top + row)
                guard x < W, y < H, result.item.mask[y * W + x] >= 0.5 else { continue }
                let g = (patch * side * side + row * side + column) * 8
                chosen += screen[g..<(g + 8)]
            }
        }
    }
    let output = RGBImage(tensor: result.output.image.clamped(min: 0, max: 1))
    guard !chosen.isEmpty else { return output }
    let parameters = imageGSParameters(fromScreenFeatures: Tensor(shape: [chosen.count / 8, 8], scalars: chosen), width: W, height: H)
    return ellipseOutlines(parameters, on: output, sigmas: 1)
}

/// Section 4: curves from a train-inpaint run folder.
private func addTrainingCurves(to report: inout HTMLReport, run: String) throws {
    report.section("Training")
    let path = { (name: String) in (run as NSString).appendingPathComponent(name) }
    let train = try RunMetrics(contentsOf: path("train.csv"), position: "step", required: ["loss", "l1"])
    let validation = try RunMetrics(contentsOf: path("validation.csv"), position: "step",
                                    required: ["small_hole_psnr", "large_hole_psnr"])
    let steps = train.positions, loss = train.values("loss")!, l1 = train.values("l1")!
    let lossChart = SVGChart.lineChart([LineSeries(name: "loss (L1 + w·(1 − SSIM))", values: loss, xs: steps),
                                        LineSeries(name: "L1", values: l1, xs: steps)],
                                       options: ChartOptions(title: "Training loss", xLabel: "step", yLabel: "loss"), logY: true)
    let series = ["small", "large"].map { kind in
        LineSeries(name: "\(kind) masks, holes", values: validation.values("\(kind)_hole_psnr")!, xs: validation.positions)
    }
    let validationChart = SVGChart.lineChart(series, options: ChartOptions(title: "Validation (held-out images)", xLabel: "step",
                                                                          yLabel: "hole PSNR, dB"))
    report.figureRow([(lossChart, "Training loss as the run's config defines it (training.loss_image, hole_l1_weight), averaged between progress reports"),
                      (validationChart, "Hole PSNR of the held-out images' 256² centre crops, small and large masks")])
}
