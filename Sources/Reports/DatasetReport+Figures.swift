import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

// The data-heavy parts of the dataset report (DatasetReport.swift): streamed per-parameter
// histograms, the fit-quality histograms and the sample renders with their sources.
//
// Streaming: the parameter histograms read one set at a time, in two passes. Pass 1 offers the
// values of at most `rangeItems` evenly spaced sets to a reservoir sample per column and takes
// the histogram range from its 0.1%…99.9% quantiles (nice-rounded); pass 2 counts every value
// of every set, so values outside the range are counted (and noted on the chart), never lost.

/// The two passes' results, per column of the Image-GS parameterisation.
struct ParameterHistograms {
    /// Pass 1: the range-finding samples (with exact min/max over the sampled sets).
    var samples: [ReservoirSample]
    /// Pass 2: counts over every set.
    var histograms: [Histogram]
}

/// Streams the sets of `items` twice (see the file comment) into one histogram per column.
func parameterHistograms(_ file: GaussianDatasetFile, items: [Int], bins: Int = 40, rangeItems: Int = 1000,
                         sampleCapacity: Int = 20_000) throws -> ParameterHistograms {
    let columns = ImageGSColumn.count
    var samples = (0..<columns).map { ReservoirSample(capacity: sampleCapacity, seed: UInt64($0) + 1) }
    let rangeCount = Swift.min(items.count, rangeItems)
    for index in 0..<rangeCount {
        let item = items[index * items.count / rangeCount]
        let set = try file.gaussians(item..<(item + 1))
        for (offset, value) in set.enumerated() { samples[offset % columns].add(Double(value)) }
    }
    var histograms = samples.map { sample -> Histogram in
        let range = sample.histogramRange()
        return Histogram(lowerBound: range.lowerBound, upperBound: range.upperBound, bins: bins)
    }
    for item in items {
        let set = try file.gaussians(item..<(item + 1))
        for (offset, value) in set.enumerated() { histograms[offset % columns].add(Double(value)) }
    }
    return ParameterHistograms(samples: samples, histograms: histograms)
}

/// The eight parameter histograms, four per row.
func addParameterHistograms(to report: inout HTMLReport, histograms: ParameterHistograms, itemsDescription: String) {
    let descriptions = ["position x (0…1, left to right)", "position y (0…1, top to bottom)",
                        "inverse std sx (1/px)", "inverse std sy (1/px)", "rotation θ (rad)",
                        "red", "green", "blue"]
    let colours = ["#1f77b4", "#1f77b4", "#9467bd", "#9467bd", "#8c564b", "#d62728", "#2ca02c", "#1f5fd6"]
    let figures = histograms.histograms.enumerated().map { column, histogram -> (svg: String, caption: String?) in
        let options = ChartOptions(title: ImageGSColumn.names[column], xLabel: descriptions[column], yLabel: "count",
                                   width: 360, height: 260, tickCount: 5)
        return (SVGChart.histogram(histogram, options: options, colour: colours[column]), nil)
    }
    report.figureRow(figures, columns: 4,
                     caption: "Histograms of the 8 Gaussian parameters over the \(itemsDescription), 40 bins each. "
                        + "Ranges cover the 0.1%–99.9% quantiles of a sample; values outside are counted in the red note.")
}

/// PSNR and SSIM histograms of every item's fit.
func addQualityHistograms(to report: inout HTMLReport, file: GaussianDatasetFile, count: Int) throws {
    let psnr = try file.quality("psnr", 0..<count).map(Double.init)
    let ssim = try file.quality("ssim", 0..<count).map(Double.init)
    let bins = Swift.max(5, Swift.min(40, count / 4))
    func chart(_ values: [Double], title: String, label: String, colour: String) -> String {
        let finite = values.filter(\.isFinite)
        let ticks = niceTicks(min: finite.min() ?? 0, max: finite.max() ?? 1, count: 6)
        var histogram = Histogram(lowerBound: ticks.first ?? 0, upperBound: ticks.last ?? 1, bins: bins)
        for value in values { histogram.add(value) }
        return SVGChart.histogram(histogram, options: ChartOptions(title: title, xLabel: label, yLabel: "items", width: 480, height: 320),
                                  colour: colour)
    }
    report.figureRow([
        (chart(psnr, title: "Fit PSNR", label: "PSNR (dB)", colour: "#1f77b4"), "PSNR of each item's fit against its source"),
        (chart(ssim, title: "Fit SSIM", label: "SSIM", colour: "#ff7f0e"), "SSIM of each item's fit"),
    ], caption: "Over all \(count) items, \(bins) bins.")
}

