import Foundation
import NeuralNetwork
import SplatIO
import TensorCore

// `splatkit evaluate-codec`: every image of a list at every target rate, compressed, written
// (.sgi), decoded from the file (PNG beside it) and scored against the source. Rows go to
// results.csv as they are made, so an interrupted run resumes where it stopped (rows already
// there are kept and skipped); results.json is written at the end. The JPEG and WebP rows of
// the same images at the same sizes come from scripts/reference/codec_baselines.py
// (`--sizes-from results.csv`), which scripts/codec-benchmark runs right after.

/// One image at one target rate.
public struct CodecEvaluationRow: Codable, Equatable {
    public var image: String
    public var codec = "splatkit"
    public var targetBPP: Double
    public var bytes: Int
    public var bpp: Double
    public var psnr: Double
    public var msSSIM: Double
    public var gaussians: Int
    /// PSNR of the unquantised fit, before the codec's grids.
    public var fittedPSNR: Double
    public var encodeSeconds: Double
    /// Median of three decodes (parse, decode, render at the coded size).
    public var decodeMilliseconds: Double

    static let header = "image,codec,target_bpp,bytes,bpp,psnr,ms_ssim,gaussians,fitted_psnr,encode_s,decode_ms"

    var csvLine: String {
        [image, codec, "\(targetBPP)", "\(bytes)", String(format: "%.6f", bpp), String(format: "%.4f", psnr),
         String(format: "%.6f", msSSIM), "\(gaussians)", String(format: "%.4f", fittedPSNR),
         String(format: "%.3f", encodeSeconds), String(format: "%.3f", decodeMilliseconds)].joined(separator: ",")
    }

    init?(csvLine line: Substring) {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard cells.count == 11, let target = Double(cells[2]), let bytes = Int(cells[3]), let bpp = Double(cells[4]),
              let psnr = Double(cells[5]), let msSSIM = Double(cells[6]), let gaussians = Int(cells[7]),
              let fitted = Double(cells[8]), let encode = Double(cells[9]), let decode = Double(cells[10]) else { return nil }
        (image, codec, targetBPP, self.bytes, self.bpp, self.psnr) = (cells[0], cells[1], target, bytes, bpp, psnr)
        (self.msSSIM, self.gaussians, fittedPSNR, encodeSeconds, decodeMilliseconds) = (msSSIM, gaussians, fitted, encode, decode)
    }

    init(image: String, targetBPP: Double, result: CompressionResult, msSSIM: Double, decodeMilliseconds: Double) {
        self.image = image
        self.targetBPP = targetBPP
        bytes = result.bytes.count
        bpp = result.bitsPerPixel
        psnr = Double(result.psnr)
        self.msSSIM = msSSIM
        gaussians = result.compressed.symbols.count
        fittedPSNR = Double(result.fittedPSNR)
        encodeSeconds = result.seconds
        self.decodeMilliseconds = decodeMilliseconds
    }
}

/// Runs the evaluation of `images` (PNG paths) at `rates` (bits per pixel) into `folder`.
/// `progress` hears of each row as it is made (or found from an earlier run); when `shouldStop`
/// turns true the run stops before its next row (rerun to resume) and returns the rows so far.
public func evaluateCodec(images: [String], rates: [Double], options: CodecOptions, folder: String,
                          shouldStop: () -> Bool = { false },
                          progress: (_ row: CodecEvaluationRow, _ done: Int, _ total: Int, _ resumed: Bool) -> Void,
                          stage: (CodecProgress) -> Void = { _ in }) throws -> [CodecEvaluationRow] {
    try createOutputFolder(folder, purpose: "evaluation folder")
    let csvPath = (folder as NSString).appendingPathComponent("results.csv")
    var rows: [CodecEvaluationRow] = []
    if FileManager.default.fileExists(atPath: csvPath) {
        let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n")
        guard lines.first.map(String.init) == CodecEvaluationRow.header else {
            throw FileError(csvPath, "has other columns than evaluate-codec writes; move it away")
        }
        rows = lines.dropFirst().compactMap(CodecEvaluationRow.init(csvLine:))
    }
    let total = images.count * rates.count
    var done = 0
    for path in images {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let picture = try RGBImage(contentsOfPNG: path)
        let target = picture.tensor()
        for rate in rates {
            done += 1
            if let existing = rows.first(where: { $0.image == name && $0.targetBPP == rate }) {
                progress(existing, done, total, true)
                continue
            }
            if shouldStop() { return rows }
            var rateOptions = options
            rateOptions.bitsPerPixel = rate
            let result = compressImage(target, options: rateOptions, progress: stage)
            let stem = (folder as NSString).appendingPathComponent("\(name)-\(rate)bpp")
            try result.compressed.write(to: stem + ".sgi")
            // Decode from the file's bytes, as a user would; time the decoder three times.
            let bytes = try CompressedGaussianImage(contentsOf: stem + ".sgi").bytes
            var times: [Double] = [], decoded = result.decoded
            for _ in 0..<3 {
                let start = monotonicSeconds()
                decoded = try CompressedGaussianImage(bytes: bytes).render()
                times.append((monotonicSeconds() - start) * 1000)
            }
            precondition(decoded.scalars == result.decoded.scalars, "evaluateCodec: the decoder's render differs from the encoder's")
            try RGBImage(tensor: decoded).writePNG(to: stem + ".png")
            let row = CodecEvaluationRow(image: name, targetBPP: rate, result: result, msSSIM: multiScaleSSIM(decoded, target),
                                         decodeMilliseconds: times.sorted()[1])
            rows.append(row)
            try writeRows(rows, to: csvPath)
            progress(row, done, total, false)
        }
    }
    let json = try JSONEncoder.sortedPretty.encode(rows)
    try writeAtomically(to: (folder as NSString).appendingPathComponent("results.json")) { temporary in
        try json.write(to: URL(fileURLWithPath: temporary))
    }
    return rows
}

private func writeRows(_ rows: [CodecEvaluationRow], to path: String) throws {
    let text = ([CodecEvaluationRow.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
    try writeAtomically(to: path) { temporary in try text.write(toFile: temporary, atomically: false, encoding: .utf8) }
}

extension JSONEncoder {
    /// Pretty, key-sorted output (stable files). A value JSON has no number for (MS-SSIM of an
    /// image too small for it, PSNR of a lossless decode) is written as a string, "NaN" or "inf".
    static var sortedPretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        return encoder
    }
}
