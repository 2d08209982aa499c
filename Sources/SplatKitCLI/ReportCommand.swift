import ArgumentParser
import Foundation
import Reports

/// `splatkit report`: static HTML reports (inline SVG charts, embedded PNG images) that open
/// in any browser without a server, for reading results the way GaussVAE's notebooks show them.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write static HTML reports (charts and images in one self-contained page).",
        subcommands: [ReportDatasetCommand.self]
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
        let command = (["splatkit"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")
        let page = try writeDatasetReport(dataset: dataset, output: output, samples: samples, images: images, command: command)
        print("wrote \(page) (open it in a browser: file://\(URL(fileURLWithPath: page).path))")
    }
}

/// `text` as one POSIX shell word: unchanged when it holds only safe characters, else single-quoted.
private func shellQuoted(_ text: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !text.isEmpty && text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
