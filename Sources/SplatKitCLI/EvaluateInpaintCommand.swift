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
            mask's size) or are generated per image for each --kind at --size. Each item is also filled by \
            push-pull diffusion, a classical baseline, scored the same way.
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

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let (network, modelPath, table) = try selection.model(model)
        let items = try selection.items(features: table)
        if let outputImages { try createOutputFolder(outputImages) }
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
        if let csv { try writeCSV(results, to: csv) }
        if let json {
            let report = InpaintingEvaluationReport(model: modelPath, images: selection.images, list: selection.list,
                                                    masks: selection.masks, groups: summary)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(report)
            try writeAtomically(to: json) { try data.write(to: URL(fileURLWithPath: $0)) }
        }
    }

    private func writeCSV(_ results: [InpaintingEvaluationResult], to path: String) throws {
        let columns = InpaintingScores.columnNames
        var lines = [(["image", "mask", "group", "hole_ratio"] + columns + columns.map { "fill_\($0)" }).joined(separator: ",")]
        for result in results {
            let values = [Double(holeRatio(result.item.mask))] + result.scores.values + result.baselineScores.values
            lines.append(([result.item.imageName, result.item.maskName, result.item.group] + values.map { String(format: "%.6g", $0) })
                .joined(separator: ","))
        }
        let text = lines.joined(separator: "\n") + "\n"
        try writeAtomically(to: path) { try text.write(toFile: $0, atomically: false, encoding: .utf8) }
    }

    /// FOLDER/NNNN_name.png: masked input (holes white) | output | original, side by side.
    private func writeComparison(_ result: InpaintingEvaluationResult, index: Int, folder: String) throws {
        let item = result.item
        let panels = [item.maskedInput, RGBImage(tensor: result.output.image.clamped(min: 0, max: 1)), RGBImage(tensor: item.image)]
        let name = String(format: "%04d_%@_%@.png", index, ((item.imageName as NSString).deletingPathExtension) as NSString,
                          item.maskName.replacingOccurrences(of: ".png", with: "") as NSString)
        try sideBySide(panels, gap: 2).writePNG(to: (folder as NSString).appendingPathComponent(name))
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
