import ArgumentParser
import Foundation
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

/// `splatkit bench fit`: wall time and quality of fitting several photos (one at a time, all
/// threads), the figure the fitting target in BENCHMARKS.md is stated in.
struct FitBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit the first N PNGs of a folder (centre crops) and report time, PSNR and SSIM per image.")

    @Option(help: "Folder of PNG photos (taken in name order).")
    var images: String

    @Option(help: "How many photos to fit.")
    var count: Int = 10

    @Option(help: "Shorter side resized to this, then centre-cropped square.")
    var size: Int = 256

    @Option(help: "Gaussians per image.")
    var gaussians: Int = 512

    @Option(help: "Maximum fitting steps.")
    var steps: Int = 5000

    @Option(help: "Fitting recipe.")
    var recipe: FitRecipe = .imagegs

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        let names = try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard names.count >= count else { throw FileError(images, "holds \(names.count) PNG files, fewer than --count \(count)") }
        print("splatkit \(SplatKit.version) fit benchmark: \(count) photos, \(size)² crops, \(gaussians) Gaussians, ≤ \(steps) steps, \(recipe.rawValue), \(ComputeThreads.count) threads")
        var cases: [BenchmarkResult] = []
        var totals = (seconds: 0.0, psnr: 0.0, ssim: 0.0)
        for name in names.prefix(count) {
            let picture = try RGBImage(contentsOfPNG: (images as NSString).appendingPathComponent(name)).preparedSquare(size: size)
            var options = FitOptions()
            options.gaussians = gaussians
            options.steps = steps
            options.recipe = recipe
            let result = GaussianFitter(image: picture.tensor(), options: options).run(progressInterval: Int.max)
            print(String(format: "  %-24@ %7.1f s  %5d steps  PSNR %6.2f dB  SSIM %.4f", name as NSString, result.seconds,
                         result.steps, result.psnr, result.ssim))
            cases.append(BenchmarkResult(name: "fit_\(name)", shape: "\(gaussians) Gaussians \(size)x\(size) \(result.steps) steps psnr \(String(format: "%.2f", result.psnr)) ssim \(String(format: "%.4f", result.ssim))",
                                         medianMilliseconds: result.seconds * 1000, gflops: nil))
            totals = (totals.seconds + result.seconds, totals.psnr + Double(result.psnr), totals.ssim + Double(result.ssim))
        }
        let n = Double(count)
        print(String(format: "  mean: %.1f s per image, PSNR %.2f dB, SSIM %.4f", totals.seconds / n, totals.psnr / n, totals.ssim / n))
        if let json {
            try writeReport(BenchmarkReport(implementation: "splatkit \(SplatKit.version)", threads: ComputeThreads.count, cases: cases), to: json)
        }
    }
}
