import ArgumentParser
import Foundation
import GaussianFitting
import GaussianVAE
import LatentCoding
import NeuralNetwork
import SplatIO
import TensorCore

// The learned codec's commands (issue 21): a fitted set → its quantised, range-coded latent under
// a VAE trained with an entropy model (.sgi, payload kind 2), and back. `decompress` also draws
// such files (DecompressCommand, given --model).

/// The encoder's latent refinement against the image (`compress --model`, `evaluate-codec --model`).
struct LatentRefinementOptions: ParsableArguments {
    @Option(help: "With --model: Adam steps refining the latent against the image at the model's size (0: the encoder's latent as it is).")
    var refineSteps: Int = LatentRefinement().steps

    @Option(help: "With --model: the refinement's price of one bit per pixel, in squared error (0: the rate may grow).")
    var refineRateWeight: Float = LatentRefinement().rateWeight

    func validate() throws {
        guard (0...100_000).contains(refineSteps) else { throw ValidationError("--refine-steps must be in 0...100000, got \(refineSteps)") }
        guard refineRateWeight.isFinite && refineRateWeight >= 0 else {
            throw ValidationError("--refine-rate-weight must be a finite number ≥ 0, got \(refineRateWeight)")
        }
    }

    var settings: LatentRefinement { LatentRefinement(steps: refineSteps, rateWeight: refineRateWeight) }
}

struct CompressSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress-set",
        abstract: "Code a fitted Gaussian set as its quantised latent under a VAE with an entropy model (.sgi, learned kind).")

    @Argument(help: "The fitted set (.h5 of `splatkit fit`), of the model's set size.")
    var set: String

    @Option(help: "The VAE checkpoint (trained with model.entropy_model).")
    var model: String

    @Option(help: "The output .sgi file.")
    var output: String

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try requireOutputs([output], notAmong: [set, model])
        let codec = try VAESetCodec(checkpoint: model)
        let gaussians = try GaussianSet(contentsOf: set)
        let code = try codec.compress(gaussians, source: set)
        try code.write(to: output)
        let bytes = code.bytes.count
        print(String(format: "wrote %@: %d bytes (%d of latent stream) for %d Gaussians, %.2f bits a Gaussian; model %08x",
                     output as NSString, bytes, code.stream.count, gaussians.gaussians.shape[0],
                     Double(bytes * 8) / Double(gaussians.gaussians.shape[0]), code.fingerprint))
    }
}

struct DecompressSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress-set", abstract: "Decode a learned .sgi code back to a Gaussian set (.h5) with its model.")

    @Argument(help: "The .sgi file (learned kind, from `compress-set`).")
    var input: String

    @Option(help: "The VAE checkpoint the code was made with.")
    var model: String

    @Option(help: "The output set (.h5).")
    var output: String

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try requireOutputs([output], notAmong: [input, model])
        let codec = try VAESetCodec(checkpoint: model)
        let set = try codec.decompress(try LatentCodeFile(contentsOf: input), source: input)
        try set.write(to: output)
        print("decoded \(input) → \(output): \(set.gaussians.shape[0]) Gaussians for \(set.width)×\(set.height)")
    }
}

extension DecompressCommand {
    /// A learned code: its latent decoded by `--model` to a set, drawn at the coded size or `--width`.
    func decodeLearned(_ bytes: [UInt8], start: Double) throws {
        guard let model else {
            throw ValidationError("\(input) is a learned code (payload kind 2): give the VAE checkpoint it was made with, --model")
        }
        try requireOutputs([output], notAmong: [input, model])
        let set = try VAESetCodec(checkpoint: model).decompress(try LatentCodeFile(bytes: bytes, readFrom: input), source: input)
        let outputWidth = width ?? set.width
        let outputHeight = Swift.max(1, Int((Double(outputWidth) * Double(set.height) / Double(set.width)).rounded()))
        let image = set.render(width: outputWidth, height: outputHeight)
        let milliseconds = (monotonicSeconds() - start) * 1000
        try RGBImage(tensor: image).writePNG(to: output)
        print("decoded \(input) (learned code, \(set.gaussians.shape[0]) Gaussians for \(set.width)×\(set.height)) → \(output) "
              + "at \(outputWidth)×\(outputHeight) in \(String(format: "%.1f", milliseconds)) ms")
    }
}

