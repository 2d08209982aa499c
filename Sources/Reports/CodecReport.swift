import Foundation
import GaussianCodec
import SplatIO

// `splatkit report codec EVAL_DIR`: one HTML page of a codec evaluation (scripts/codec-benchmark
// or evaluate-codec + scripts/reference/codec_baselines.py into one folder):
//
//   1. Summary    per codec and target rate: images, mean bits per pixel, PSNR, MS-SSIM, times
//   2. BD         Bjøntegaard deltas of SplatKit against JPEG and WebP (mean over images of each
//                 image's BD-rate and BD-PSNR, images whose curves do not overlap left out)
//   3. Curves     mean PSNR and MS-SSIM against mean bits per pixel for each codec, and
//                 GaussianImage's published Kodak points as a reference line (another image set)
//   4. Gallery    at the target nearest 0.25 bpp: original | SplatKit | JPEG | WebP for the first
//                 images (each shrunk to half size), then a 128-pixel crop of each at full size
//
// Inputs in the folder: results.csv (evaluate-codec), baselines.csv (codec_baselines.py), and
// for the gallery the decoded PNGs both write; the originals come from `images`.

/// GaussianImage's rate–distortion points on Kodak (bits per pixel, PSNR), read off its published
/// curve (50k fitting and 50k quantisation-aware steps on a GPU); a reference, not a measurement.
public let gaussianImageKodakPoints = [RatePoint(rate: 0.25, psnr: 26.2), RatePoint(rate: 0.5, psnr: 27.8), RatePoint(rate: 1.0, psnr: 29.65)]

/// One row of a codec evaluation: ours (results.csv) or a baseline (baselines.csv).
public struct CodecScore: Equatable {
    public let image: String, codec: String
    public let targetBPP: Double, bytes: Int, bpp: Double, psnr: Double, msSSIM: Double
    public let encodeSeconds: Double, decodeMilliseconds: Double
}

/// The rows of a CSV with a header, as dictionaries by column name.
func csvRecords(_ path: String) throws -> [[String: String]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw FileError(path, "cannot be read") }
    let lines = text.split(whereSeparator: \.isNewline).map(String.init)
    guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else {
        throw FileError(path, "is empty")
    }
    return lines.dropFirst().map { line in
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return Dictionary(uniqueKeysWithValues: zip(header, cells + [String](repeating: "", count: Swift.max(0, header.count - cells.count))))
    }
}

/// Reads results.csv and baselines.csv of an evaluation folder (the latter optional).
public func readCodecScores(folder: String) throws -> [CodecScore] {
    let ours = (folder as NSString).appendingPathComponent("results.csv")
    let baselines = (folder as NSString).appendingPathComponent("baselines.csv")
    var scores: [CodecScore] = []
    for (path, isOurs) in [(ours, true), (baselines, false)] where isOurs || FileManager.default.fileExists(atPath: path) {
        for record in try csvRecords(path) {
            func number(_ key: String) throws -> Double {
                guard let value = record[key].flatMap(Double.init) else { throw FileError(path, "has a row without a number in \(key)") }
                return value
            }
            let name = ((record["image"] ?? "") as NSString).deletingPathExtension
            scores.append(CodecScore(image: name, codec: record["codec"] ?? "?", targetBPP: try number("target_bpp"),
                                     bytes: Int(try number("bytes")), bpp: try number("bpp"), psnr: try number("psnr"),
                                     msSSIM: try number("ms_ssim"),
                                     encodeSeconds: isOurs ? try number("encode_s") : try number("encode_ms") / 1000,
                                     decodeMilliseconds: try number("decode_ms")))
        }
    }
    return scores
}

