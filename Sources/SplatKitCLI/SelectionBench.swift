import ArgumentParser
import Foundation
import GaussianFitting
import SplatIO
import TensorCore

/// `splatkit bench selection`: natural selection (`fit --select-from`) against plain fits of the
/// same N, per image: plain with the same steps, each selection ratio (M = N / ratio), and plain
/// again given the selection's wall time (steps scaled by the time ratio).
struct SelectionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selection", abstract: "Natural-selection fits against plain fits of the same N (equal steps and equal time).")

    @Option(help: "Folder of PNG images (taken in name order).")
    var images: String

    @Option(help: "How many images.")
    var count: Int = 5

    @Option(help: "Shorter side resized to this, then centre-cropped square (0: the image as it is).")
    var size: Int = 256

    @Option(help: "Gaussians at the end of every fit (N).")
    var gaussians: Int = 512

    @Option(help: "Steps of every fit (the plain same-time fits: scaled).")
    var steps: Int = 2000

    @Option(help: "Selection ratios N / M, comma-separated.")
    var ratios: String = "0.15,0.3"

    @Option(help: "Write the results as CSV to this file.")
    var csv: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let ratioValues = ratios.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !ratioValues.isEmpty, ratioValues.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw ValidationError("--ratios must be numbers in (0, 1), got \(ratios)")
        }
        guard count >= 1, gaussians >= 1, steps >= 1, size == 0 || size >= 16 else {
            throw ValidationError("--count, --gaussians and --steps must be ≥ 1 and --size 0 or ≥ 16")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        guard names.count >= count else { throw FileError(images, "holds \(names.count) PNG files, fewer than --count \(count)") }
        print("splatkit \(SplatKit.version) selection benchmark: \(count) images, N = \(gaussians), \(steps) steps, "
              + "ratios \(ratios), \(ComputeThreads.count) threads")
        var rows = ["image,variant,start_gaussians,steps,seconds,psnr,ssim"]
        var gains: [String: [Double]] = [:]
        for name in names.prefix(count) {
            var picture = try RGBImage(contentsOfPNG: (images as NSString).appendingPathComponent(name))
            if size > 0 { picture = picture.preparedSquare(size: size) }
            let target = picture.tensor()
            func fit(_ variant: String, steps: Int, selectFrom: Int?) -> FitResult {
                var options = FitOptions()
                options.gaussians = gaussians
                options.steps = steps
                options.selection = selectFrom.map { NaturalSelection(startingCount: $0) }
                let result = GaussianFitter(image: target, options: options).run(progressInterval: Int.max)
                print(String(format: "  %-24@ %-22@ %6d steps %7.1f s  PSNR %6.2f dB  SSIM %.4f", name as NSString, variant as NSString,
                             result.steps, result.seconds, result.psnr, result.ssim))
                rows.append("\(name),\(variant),\(selectFrom ?? gaussians),\(result.steps),\(String(format: "%.2f", result.seconds)),"
                            + "\(String(format: "%.3f", result.psnr)),\(String(format: "%.4f", result.ssim))")
                return result
            }
            let plain = fit("plain", steps: steps, selectFrom: nil)
            for ratio in ratioValues {
                let startCount = Int((Double(gaussians) / ratio).rounded())
                let selected = fit("select \(ratio)", steps: steps, selectFrom: startCount)
                let sameTime = Swift.max(1, Int((Double(steps) * selected.seconds / Swift.max(plain.seconds, 1e-9)).rounded()))
                let plainLonger = fit("plain same time as \(ratio)", steps: sameTime, selectFrom: nil)
                gains["\(ratio) vs equal steps", default: []].append(Double(selected.psnr - plain.psnr))
                gains["\(ratio) vs equal time", default: []].append(Double(selected.psnr - plainLonger.psnr))
                gains["\(ratio) time ratio", default: []].append(selected.seconds / Swift.max(plain.seconds, 1e-9))
            }
        }
        for (key, values) in gains.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  mean %@: %+.2f", key as NSString, values.reduce(0, +) / Double(values.count)))
        }
        if let csv { try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8) }
    }
}
