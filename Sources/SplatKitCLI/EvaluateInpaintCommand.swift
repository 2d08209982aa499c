import ArgumentParser
import Foundation
import Inpainting
import SplatIO
import TensorCore

/// `splatkit evaluate-inpaint`: scores an inpainting model on images with masks, whole image and holes.
struct EvaluateInpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-inpaint",
        abstract: "Score an inpainting model: PSNR, SSIM and L1 over the whole image and inside the holes.",
        discussion: """
            Masks come from --masks (image i gets mask i, cycling; images are scaled and centre-cropped to the \
            mask's size) or are generated per image for each --kind at --size (or --full-size). Each item is also \
            filled by push-pull diffusion, a classical baseline, scored the same way. --item-files writes every item \
            as scored, for baselines outside SplatKit (scripts/inpaint-benchmark).
            """)

    @Option(help: "An inpainting model; default: the shipped models/inpaint_cpu.h5.")
    var model: String?

    @OptionGroup var selection: InpaintingItemOptions

    @Option(help: "Write per-item scores as CSV here.")
    var csv: String?

    @Option(help: "Write the mean scores per group as JSON here.")
    var json: String?

    @Option(help: "Write each item's masked input | output | original as PNGs into this folder.")
    var outputImages: String?

    @Option(help: ArgumentHelp("Write each item as scored into this folder: original and mask PNGs, the original, mask, output "
                               + "and push-pull fill as float32 arrays (npz), and items.csv (the --csv columns, item first).",
                               valueName: "folder"))
    var itemFiles: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let (network, modelPath, table) = try selection.model(model)
        let items = try selection.items(features: table)
        for folder in [outputImages, itemFiles].compactMap({ $0 }) { try createOutputFolder(folder) }
        print("evaluate-inpaint: \(modelPath) on \(items.count) items from \(selection.images)\(selection.list.map { " (\($0))" } ?? ""), "
              + "\(ComputeThreads.count) threads")
        var results: [InpaintingEvaluationResult] = []
        var seconds = 0.0
        for (index, item) in items.enumerated() {
            let start = monotonicSeconds()
            let result = network.evaluate(item)
            seconds += monotonicSeconds() - start
            results.append(result)
            if let outputImages { try writeComparison(result, index: index, folder: outputImages) }
            if let itemFiles { try result.writeItemFiles(index: index, to: itemFiles) }
            if (index + 1) % 10 == 0 || index + 1 == items.count {
                let rate = Double(index + 1) / seconds
                print(String(format: "  %d/%d items  %.2f items/s  ETA %@", index + 1, items.count, rate,
                             formatDuration(Double(items.count - index - 1) / rate) as NSString))
            }
        }
        let groups = groupedByMask(results)
        print("group      items   PSNR   SSIM     L1  | holes: PSNR   SSIM     L1  | push-pull fill, holes: PSNR   SSIM")
        var summary: [String: InpaintingGroupSummary] = [:]
        for (group, members) in groups {
            let mean = InpaintingScores.mean(members.map(\.scores)), baseline = InpaintingScores.mean(members.map(\.baselineScores))
            summary[group] = InpaintingGroupSummary(items: members.count, model: mean, pushPullFill: baseline)
            print(String(format: "%-9@ %6d  %5.2f  %.4f  %.4f |        %5.2f  %.4f  %.4f |                    %5.2f  %.4f",
                         group as NSString, members.count, mean.psnr, mean.ssim, mean.l1, mean.holePSNR, mean.holeSSIM, mean.holeL1,
                         baseline.holePSNR, baseline.holeSSIM))
        }
        print(String(format: "%.0f ms per item (inpainting and scoring)", 1000 * seconds / Double(max(items.count, 1))))
        if let csv { try writeText(inpaintingScoresCSV(results), to: csv) }
        if let itemFiles {
            let stems = results.enumerated().map { $1.item.fileStem(index: $0) }
            try writeText(inpaintingScoresCSV(results, itemStems: stems), to: (itemFiles as NSString).appendingPathComponent("items.csv"))
        }
        if let json {
            let report = InpaintingEvaluationReport(model: modelPath, images: selection.images, list: selection.list,
                                                    masks: selection.masks, groups: summary)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(report)
            try writeAtomically(to: json) { try data.write(to: URL(fileURLWithPath: $0)) }
        }
    }

    private func writeText(_ text: String, to path: String) throws {
        try writeAtomically(to: path) { try text.write(toFile: $0, atomically: false, encoding: .utf8) }
    }

    /// FOLDER/NNNN_name.png: masked input (holes white) | output | original, side by side.
    private func writeComparison(_ result: InpaintingEvaluationResult, index: Int, folder: String) throws {
        let item = result.item
        let panels = [item.maskedInput, RGBImage(tensor: result.output.image.clamped(min: 0, max: 1)), RGBImage(tensor: item.image)]
        try sideBySide(panels, gap: 2).writePNG(to: (folder as NSString).appendingPathComponent(item.fileStem(index: index) + ".png"))
    }
}

/// The JSON of `evaluate-inpaint --json`.
struct InpaintingEvaluationReport: Codable {
    let model: String
    let images: String
    let list: String?
    let masks: String?
    let groups: [String: InpaintingGroupSummary]
}

struct InpaintingGroupSummary: Codable {
    let items: Int
    let model: InpaintingScores
    let pushPullFill: InpaintingScores

    enum CodingKeys: String, CodingKey { case items, model, pushPullFill = "push_pull_fill" }
}