/// Renders of `items` at the dataset's image size, with sources and error maps when found.
func addSampleRenders(to report: inout HTMLReport, file: GaussianDatasetFile, items: [Int], images: String?) throws {
    guard !items.isEmpty else {
        report.paragraph("No samples requested.")
        return
    }
    let settings = file.settings
    let size = settings.imageSize
    let sources = try SourceImages(dataset: file, folder: images)
    var rows: [(name: String, item: Int, psnr: Float, render: RGBImage, source: SourceImageLookup)] = []
    for item in items {
        let name = try file.names(item..<(item + 1))[0]
        let set = try file.gaussians(item..<(item + 1))
        let parameters = Tensor(shape: [settings.setSize, ImageGSColumn.count], scalars: set)
        let rendered = withoutGradients { SetRenderer(recipe: settings.recipe).render(parameters, width: size, height: size) }
        let source = try sources.image(item: item, size: size)
        rows.append((name, item, try file.quality("psnr", item..<(item + 1))[0], RGBImage(tensor: rendered), source))
    }
    let shownSide = displaySize(forImageSide: size)
    let pixelated = size < shownSide
    let withSources = rows.contains { $0.source.image != nil }
    var cells: [ReportImage] = []
    for row in rows {
        let stored = "stored fit PSNR \(formatNumber(Double(row.psnr))) dB"
        switch row.source {
        case .found(let source, let origin):
            cells.append(ReportImage(source, caption: "\(row.name): source (\(origin))", pixelated: pixelated))
            cells.append(ReportImage(row.render, caption: "render, PSNR \(formatNumber(imagePSNR(row.render, source))) dB (\(stored))",
                                     pixelated: pixelated))
            cells.append(ReportImage(absoluteError(row.render, source, gain: 4), caption: "|render − source| × 4", pixelated: pixelated))
        case .notFound(let reason) where withSources:
            let placeholder = RGBImage(width: size, height: size, pixels: [Float](repeating: 0.85, count: size * size * 3))
            cells.append(ReportImage(placeholder, caption: "\(row.name): source not found (\(reason))", pixelated: pixelated))
            cells.append(ReportImage(row.render, caption: "render (\(stored))", pixelated: pixelated))
            cells.append(ReportImage(placeholder, caption: "no error map", pixelated: pixelated))
        case .notFound:
            cells.append(ReportImage(row.render, caption: "\(row.name) (item \(row.item)): render, \(stored)", pixelated: pixelated))
        }
    }
    let note = withSources
        ? "Each row: the source (prepared as the build did: the photo's centre square or its crop, or the painting, "
            + "at \(size) px), the render of the stored Gaussians at \(size) × \(size) px, and the absolute error ×4."
        : "Renders of the stored Gaussians at \(size) × \(size) px. Source images are not stored in the dataset; "
            + "pass --images DIR to show them next to the renders."
    report.paragraph(note)
    try report.imageGrid(cells, columns: withSources ? 3 : Swift.min(4, cells.count), displaySize: shownSide)
}

/// The side images of side `side` are shown at in a grid: their own, within 192…256 px (small
/// renders are enlarged, with sharp pixels).
func displaySize(forImageSide side: Int) -> Int {
    Swift.max(192, Swift.min(side, 256))
}

/// PSNR in dB of two images of one size, with components clamped to [0, 1]:
/// 10 · log10(1 / MSE); infinite for identical images.
func imagePSNR(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.width == b.width && a.height == b.height, "imagePSNR: \(a.width)×\(a.height) vs \(b.width)×\(b.height)")
    var sum = 0.0
    for (x, y) in zip(a.pixels, b.pixels) {
        let difference = Double(Swift.min(Swift.max(x, 0), 1) - Swift.min(Swift.max(y, 0), 1))
        sum += difference * difference
    }
    let mse = sum / Double(Swift.max(1, a.pixels.count))
    return mse > 0 ? 10 * log10(1 / mse) : .infinity
}

/// |a − b| × gain per component (clamped to [0, 1] when written).
func absoluteError(_ a: RGBImage, _ b: RGBImage, gain: Float) -> RGBImage {
    precondition(a.width == b.width && a.height == b.height, "absoluteError: \(a.width)×\(a.height) vs \(b.width)×\(b.height)")
    return RGBImage(width: a.width, height: a.height, pixels: zip(a.pixels, b.pixels).map { abs($0 - $1) * gain })
}
