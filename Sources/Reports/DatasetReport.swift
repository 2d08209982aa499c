import Foundation
import GaussianData
import GaussianRasterizer
import SplatIO
import TensorCore

// `splatkit report dataset`: one HTML page describing a Gaussian dataset (GaussianDatasetFile),
// the static counterpart of GaussVAE's dataset notebooks:
//
//   1. Summary        settings, counts, splits, fit quality; per-parameter statistics
//   2. Sorting        per sample item, three panels of Gaussian positions (image coordinates):
//                     (a) coloured by a shuffled index: an "original", unsorted order (the file
//                         stores sets already sorted, so the unsorted order is simulated),
//                     (b) coloured by the stored index (Morton/Hilbert order: smooth gradient),
//                     (c) the path through the first 100 Gaussians in stored order
//   3. Parameters     a histogram per column (x, y, sx, sy, θ, r, g, b) over the train split
//                     (all items if the dataset is incomplete), streamed one set at a time
//   4. Fit quality    PSNR and SSIM histograms over all items
//   5. Samples        each sample's render at the dataset's image size, next to its source when
//                     found (GaussianData's SourceImages: a photo or its crop from an `images`
//                     folder, or the procedural painting regenerated from its build's seed, also
//                     in merged datasets) and the absolute error ×4
//
// Sample items are spread evenly over the dataset: item ⌊i · count / samples⌋ for i < samples.
// The page is written as `index.html` in the output folder, with every figure inline.

/// Writes the HTML report of the dataset at `path` to `folder/index.html`; returns the page path.
///
/// - Parameters:
///   - samples: items shown in the sorting panels (the first 3) and the sample renders.
///   - images: the folder of source PNGs the dataset (or one input of a merged dataset) was
///     built from; each item is shown next to its photo or crop from there (`SourceImages`).
///   - command: the command line shown in the page footer (default: a reconstruction).
@discardableResult
public func writeDatasetReport(dataset path: String, output folder: String, samples: Int = 6,
                               images: String? = nil, command: String? = nil) throws -> String {
    precondition(samples >= 0, "writeDatasetReport: samples must be ≥ 0, got \(samples)")
    let file = try GaussianDatasetFile(opening: path)
    defer { try? file.close() }
    let count = try file.itemCount()
    let name = (path as NSString).lastPathComponent
    var defaultCommand = "splatkit report dataset \(path) --output \(folder) --samples \(samples)"
    if let images { defaultCommand += " --images \(images)" }
    var report = HTMLReport(title: "Dataset report: \(name)", command: command ?? defaultCommand)

    let shown = Swift.min(samples, count)
    let sampleItems = (0..<shown).map { $0 * count / shown }  // distinct and increasing: count / shown ≥ 1
    let statisticsItems = try histogramItems(file, count: count)

    report.section("Summary")
    try addSummary(to: &report, file: file, path: path, count: count)
    guard count > 0 else {
        report.paragraph("The dataset holds no items yet, so there is nothing to plot.")
        return try report.write(toFolder: folder)
    }
    let columnHistograms = try parameterHistograms(file, items: statisticsItems.items)
    try addStatisticsTable(to: &report, file: file, histograms: columnHistograms, itemsDescription: statisticsItems.description)

    report.section("Sorting: \(orderTitle(file.settings.order))")
    try addSortingPanels(to: &report, file: file, items: Array(sampleItems.prefix(3)))

    report.section("Parameter distributions")
    addParameterHistograms(to: &report, histograms: columnHistograms, itemsDescription: statisticsItems.description)

    report.section("Fit quality")
    try addQualityHistograms(to: &report, file: file, count: count)

    report.section("Sample renders")
    try addSampleRenders(to: &report, file: file, items: sampleItems, images: images)
    return try report.write(toFolder: folder)
}

/// "Morton (Z-order)", "Hilbert", or the raw name; "stored order (unsorted)" for none.
func orderTitle(_ order: SpatialOrder) -> String {
    switch order {
    case .morton: return "Morton (Z-order)"
    case .hilbert: return "Hilbert curve order"
    case .none: return "stored order (unsorted)"
    }
}

/// The items the parameter statistics and histograms cover: the train split of a complete
/// dataset (when not empty), else every item.
private func histogramItems(_ file: GaussianDatasetFile, count: Int) throws -> (items: [Int], description: String) {
    if file.isComplete {
        let train = try file.splitIndices().train
        if !train.isEmpty { return (train, "train split, \(train.count) sets") }
    }
    return (Array(0..<count), "all \(count) items")
}

