import ArgumentParser
import Foundation
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

/// `splatkit fit IMAGE …`: fits Gaussians to one PNG and saves them (HDF5) and a render (PNG).
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit 2D Gaussians to an image (Image-GS or GaussianImage recipe).")

    @Argument(help: "The PNG image to fit.")
    var image: String

    @Option(help: "Number of Gaussians.")
    var gaussians: Int = 512

    @Option(help: "Maximum optimisation steps.")
    var steps: Int = 5000

    @Option(help: "Fitting recipe: imagegs (top-K, progressive growth), imagegs-grid (top-K, every Gaussian on a grid from the start), imagegs-grid-fixed (the same with the centres held on the grid), imagegs-grid-layout (round Gaussians held on the grid, only colours fitted), imagegs-grid-layout-ridge (the same layout, colours solved by ridge least squares: no steps) or gaussianimage (additive, Cholesky).")
    var recipe: FitRecipe = .imagegs

    @Option(help: "Resize the shorter side to this many pixels and centre-crop a square first.")
    var size: Int?

    @Option(help: "Output Gaussian set.")
    var output: String

    @Option(help: "Output format: h5 (SplatKit's Gaussian set) or npz (GaussVAE's layout: 'gaussians' (N, 8), 'psnr', 'ssim').")
    var format: SetFormat = .h5

    @Option(help: "Also write the fitted render to this PNG.")
    var render: String?

    @Option(help: "Random seed (the same seed gives the same Gaussians).")
    var seed: UInt64 = 0

    @Option(help: "Print progress every this many steps.")
    var progressEvery: Int = 250

    @Option(help: "Natural selection: start with this many Gaussians (more than --gaussians) and let the optimisation choose which --gaussians survive (imagegs recipe, no growth; docs/RASTERIZATION.md).")
    var selectFrom: Int?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard (1...(1 << 22)).contains(gaussians) else { throw ValidationError("--gaussians must be in 1...4194304, got \(gaussians)") }
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000000, got \(steps)") }
        guard progressEvery >= 1 else { throw ValidationError("--progress-every must be at least 1") }
        if let size, !(16...16_384).contains(size) { throw ValidationError("--size must be 16...16384 pixels, got \(size)") }
        if let selectFrom {
            guard selectFrom > gaussians && selectFrom <= (1 << 22) else {
                throw ValidationError("--select-from must be more than --gaussians (\(gaussians)) and at most 4194304, got \(selectFrom)")
            }
            guard recipe == .imagegs else { throw ValidationError("--select-from needs the imagegs recipe, not \(recipe.rawValue)") }
        }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([output, render], notAmong: [image])
        var picture = try RGBImage(contentsOfPNG: image)
        if let size { picture = picture.preparedSquare(size: size) }
        guard picture.width >= 11 && picture.height >= 11 else {
            throw FileError(image, "image is \(picture.width)×\(picture.height); fitting needs at least 11×11 pixels (the SSIM window)")
        }
        var options = FitOptions()
        options.gaussians = gaussians
        options.steps = steps
        options.recipe = recipe
        options.seed = seed
        options.selection = selectFrom.map { NaturalSelection(startingCount: $0) }
        let selecting = selectFrom.map { ", selected from \($0)" } ?? ""
        print("fitting \(image) (\(picture.width)×\(picture.height)) with \(gaussians) Gaussians\(selecting), recipe \(recipe.rawValue), "
              + "\(ComputeThreads.count) threads")
        let fitter = GaussianFitter(image: picture.tensor(), options: options)
        let result = fitter.run(progressInterval: progressEvery) { p in
            print(String(format: "  step %5d/%d  PSNR %6.2f dB  SSIM %.4f  Gaussians %5d  %7.1f steps/s  ETA %@",
                         p.step, p.totalSteps, p.psnr, p.ssim, p.gaussians, p.stepsPerSecond,
                         formatDuration(p.estimatedSecondsLeft) as NSString))
        }
        switch format {
        case .h5:
            try GaussianSet(gaussians: result.gaussians, width: picture.width, height: picture.height,
                            psnr: Double(result.psnr), ssim: Double(result.ssim), recipe: .fit(recipe), steps: result.steps)
                .write(to: output)
        case .npz:
            try NPZ.write([("gaussians", NPYArray(shape: result.gaussians.shape, floats: result.gaussians.scalars)),
                           ("psnr", NPYArray(shape: [], floats: [result.psnr])),
                           ("ssim", NPYArray(shape: [], floats: [result.ssim]))], to: output)
        }
        if let render {
            let rendered = renderImageGS(result.gaussians, width: picture.width, height: picture.height, options: options.topK)
            try RGBImage(tensor: !recipe.isAdditive ? rendered : renderImageGSAdditive(result.gaussians, width: picture.width, height: picture.height))
                .writePNG(to: render)
        }
        print(String(format: "done: %d steps in %.1f s, PSNR %.2f dB, SSIM %.4f → %@", result.steps, result.seconds,
                     result.psnr, result.ssim, output as NSString))
    }
}

/// "1m 05s" style durations for progress lines.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let total = Int(seconds.rounded())
    if total >= 3600 { return String(format: "%dh %02dm", total / 3600, (total % 3600) / 60) }
    if total >= 60 { return String(format: "%dm %02ds", total / 60, total % 60) }
    return "\(total)s"
}

extension FitRecipe: ExpressibleByArgument {}

/// File formats for a single fitted set.
enum SetFormat: String, ExpressibleByArgument, CaseIterable {
    case h5, npz
}
