import ArgumentParser
import Foundation
import GaussianVAE
import Inpainting
import Reports

/// `splatkit report`: static HTML reports (inline SVG charts, embedded PNG images) that open
/// in any browser without a server, for reading results the way GaussVAE's notebooks show them.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write static HTML reports (charts and images in one self-contained page).",
        subcommands: [ReportDatasetCommand.self, ReportRunCommand.self, ReportInpaintCommand.self, ReportCodecCommand.self]
    )
}

/// `splatkit report dataset data.h5 --output notebooks-export/NAME/`: summary, sorting panels,
/// parameter and fit-quality histograms, sample renders.
struct ReportDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Report on a Gaussian dataset: summary, Morton sorting panels, histograms, sample renders.")

    @Argument(help: "The dataset (HDF5, from `splatkit dataset build`).")
    var dataset: String

    @Option(help: "Report folder (created if needed); the page is OUTPUT/index.html.")
    var output: String

    @Option(help: "Folder of the source images, to show each sample next to its render.")
    var images: String?

    @Option(help: "Sample items to render (the first 3 also get sorting panels).")
    var samples: Int = 6

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard samples >= 0 else { throw ValidationError("--samples must be at least 0, got \(samples)") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
        if let images {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: images, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--images \(images) is not a folder")
            }
        }
    }

    func run() throws {
        try compute.apply()
        let page = try writeDatasetReport(dataset: dataset, output: output, samples: samples, images: images,
                                          command: invokedCommandLine())
        printReportWritten(page)
    }
}

/// `splatkit report run runs/NAME --output notebooks-export/NAME/`: loss curves, schedules,
/// model summary, reconstructions and per-group R².
struct ReportRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Report on a VAE training run: loss curves, β and learning rate, model summary, reconstructions, R².",
        discussion: """
            RUN-FOLDER is the --output folder of `splatkit train` (config.yaml, metrics.csv, best.h5). The \
            reconstructions and the per-group R² table use --data, else the config's data.train_dir when it \
            names an existing .h5 dataset; they show the test split (validation when the test split is empty).
            """)

    @Argument(help: "The training run folder.")
    var runFolder: String

    @Option(help: "Report folder (created if needed); the page is OUTPUT/index.html.")
    var output: String

    @Option(help: "The Gaussian dataset (HDF5) to reconstruct from (default: the config's data.train_dir).")
    var data: String?

    @Option(help: "Sets in the reconstruction grid.")
    var samples: Int = 6

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard samples >= 0 else { throw ValidationError("--samples must be at least 0, got \(samples)") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
    }

    func run() throws {
        try compute.apply()
        let page = try writeRunReport(run: runFolder, output: output, dataset: data, samples: samples, command: invokedCommandLine())
        printReportWritten(page)
    }
}

/// `splatkit report inpaint --images DIR [--masks DIR] --output notebooks-export/NAME/`: scores
/// against a classical fill, a gallery with the predicted Gaussians, training curves.
struct ReportInpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Report on an inpainting model: scores vs a classical fill, a gallery with its Gaussians, training curves.",
        discussion: """
            Items are built as by `splatkit evaluate-inpaint` (--masks, or generated masks of each --kind at             --size); --run adds the curves of a train-inpaint output folder.
            """)

    @Option(help: "An inpainting model; default: the shipped models/inpaint_cpu.h5.")
    var model: String?

    @OptionGroup var selection: InpaintingItemOptions

    @Option(help: "Items shown in the gallery.")
    var gallery: Int = 8

    @Option(name: .customLong("run"), help: "A train-inpaint output folder, for training curves.")
    var runFolder: String?

    @Option(help: "Report folder (created if needed); the page is OUTPUT/index.html.")
    var output: String

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard gallery >= 0 else { throw ValidationError("--gallery must be at least 0") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
    }

    func run() throws {
        try compute.apply()
        let (network, modelPath, table) = try selection.model(model)
        let items = try selection.items(features: table)
        let page = try writeInpaintingReport(model: network, modelPath: modelPath, items: items, gallery: gallery, run: runFolder,
                                             output: output, command: invokedCommandLine())
        printReportWritten(page)
    }
}

/// `splatkit report codec EVAL_DIR --images DIR --output notebooks-export/NAME/`: rate–distortion
/// curves against JPEG and WebP, BD figures, a gallery at equal bytes.
struct ReportCodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Report on a codec evaluation (scripts/codec-benchmark's folder): RD curves, BD-rate, a gallery at equal bytes.")

    @Argument(help: "The evaluation folder (results.csv, baselines.csv and the decoded PNGs).")
    var evaluation: String

    @Option(help: "The folder of the original PNGs (for the gallery).")
    var images: String?

    @Option(help: "Images shown in the gallery.")
    var gallery: Int = 3

    @Option(help: "Report folder (created if needed); the page is OUTPUT/index.html.")
    var output: String

    func validate() throws {
        guard gallery >= 0 else { throw ValidationError("--gallery must be at least 0") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
    }

    func run() throws {
        let page = try writeCodecReport(evaluation: evaluation, images: images, gallery: gallery, output: output,
                                        command: invokedCommandLine())
        printReportWritten(page)
    }
}

/// This process's command line as a shell command starting with "splatkit" (for report footers).
private func invokedCommandLine() -> String {
    (["splatkit"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
}

/// The line a report command prints when its page is written.
private func printReportWritten(_ page: String) {
    print("wrote \(page) (open it in a browser: file://\(URL(fileURLWithPath: page).path))")
}

/// `text` as one POSIX shell word: unchanged when it holds only safe characters, else single-quoted.
private func shellQuoted(_ text: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !text.isEmpty && text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
