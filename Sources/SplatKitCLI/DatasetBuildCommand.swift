import ArgumentParser
import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

/// `splatkit dataset build`: fit many images into one resumable Gaussian dataset.
struct DatasetBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Fit a folder of images (or procedural art) into a Gaussian dataset (HDF5); resumable.")

    @Option(help: "Folder of PNG images (in name order).")
    var images: String?

    @Option(help: "Use this many procedural abstract-art images instead of --images.")
    var procedural: Int?

    @Option(help: "Shorter side resized to this many pixels, then centre-cropped square.")
    var size: Int = 256

    @Flag(help: "Keep the aspect ratio instead of centre-cropping a square.")
    var keepAspect = false

    @Option(help: ArgumentHelp(
        "Square crops per photo (--images): 1 = the centre crop; more = seeded random crops named photo.png#crop00 ….",
        discussion: "Each crop's side is the shorter side × a uniform factor in [0.5, 1], at a uniform position; "
            + "crop k of photo i depends only on (--seed, i, k)."))
    var crops: Int = 1

    @Flag(help: "Mirror each random crop left to right with probability ½ (with --crops 2 or more).")
    var flip = false

    @Option(help: "Gaussians per image.")
    var gaussians: Int = 512

    @Option(help: "Fitting steps per image (maximum).")
    var steps: Int = 5000

    @Option(help: "Fitting recipe: imagegs, imagegs-grid (every Gaussian on a grid from the start: sets alike where images are alike), imagegs-grid-fixed (the same with the centres held on the grid), imagegs-grid-layout (round Gaussians held on the grid, only colours fitted), imagegs-grid-layout-ridge (the same layout, colours solved by ridge least squares: no steps) or gaussianimage.")
    var recipe: FitRecipe = .imagegs

    @Option(help: "Output dataset (HDF5). Rerun the same command to resume an interrupted build.")
    var output: String

    @Option(help: "Train, validation and test fractions.")
    var splits: String = "0.9,0.05,0.05"

    @Option(help: "Order of the Gaussians in each set: morton, hilbert or none (default: morton; none for imagegs-grid, whose sets keep the grid's Morton order of cells).")
    var order: SpatialOrder?

    @Option(help: "Images fitted at once by each process (default: all cores; under mpirun, the cores divided among the ranks on a machine).")
    var workers: Int?

    @Option(help: "Random seed (procedural images, crops, fitting, splits).")
    var seed: UInt64 = 0

    func validate() throws {
        guard (images == nil) != (procedural == nil) else { throw ValidationError("give exactly one of --images DIR or --procedural COUNT") }
        if let procedural, !(1...10_000_000).contains(procedural) { throw ValidationError("--procedural must be in 1...10000000, got \(procedural)") }
        guard (16...4096).contains(size) else { throw ValidationError("--size must be between 16 and 4096") }
        guard (1...(1 << 20)).contains(gaussians), (1...10_000_000).contains(steps) else {
            throw ValidationError("--gaussians must be in 1...1048576 and --steps in 1...10000000")
        }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        guard crops >= 1 else { throw ValidationError("--crops must be at least 1, got \(crops)") }
        if crops > 1 && images == nil { throw ValidationError("--crops cuts photos: it needs --images DIR") }
        if crops > 1 && keepAspect { throw ValidationError("--crops cuts squares: it cannot be combined with --keep-aspect") }
        if recipe.placesOnGrid && keepAspect {
            // A dataset records one image size, not each image's aspect, and the grid depends on it.
            throw ValidationError("--recipe \(recipe.rawValue) needs square images (the grid depends on the aspect, which a dataset does not record): drop --keep-aspect")
        }
        if flip && crops < 2 { throw ValidationError("--flip mirrors random crops: it needs --crops 2 or more") }
        _ = try splitFractions(splits)
    }

    func run() throws {
        let source: DatasetSource = images.map { .images(folder: $0) } ?? .procedural(count: procedural!, seed: seed)
        let settings = DatasetSettings.forBuild(setSize: gaussians, imageSize: size, steps: steps, recipe: recipe, order: order,
                                                seed: seed, splits: try splitFractions(splits), crops: crops, flipCrops: flip)
        let steps = settings.steps  // what the file records and the banner says
        let workerCount = workers ?? ComputeThreads.defaultCount()
        var builder = DatasetBuilder(source: source, output: output, settings: settings, workers: workerCount)
        builder.keepAspect = keepAspect
        Interrupt.install()
        let cropping = crops > 1 ? " (\(crops) random crops per photo\(flip ? ", mirrored at random" : ""))" : ""
        let job = ProcessJob.communicator
        let ranks = job.size > 1 ? " in each of \(job.size) processes (rank 0 writes)" : ""
        print("building \(output): \(try builder.itemNames().count) images\(cropping), \(gaussians) Gaussians × \(steps) steps each, "
              + "\(workerCount) workers\(ranks)")
        let complete = try builder.run(communicator: job, shouldStop: { Interrupt.requested }) { p in
            print(String(format: "  %d/%d images  %.1f images/min  mean PSNR %.2f dB  ETA %@", p.done, p.total,
                         p.imagesPerMinute, p.meanPSNR, formatDuration(p.estimatedSecondsLeft) as NSString))
        }
        if complete {
            print("done: \(output) is complete (run `splatkit dataset info \(output)`)")
            if job.isRoot { try warnIfSplitsMixSources(output) }
        } else {
            print("interrupted: \(output) holds the images fitted so far; run the same command again to resume")
            throw ExitCode(130)
        }
    }
}

extension SpatialOrder: ExpressibleByArgument {}

/// `--splits` parsed by GaussianData's `SplitFractions`, as a usage error.
func splitFractions(_ text: String) throws -> [Double] {
    do { return try SplitFractions.parse(text) } catch { throw ValidationError("--splits: \(error)") }
}
