import ArgumentParser
import Foundation
import GaussianData
import SplatIO
import TensorCore

/// `splatkit dataset`: build datasets of Gaussian sets, starting from their source images.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build Gaussian-set datasets (source images first).",
        subcommands: [DatasetImagesCommand.self, DatasetBuildCommand.self, DatasetMergeCommand.self, DatasetInfoCommand.self,
                      DatasetImportCommand.self, DatasetExportCommand.self]
    )
}

/// Warns when the finished dataset at `path` could not keep every source image inside one
/// split (too few photos for the fractions: its items were split one by one).
func warnIfSplitsMixSources(_ path: String) throws {
    let dataset = try GaussianDatasetFile(opening: path)
    defer { try? dataset.close() }
    guard dataset.splitsKeepSources == false else { return }
    print("warning: \(path): too few source images to fill the train, validation and test splits whole, so its items "
          + "were split one by one and crops of one photo may sit in two splits (add photos, or change --splits)")
}

/// `splatkit dataset images`: write procedural abstract paintings as `DIR/art_00000.png …`.
///
/// Painting i depends only on (seed, i), so the run is parallel across cores yet
/// deterministic, and resumable: files already present are skipped, and each file is written
/// atomically, so an interrupted run leaves no partial image (at most a hidden
/// `.art_….png.tmp-…` file).
struct DatasetImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Write procedural abstract paintings as PNG files (parallel, resumable).")

    @Option(help: "Number of images.")
    var count: Int

    @Option(help: "Side of the square images in pixels (16…4096).")
    var size: Int = 256

    @Option(help: "Folder for the images (created if needed).")
    var output: String

    @Option(help: "Collection seed: image i is the same for the same seed, whatever else changes.")
    var seed: UInt64 = 1

    @Option(help: "Index of the first image (files are named by index).")
    var start: Int = 0

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard (16...4096).contains(size) else { throw ValidationError("--size must be in 16…4096, got \(size)") }
        guard start >= 0 else { throw ValidationError("--start must be at least 0, got \(start)") }
        guard start <= Int.max - count else { throw ValidationError("--start + --count is too large") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
    }

    func run() throws {
        try compute.apply()
        try createOutputFolder(output)
        let indices = start..<(start + count)
        let digits = Swift.max(5, String(indices.upperBound - 1).count)
        func path(_ index: Int) -> String {
            let number = String(index)
            let name = "art_" + String(repeating: "0", count: Swift.max(0, digits - number.count)) + number + ".png"
            return (output as NSString).appendingPathComponent(name)
        }
        let missing = indices.filter { !FileManager.default.fileExists(atPath: path($0)) }
        let existing = count - missing.count
        print("dataset images: \(count) paintings \(size)×\(size), seed \(seed), indices \(indices.lowerBound)…\(indices.upperBound - 1), "
              + "\(ComputeThreads.count) threads → \(output)/")
        if existing > 0 { print("  \(existing) already exist (skipped), \(missing.count) to write") }
        guard !missing.isEmpty else {
            print("nothing to do")
            return
        }

        let progress = BatchProgress(total: missing.count, unit: "images")
        try writeInParallel(missing) { index in
            try ProceduralArt.image(index: index, size: size, seed: seed).writePNG(to: path(index))
            progress.finishedOne()
        }
        let seconds = progress.elapsed
        print(String(format: "wrote %d images in %.1f s (%.1f images/s) → %@", missing.count, seconds,
                     Double(missing.count) / Swift.max(seconds, 1e-9), output as NSString))
    }
}