extension CompressCommand {
    /// `compress --model`: fit as the model's data was, code the latent, report the decoded image.
    func compressLearned(_ picture: RGBImage, model: String) throws {
        guard picture.width <= LatentCodeFile.maximumSide && picture.height <= LatentCodeFile.maximumSide else {
            throw FileError(image, "image is \(picture.width)×\(picture.height); sides of at most \(LatentCodeFile.maximumSide) can be coded")
        }
        let start = monotonicSeconds()
        let codec = try VAESetCodec(checkpoint: model)
        let side = codec.modelImageSize.map(String.init) ?? "?"
        print("compressing \(image) (\(picture.width)×\(picture.height)) with \(model): \(codec.inference.setSize) Gaussians "
              + "fitted at \(side)×\(side), \(ComputeThreads.count) threads")
        let steps = fitSteps ?? FitOptions().steps
        let (code, _) = try codec.compress(image: picture, fitSteps: steps, seed: seed, source: image, refinement: refinement.settings) { report in
            guard report.step % 500 == 0 || report.step == report.totalSteps else { return }
            print(String(format: "  fit %5d/%-5d PSNR %.2f dB  %.1f steps/s", report.step, report.totalSteps, report.psnr, report.stepsPerSecond))
        }
        try code.write(to: output)
        let decoded = try codec.decompress(code, source: output).render()
        let target = picture.tensor(), bytes = code.bytes.count
        print(String(format: "wrote %@: %d bytes, %.4f bpp, PSNR %.2f dB, MS-SSIM %@ (learned code, model %08x), %.1f s",
                     output as NSString, bytes, Double(bytes * 8) / Double(picture.width * picture.height), psnr(decoded, target),
                     multiScaleSimilarity(decoded, target) as NSString, code.fingerprint, monotonicSeconds() - start))
    }
}

extension EvaluateCodecCommand {
    /// `evaluate-codec --model`: every photo at the model's image size, coded, decoded and scored.
    func evaluateLearned(_ paths: [String], model: String) throws {
        try requireOutputs([output], notAmong: paths + [model])
        let codec = try VAESetCodec(checkpoint: model)
        let side = codec.modelImageSize.map(String.init) ?? "?"
        print("evaluating the learned codec \(model) on \(paths.count) images at \(side)×\(side), \(ComputeThreads.count) threads → \(output)")
        let rows = try evaluateLearnedCodec(codec, model: model, images: paths, folder: output, fitSteps: FitOptions().steps, seed: seed,
                                            refinement: refinement.settings) { row, done, total in
            print(String(format: "  [%d/%d] %@: %d bytes (%.4f bpp) PSNR %.2f dB SSIM %.4f (fit %.2f dB), encode %.1f ms, decode %.1f ms",
                         done, total, row.image as NSString, row.bytes, row.bpp, row.psnr, row.ssim, row.fittedPSNR,
                         row.encodeMilliseconds, row.decodeMilliseconds))
        }
        let mean = { (value: (LearnedCodecEvaluationRow) -> Double) in rows.map(value).reduce(0, +) / Double(rows.count) }
        print(String(format: "mean over %d images: %.1f bytes, %.4f bpp, PSNR %.2f dB, SSIM %.4f (fits %.2f dB), encode %.1f ms, decode %.1f ms",
                     rows.count, mean { Double($0.bytes) }, mean(\.bpp), mean(\.psnr), mean(\.ssim), mean(\.fittedPSNR),
                     mean(\.encodeMilliseconds), mean(\.decodeMilliseconds)))
        print("wrote \(output)/results.csv, the .sgi files, their decoded PNGs and sources/")
    }
}
