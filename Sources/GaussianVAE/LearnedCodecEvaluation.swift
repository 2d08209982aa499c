import Foundation
import NeuralNetwork
import LatentCoding
import SplatIO
import TensorCore

// `splatkit evaluate-codec --model`: the learned codec (VAESetCodec) on a list of photos at the
// model's image size S, the issue-21 measurement. For each photo:
//
//   source     shorter side resized to S (triangle filter), centred S × S square: the dataset
//              builder's own preparation (`preparedSquare`), written to sources/NAME.png so that
//              JPEG, WebP and the per-image codec code the very same pixels
//   encode     `compress(image:)`: the model's recipe fitted at S × S, its latent refined against
//              the source (`refinement`, when given), rounded and range-coded → NAME.sgi (timed:
//              fit + encoder + refinement + range coder)
//   decode     the file's bytes parsed, decoded by the VAE and drawn at S × S, three times
//              (median reported) → NAME.png
//   score      PSNR and SSIM (11-px Gaussian window, σ 1.5, valid; NeuralNetwork's `ssim`) of
//              the decoded PNG against the source PNG, both read back (8 bits), as a user would
//              compare the files;
//              MS-SSIM only where the side exceeds 160 px (its coarsest scale needs it)
//
// results.csv's columns are those scripts/reference/codec_baselines.py reads (`--sizes-from`:
// image and bytes), so the baselines are run at the same byte counts.

/// One photo coded by one learned model.
public struct LearnedCodecEvaluationRow: Equatable, Sendable {
    public var image: String
    public var model: String
    public var bytes: Int
    public var bpp: Double
    public var psnr: Double
    public var ssim: Double
    /// NaN at sides of 160 px or less.
    public var msSSIM: Double
    /// PSNR of the unquantised fit (the model's recipe) against the source.
    public var fittedPSNR: Double
    public var encodeMilliseconds: Double
    public var decodeMilliseconds: Double

    public static let header = "image,codec,model,bytes,bpp,psnr,ssim,ms_ssim,fitted_psnr,encode_ms,decode_ms"

    public var csvLine: String {
        [image, "splatkit-learned", model, "\(bytes)", String(format: "%.6f", bpp), String(format: "%.4f", psnr),
         String(format: "%.6f", ssim), msSSIM.isFinite ? String(format: "%.6f", msSSIM) : "nan", String(format: "%.4f", fittedPSNR),
         String(format: "%.3f", encodeMilliseconds), String(format: "%.3f", decodeMilliseconds)].joined(separator: ",")
    }
}

/// Codes every PNG of `images` (paths) with `codec` into `folder` (see the file's comment);
/// `model` names the checkpoint in the rows; `fitSteps` and `seed` are the fit's (a ridge recipe takes no steps). `progress` hears of each row as it is made.
public func evaluateLearnedCodec(_ codec: VAESetCodec, model: String, images: [String], folder: String, fitSteps: Int, seed: UInt64 = 0, refinement: LatentRefinement? = nil,
                                 progress: (_ row: LearnedCodecEvaluationRow, _ done: Int, _ total: Int) -> Void) throws
    -> [LearnedCodecEvaluationRow] {
    guard let side = codec.modelImageSize else {
        throw FileError(model, "does not record the image size its sets were fitted at (imported data), so it has no image size to evaluate at")
    }
    let sources = (folder as NSString).appendingPathComponent("sources")
    let sourceFolder = URL(fileURLWithPath: sources).standardizedFileURL.path
    if let inside = images.first(where: { URL(fileURLWithPath: $0).deletingLastPathComponent().standardizedFileURL.path == sourceFolder }) {
        throw FileError(inside, "lies in \(sources), where the evaluation writes its model-size sources; choose another --output")
    }
    try createOutputFolder(folder, purpose: "evaluation folder")
    try createOutputFolder(sources, purpose: "folder of the model-size sources")
    var rows: [LearnedCodecEvaluationRow] = []
    for (index, path) in images.enumerated() {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let sourcePath = (sources as NSString).appendingPathComponent(name + ".png")
        try RGBImage(contentsOfPNG: path).preparedSquare(size: side).writePNG(to: sourcePath)
        let source = try RGBImage(contentsOfPNG: sourcePath)  // 8-bit, as the baselines read it
        let stem = (folder as NSString).appendingPathComponent(name)
        let encodeStart = monotonicSeconds()
        let (code, fitted) = try codec.compress(image: source, fitSteps: fitSteps, seed: seed, source: path, refinement: refinement)
        try code.write(to: stem + ".sgi")
        let encodeMilliseconds = (monotonicSeconds() - encodeStart) * 1000
        // Decode from the file's bytes, as a user would; time the decoder three times.
        let bytes = try LatentCodeFile(contentsOf: stem + ".sgi").bytes
        var times: [Double] = [], decoded: RGBImage?
        for _ in 0..<3 {
            let start = monotonicSeconds()
            let set = try codec.decompress(LatentCodeFile(bytes: bytes, readFrom: stem + ".sgi"), source: stem + ".sgi")
            decoded = RGBImage(tensor: set.render(width: side, height: side))
            times.append((monotonicSeconds() - start) * 1000)
        }
        try decoded!.writePNG(to: stem + ".png")
        let (output, target) = (try RGBImage(contentsOfPNG: stem + ".png").tensor(), source.tensor())
        let row = LearnedCodecEvaluationRow(
            image: name, model: model, bytes: bytes.count, bpp: Double(bytes.count * 8) / Double(side * side),
            psnr: Double(psnr(output, target)),
            ssim: Double(withoutGradients { ssim(output.unsqueezed(0), target.unsqueezed(0)).item }),
            msSSIM: multiScaleSSIM(output, target),
            fittedPSNR: Double(psnr(fitted.render(width: side, height: side), target)),
            encodeMilliseconds: encodeMilliseconds, decodeMilliseconds: times.sorted()[1])
        rows.append(row)
        progress(row, index + 1, images.count)
    }
    let text = ([LearnedCodecEvaluationRow.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
    try writeAtomically(to: (folder as NSString).appendingPathComponent("results.csv")) { temporary in
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
    }
    return rows
}