/// Writes the codec report of an evaluation folder to `output/index.html`; returns the page path.
@discardableResult
public func writeCodecReport(evaluation folder: String, images: String?, gallery: Int = 3, output: String, command: String) throws -> String {
    let scores = try readCodecScores(folder: folder)
    guard scores.contains(where: { $0.codec == "splatkit" }) else { throw FileError(folder, "holds no SplatKit rows in results.csv") }
    let codecs = ["splatkit", "jpeg", "webp"].filter { codec in scores.contains { $0.codec == codec } }
    let targets = Array(Set(scores.map(\.targetBPP))).sorted()
    var report = HTMLReport(title: "Codec report: \((folder as NSString).lastPathComponent)", command: command)

    report.section("Summary")
    let imageCount = Set(scores.filter { $0.codec == "splatkit" }.map(\.image)).count
    report.paragraph("\(imageCount) images at \(targets.count) target rates. SplatKit's files never exceed their budget; JPEG "
                     + "(Pillow, 4:2:0) and WebP (Pillow, method 6) take the highest quality whose file is no larger than "
                     + "SplatKit's file for the same image and rate (their lowest quality when even that is larger: then their "
                     + "mean bits per pixel exceed SplatKit's).")
    var rows: [[String]] = []
    for codec in codecs {
        for target in targets {
            let group = scores.filter { $0.codec == codec && $0.targetBPP == target }
            guard !group.isEmpty else { continue }
            func mean(_ key: (CodecScore) -> Double) -> Double { group.map(key).reduce(0, +) / Double(group.count) }
            rows.append([codec, formatNumber(target), "\(group.count)", String(format: "%.4f", mean(\.bpp)), String(format: "%.2f", mean(\.psnr)),
                         String(format: "%.4f", mean(\.msSSIM)), String(format: "%.3f", mean(\.encodeSeconds)), String(format: "%.1f", mean(\.decodeMilliseconds))])
        }
    }
    report.table(header: ["codec", "target bpp", "images", "bpp", "PSNR (dB)", "MS-SSIM", "encode (s)", "decode (ms)"], rows: rows,
                 caption: "Means over images. PSNR over R, G, B of 8-bit images; MS-SSIM per channel, averaged.")

    report.section("Bjøntegaard deltas")
    var deltas: [[String]] = []
    for baseline in codecs where baseline != "splatkit" {
        var rates: [Double] = [], gains: [Double] = []
        for image in Set(scores.map(\.image)).sorted() {
            let ours = scores.filter { $0.codec == "splatkit" && $0.image == image }.map { RatePoint(rate: $0.bpp, psnr: $0.psnr) }
            let theirs = scores.filter { $0.codec == baseline && $0.image == image }.map { RatePoint(rate: $0.bpp, psnr: $0.psnr) }
            let (rate, gain) = (bjontegaardRate(ours, theirs), bjontegaardPSNR(ours, theirs))
            if rate.isFinite { rates.append(rate) }
            if gain.isFinite { gains.append(gain) }
        }
        func mean(_ values: [Double]) -> String { values.isEmpty ? "n/a" : String(format: "%+.2f", values.reduce(0, +) / Double(values.count)) }
        deltas.append(["SplatKit vs \(baseline)", mean(rates) + " %", "\(rates.count)", mean(gains) + " dB", "\(gains.count)"])
    }
    report.table(header: ["comparison", "BD-rate", "images", "BD-PSNR", "images"], rows: deltas,
                 caption: "Per image (PCHIP of PSNR against log rate over the overlapping range), then the mean over images. "
                     + "Negative BD-rate: SplatKit needs fewer bits for the same PSNR.")

    report.section("Rate–distortion curves")
    func curve(_ codec: String, _ value: (CodecScore) -> Double) -> [ChartPoint] {
        targets.compactMap { target in
            let group = scores.filter { $0.codec == codec && $0.targetBPP == target }
            guard !group.isEmpty else { return nil }
            return ChartPoint(x: group.map(\.bpp).reduce(0, +) / Double(group.count), y: group.map(value).reduce(0, +) / Double(group.count))
        }
    }
    let names = ["splatkit": "SplatKit", "jpeg": "JPEG", "webp": "WebP"]
    let psnrSeries = codecs.map { LineSeries(name: names[$0] ?? $0, points: curve($0, \.psnr)) }
        + [LineSeries(name: "GaussianImage (Kodak, published)", points: gaussianImageKodakPoints.map { ChartPoint(x: $0.rate, y: $0.psnr) })]
    let ssimSeries = codecs.map { LineSeries(name: names[$0] ?? $0, points: curve($0, \.msSSIM)) }
    report.figureRow([
        (SVGChart.lineChart(psnrSeries, options: ChartOptions(title: "PSNR", xLabel: "bits per pixel", yLabel: "dB")), nil),
        (SVGChart.lineChart(ssimSeries, options: ChartOptions(title: "MS-SSIM", xLabel: "bits per pixel", yLabel: "MS-SSIM")), nil),
    ], caption: "Means over the images at each target rate. GaussianImage's points are its published Kodak curve, "
        + "another image set: a reference line, not a measurement on these images.")

    report.section("Gallery")
    let galleryTarget = targets.min { abs($0 - 0.25) < abs($1 - 0.25) } ?? 0.25
    let shown = Array(Set(scores.filter { $0.codec == "splatkit" && $0.targetBPP == galleryTarget }.map(\.image)).sorted().prefix(gallery))
    for image in shown {
        var full: [ReportImage] = [], crops: [ReportImage] = []
        func add(_ picture: RGBImage, _ caption: String) {
            full.append(ReportImage(picture.resized(width: Swift.max(1, picture.width / 2), height: Swift.max(1, picture.height / 2)),
                                    caption: caption, pixelated: false))
            let side = Swift.min(128, picture.width, picture.height)
            crops.append(ReportImage(picture.cropped(left: (picture.width - side) / 2, top: (picture.height - side) / 2, width: side, height: side),
                                     caption: caption))
        }
        if let images, let original = try? RGBImage(contentsOfPNG: (images as NSString).appendingPathComponent(image + ".png")) {
            add(original, "original")
        }
        for codec in codecs {
            guard let score = scores.first(where: { $0.codec == codec && $0.image == image && $0.targetBPP == galleryTarget }) else { continue }
            let file = codec == "splatkit" ? "\(image)-\(galleryTarget)bpp.png" : "\(image)-\(galleryTarget)bpp-\(codec).png"
            guard let picture = try? RGBImage(contentsOfPNG: (folder as NSString).appendingPathComponent(file)) else { continue }
            add(picture, String(format: "%@: %d bytes, %.2f dB", (names[codec] ?? codec) as NSString, score.bytes, score.psnr))
        }
        report.subsection(image)
        try report.imageGrid(full, columns: full.count, displaySize: 260, caption: "Whole images at half size (target \(formatNumber(galleryTarget)) bpp).")
        try report.imageGrid(crops, columns: crops.count, displaySize: 256, caption: "The centre 128 × 128 pixels at full resolution, enlarged.")
    }
    return try report.write(toFolder: output)
}
