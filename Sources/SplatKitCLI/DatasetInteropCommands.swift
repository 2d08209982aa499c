import ArgumentParser
import Foundation
import GaussianData

/// `splatkit dataset import-npz`: a GaussVAE folder of .npz sets → a SplatKit dataset.
struct DatasetImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-npz", abstract: "Import a GaussVAE folder of .npz Gaussian sets into a dataset (HDF5).")

    @Argument(help: "Folder of .npz files (each with 'gaussians' (N, 8)).")
    var folder: String

    @Option(help: "GaussVAE's normalization_stats.npz (default: the folder's, if present).")
    var statistics: String?

    @Option(help: "Output dataset (HDF5; must not exist).")
    var output: String

    @Option(help: "Order of the Gaussians in each set: morton, hilbert or none (keep the files' order).")
    var order: SpatialOrder = .morton

    @Option(help: "Train, validation and test fractions.")
    var splits: String = "0.9,0.05,0.05"

    @Option(help: "Random seed for the splits.")
    var seed: UInt64 = 0

    func run() throws {
        let fractions = try splitFractions(splits)
        let defaultStatistics = (folder as NSString).appendingPathComponent("normalization_stats.npz")
        let statisticsPath = statistics ?? (FileManager.default.fileExists(atPath: defaultStatistics) ? defaultStatistics : nil)
        let count = try GaussVAEInterop.importFolder(folder, statistics: statisticsPath, output: output, order: order,
                                                     seed: seed, splits: fractions)
        print("imported \(count) sets from \(folder)\(statisticsPath.map { " (statistics: \($0))" } ?? "") → \(output)")
    }
}

/// `splatkit dataset export-npz`: a dataset → GaussVAE's folder layout.
struct DatasetExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-npz", abstract: "Export a dataset as GaussVAE .npz files plus normalization_stats.npz.")

    @Argument(help: "The dataset (HDF5).")
    var dataset: String

    @Option(help: "Output folder (created if needed).")
    var output: String

    func run() throws {
        let count = try GaussVAEInterop.exportDataset(dataset, to: output)
        print("exported \(count) sets and normalization_stats.npz → \(output)/")
    }
}
