import ArgumentParser
import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import Reports

/// `splatkit dataset info data.h5`: counts, splits, statistics and the PSNR distribution.
struct DatasetInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a Gaussian dataset.")

    @Argument(help: "The dataset (HDF5).")
    var dataset: String

    func run() throws {
        let file = try GaussianDatasetFile(opening: dataset)
        defer { try? file.close() }
        let s = file.settings
        let count = try file.itemCount()
        print("\(dataset)")
        print("  items        \(count)\(file.isComplete ? "" : " (incomplete: the build has not finished)")")
        print("  set          \(s.setSize) Gaussians × 8 parameters, \(s.order.rawValue) order")
        let steps = s.fitRecipe?.takesSteps == false ? "colours solved, no steps" : "\(s.steps) steps"
        print("  fitting      \(s.recipe), \(steps), images \(s.imageSize) px, seed \(s.seed)")
        if let crops = s.cropsSummary { print("  crops        \(crops)") }
        if let sources = try file.mergedSources() {
            print("  merged from  \(sources.count) datasets (fitting steps above: the most of any):")
            for source in sources { print("    \(source.summary)") }
        }
        guard count > 0 else { return }
        let psnr = try file.quality("psnr", 0..<count).map(Double.init).sorted()
        let ssim = try file.quality("ssim", 0..<count).map(Double.init)
        func percentile(_ p: Double) -> Double { psnr[Swift.min(psnr.count - 1, Int(p * Double(psnr.count - 1) + 0.5))] }
        print(String(format: "  fit PSNR     mean %.2f dB, min %.2f, median %.2f, max %.2f (SSIM mean %.4f)",
                     psnr.reduce(0, +) / Double(count), psnr[0], percentile(0.5), psnr[count - 1], ssim.reduce(0, +) / Double(count)))
        // 2 dB bins on even edges (Reports' histogram).
        let lowest = Swift.max(0, (psnr[0] / 2).rounded(.down) * 2)
        let highest = Swift.max(lowest + 2, (psnr[count - 1] / 2).rounded(.up) * 2)
        var histogram = Histogram(lowerBound: lowest, upperBound: highest, bins: Int(((highest - lowest) / 2).rounded()))
        histogram.add(contentsOf: psnr)
        for (bin, n) in histogram.counts.enumerated() {
            print(String(format: "    %5.1f–%5.1f dB %6d %@", histogram.edge(bin), histogram.edge(bin + 1), n,
                         String(repeating: "█", count: Int((40.0 * Double(n) / Double(count)).rounded(.up))) as NSString))
        }
        guard file.isComplete else { return }
        let splits = try file.splitIndices()
        let unit = file.splitsKeepSources.map { $0 ? ", whole source images" : ", items one by one (too few source images)" } ?? ""
        print("  splits       train \(splits.train.count), validation \(splits.validation.count), test \(splits.test.count)\(unit)")
        let (mean, std) = try file.statistics()
        print("  statistics   (train split)")
        for c in 0..<8 { print(String(format: "    %-3@ mean %9.4f  std %9.4f", ImageGSColumn.names[c] as NSString, mean[c], std[c])) }
    }
}
