import ArgumentParser
import Foundation
import GaussianData

/// `splatkit dataset merge A.h5 B.h5 … --output merged.h5`: several datasets → one new dataset.
struct DatasetMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge Gaussian datasets (one set size, order and image size) into a new dataset with new splits.",
        discussion: """
            Items keep their order, input after input, and are named <input file name>/<name> \
            (procedural.h5/art_00001). The inputs may be incomplete and may differ in fitting steps, \
            recipe (drawn by one rasterizer) and seed; the merged file records each input's settings \
            and item count (/sources) and the input of every item (/source). The merged file is written \
            under a temporary name and renamed when complete.
            """)

    @Argument(help: "The datasets to merge (HDF5), at least two, with distinct file names.")
    var inputs: [String]

    @Option(help: "Output dataset (HDF5; must not exist).")
    var output: String

    @Option(help: "Train, validation and test fractions of the merged items.")
    var splits: String = "0.9,0.05,0.05"

    @Option(help: "Random seed for the splits.")
    var seed: UInt64 = 0

    func validate() throws {
        guard inputs.count >= 2 else { throw ValidationError("give at least two datasets to merge, got \(inputs.count)") }
        _ = try splitFractions(splits)
    }

    func run() throws {
        print("merging \(inputs.count) datasets → \(output)")
        let sources = try GaussianDatasetMerge.merge(inputs, into: output, seed: seed, splits: try splitFractions(splits)) { source in
            print("  \(source.file): \(source.items) items\(source.complete ? "" : " (incomplete)")")
        }
        print("done: \(sources.reduce(0) { $0 + $1.items }) items in \(output) (run `splatkit dataset info \(output)`)")
        try warnIfSplitsMixSources(output)
    }
}