/// The settings and counts table, with the split sizes and the fit quality summary.
private func addSummary(to report: inout HTMLReport, file: GaussianDatasetFile, path: String, count: Int) throws {
    let settings = file.settings
    var rows: [[String]] = [
        ["file", path],
        ["items", "\(count)" + (file.isComplete ? "" : " (incomplete: the build has not finished)")],
        ["Gaussians per set", "\(settings.setSize) × 8 parameters (x, y, sx, sy, θ, r, g, b)"],
        ["image size", "\(settings.imageSize) × \(settings.imageSize) px"],
        ["fitting", "\(settings.recipe), \(settings.steps) steps"],
        ["order", orderTitle(settings.order)],
        ["seed", "\(settings.seed)"],
        ["split fractions", settings.splits.map { formatNumber($0) }.joined(separator: " / ") + " (train / validation / test)"],
    ]
    if let crops = settings.cropsSummary { rows.append(["crops", crops]) }
    for source in try file.mergedSources() ?? [] { rows.append(["merged from", source.summary]) }
    if file.isComplete {
        let splits = try file.splitIndices()
        rows.append(["splits", "train \(splits.train.count), validation \(splits.validation.count), test \(splits.test.count)"])
    }
    if count > 0 {
        let psnr = try file.quality("psnr", 0..<count).map(Double.init).sorted()
        let ssim = try file.quality("ssim", 0..<count).map(Double.init)
        let mean = psnr.reduce(0, +) / Double(count)
        rows.append(["fit PSNR (dB)", "mean \(formatNumber(mean)), min \(formatNumber(psnr[0])), "
                     + "median \(formatNumber(psnr[count / 2])), max \(formatNumber(psnr[count - 1]))"])
        rows.append(["fit SSIM", "mean \(formatNumber(ssim.reduce(0, +) / Double(count)))"])
        let names = try file.names(0..<Swift.min(count, 3))
        rows.append(["first items", names.joined(separator: ", ") + (count > 3 ? ", …" : "")])
    }
    report.table(header: ["setting", "value"], rows: rows)
}

/// Per-column mean/std (the stored train statistics of a complete dataset) and the streamed
/// range and out-of-range counts of the histograms.
private func addStatisticsTable(to report: inout HTMLReport, file: GaussianDatasetFile, histograms: ParameterHistograms,
                                itemsDescription: String) throws {
    let stored = file.isComplete ? try file.statistics() : nil
    let rows = (0..<ImageGSColumn.count).map { column -> [String] in
        let sample = histograms.samples[column]
        return [ImageGSColumn.names[column],
                stored.map { formatNumber(Double($0.mean[column])) } ?? "–",
                stored.map { formatNumber(Double($0.std[column])) } ?? "–",
                sample.seen > 0 ? formatNumber(sample.minimum) : "–",
                sample.seen > 0 ? formatNumber(sample.maximum) : "–"]
    }
    report.table(header: ["parameter", "mean", "std", "min (sampled)", "max (sampled)"], rows: rows,
                 caption: "Per-parameter statistics (mean and std as stored for the train split; min and max over the sets sampled for the histogram ranges, \(itemsDescription))")
}

/// The three sorting panels for each of `items`.
private func addSortingPanels(to report: inout HTMLReport, file: GaussianDatasetFile, items: [Int]) throws {
    let setSize = file.settings.setSize
    let order = orderTitle(file.settings.order)
    let pathLength = Swift.min(100, setSize)
    guard !items.isEmpty else {
        report.paragraph("No sample items requested, so there are no sorting panels.")
        return
    }
    report.paragraph("Gaussian positions in image coordinates (y down). The file stores each set already sorted, so the "
                     + "\"original\" order is simulated by a seeded shuffle of the stored rows; the stored index then shows "
                     + "the \(order) as a smooth colour gradient, and the path joins the first \(pathLength) Gaussians in stored order.")
    for item in items {
        let set = try file.gaussians(item..<(item + 1))
        let itemName = try file.names(item..<(item + 1))[0]
        let positions = (0..<setSize).map { ChartPoint(x: Double(set[$0 * 8 + ImageGSColumn.x]), y: Double(set[$0 * 8 + ImageGSColumn.y])) }
        var generator = RandomGenerator(seed: file.settings.seed ^ 0x0BAD_5EED ^ UInt64(item))
        let shuffled = generator.permutation(setSize).map(Double.init)
        let options = { (title: String) in ChartOptions(title: title, xLabel: "x", yLabel: "y", width: 440, height: 400) }

        var original = ScatterPlot(points: positions, values: shuffled)
        original.colourLabel = "index"
        var sorted = ScatterPlot(points: positions, values: (0..<setSize).map(Double.init))
        sorted.colourLabel = "index"
        var path = ScatterPlot(points: Array(positions.prefix(pathLength)), values: (0..<pathLength).map(Double.init))
        path.colourLabel = "index"
        path.path = Array(positions.prefix(pathLength))
        path.background = Array(positions.dropFirst(pathLength))
        let panels = [original, sorted, path].map { plot -> ScatterPlot in
            var plot = plot
            plot.xRange = 0...1
            plot.yRange = 0...1
            plot.yDown = true
            plot.pointRadius = setSize > 1000 ? 1.6 : 3
            return plot
        }
        report.subsection("Item \(item): \(itemName)")
        report.figureRow([
            (SVGChart.scatterPlot(panels[0], options: options("Original order (shuffled)")), "(a) coloured by a shuffled index"),
            (SVGChart.scatterPlot(panels[1], options: options(order)), "(b) coloured by the stored index"),
            (SVGChart.scatterPlot(panels[2], options: options("Path, first \(pathLength) Gaussians")),
             pathLength < setSize ? "(c) stored order through the first \(pathLength) (the rest grey)" : "(c) stored order through all \(setSize)"),
        ])
    }
}
