import ArgumentParser
import Foundation
import GaussianCodec
import GaussianFitting
import GaussianRasterizer
import LatentCoding
import NeuralNetwork
import SplatIO
import TensorCore

/// `splatkit compress IMAGE.png --output OUT.sgi`: an image as a file of coded Gaussians.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress a PNG into an .sgi file of quantised, entropy-coded 2D Gaussians.",
        discussion: "Give a budget with --bpp (the file never exceeds it) or a Gaussian count with --gaussians. The format is in docs/FORMATS.md.")

    /// The largest image compressed (pixels); larger ones are refused before decoding.
    static let maximumPixels = 4096 * 4096

    @Argument(help: "The PNG image to compress.")
    var image: String

    @Option(help: "The output .sgi file.")
    var output: String

    @Option(help: "Most bits per pixel the file may take (header included).")
    var bpp: Double?

    @Option(help: "Number of Gaussians (instead of --bpp).")
    var gaussians: Int?

    @Option(help: "Encoder effort: fast, normal or best (more fitting and fine-tuning steps).")
    var effort: CodecEffort = .normal

    @Option(help: "Random seed (the same seed gives the same bytes).")
    var seed: UInt64 = 0

    @Option(help: "Grid bits as position,scale,rotation,colour (default: half-pixel positions, 7,7,7).")
    var bits: String?

    @Option(help: "Fitting steps (default: the effort's).")
    var fitSteps: Int?

    @Option(help: "Quantisation-aware fine-tuning steps (default: the effort's).")
    var tuningSteps: Int?

    @Option(help: "Quantisation-aware fine-tuning: sequential (groups quantised in turn) or straight-through.")
    var tuning: QuantizationAwareTuning.Method = .sequential

    @Option(help: "How the fit starts its Gaussians: structure (structure-guided) or gradient (Image-GS).")
    var start: FitStart = .structure

    @Option(help: "Weight of the geometry-consistent regulariser during the fit (0: off).")
    var geometryWeight: Float = 0

    @Option(help: "The share of the Gaussians the fit starts with; the rest grow in where the error is (1: all from the start).")
    var initialFraction: Float = 1

    @Option(help: "Weight of the squared error in the fit's and fine-tuning's loss, L1 + m·MSE + 0.1·(1 − SSIM) (0: Image-GS's L1 + SSIM).")
    var mseWeight: Float = CodecOptions().mseWeight

    @Option(help: "Start from this fitted Gaussian set (.h5 of `splatkit fit`, same image size) instead of fitting.")
    var startFrom: String?

    @Option(help: "Also save the unquantised fit as a Gaussian set (.h5), for --start-from.")
    var saveFit: String?

    @Option(help: "Code with this VAE (trained with model.entropy_model) instead: the image is fitted as its data was and coded as the quantised latent (no --bpp or --gaussians; the rate is the model's).")
    var model: String?

    @OptionGroup var refinement: LatentRefinementOptions

    @OptionGroup var compute: ComputeOptions

    /// `--bits` parsed and checked.
    func gridBits() throws -> QuantizationBits? {
        guard let bits else { return nil }
        let values = bits.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 4, let p = values[0], let s = values[1], let r = values[2], let c = values[3] else {
            throw ValidationError("--bits must be four integers position,scale,rotation,colour, got \(bits)")
        }
        let parsed = QuantizationBits(position: p, scale: s, rotation: r, colour: c)
        guard parsed.isValid else {
            throw ValidationError("--bits \(bits): position bits must be in 1...16, the others in 1...12 (rotation ≥ 2)")
        }
        return parsed
    }

    func validate() throws {
        _ = try gridBits()
        for (name, value) in [("--fit-steps", fitSteps), ("--tuning-steps", tuningSteps)] {
            if let value { guard value >= 0 && value <= 1_000_000 else { throw ValidationError("\(name) must be in 0...1000000, got \(value)") } }
        }
        if let bpp { guard bpp.isFinite && bpp > 0 && bpp <= 64 else { throw ValidationError("--bpp must be in (0, 64], got \(bpp)") } }
        if let gaussians {
            guard gaussians >= 1 && gaussians <= CompressedGaussianImage.maximumCount else {
                throw ValidationError("--gaussians must be in 1...\(CompressedGaussianImage.maximumCount), got \(gaussians)")
            }
        }
        if model != nil {
            guard bpp == nil && gaussians == nil else { throw ValidationError("--model codes at the model's rate: drop --bpp and --gaussians") }
        } else {
            guard (bpp == nil) != (gaussians == nil) else { throw ValidationError("give exactly one of --bpp and --gaussians") }
        }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([output, saveFit], notAmong: [image])
        let picture = try RGBImage(contentsOfPNG: image, maximumPixels: Self.maximumPixels)
        if let model { return try compressLearned(picture, model: model) }
        guard picture.width >= 11 && picture.height >= 11 else {
            throw FileError(image, "image is \(picture.width)×\(picture.height); the codec needs at least 11×11 pixels")
        }
        guard picture.width <= CompressedGaussianImage.maximumSide && picture.height <= CompressedGaussianImage.maximumSide else {
            throw FileError(image, "image is \(picture.width)×\(picture.height); sides of at most \(CompressedGaussianImage.maximumSide) can be coded")
        }
        var options = CodecOptions()
        options.bitsPerPixel = bpp
        options.gaussians = gaussians
        options.effort = effort
        options.seed = seed
        options.bits = try gridBits()
        options.fitSteps = fitSteps
        options.tuningSteps = tuningSteps
        options.tuningMethod = tuning
        options.start = start
        guard geometryWeight.isFinite && geometryWeight >= 0 else { throw ValidationError("--geometry-weight must be ≥ 0") }
        options.geometryWeight = geometryWeight
        guard initialFraction > 0 && initialFraction <= 1 else { throw ValidationError("--initial-fraction must be in (0, 1]") }
        options.initialFraction = initialFraction
        guard mseWeight.isFinite && mseWeight >= 0 else { throw ValidationError("--mse-weight must be ≥ 0") }
        options.mseWeight = mseWeight
        if let startFrom {
            let set = try GaussianSet(contentsOf: startFrom)
            guard set.width == picture.width && set.height == picture.height else {
                throw FileError(startFrom, "was fitted to \(set.width)×\(set.height), not \(picture.width)×\(picture.height)")
            }
            options.startingGaussians = set.gaussians
        }
        print("compressing \(image) (\(picture.width)×\(picture.height)), \(bpp.map { "at most \($0) bpp" } ?? "\(gaussians!) Gaussians"), "
              + "effort \(effort.rawValue), \(ComputeThreads.count) threads")
        let start = monotonicSeconds()
        var stage = (name: "", start: start)
        let target = picture.tensor()
        let result = compressImage(target, options: options) { p in
            let now = monotonicSeconds()
            if p.stage != stage.name { stage = (p.stage, now) }
            if p.total <= 1 {  // a one-off stage (the rate probe): no rate
                if p.step == p.total { print(String(format: "  %-8@ %@ (%@ elapsed)", p.stage as NSString, p.detail as NSString,
                                                    formatDuration(now - start) as NSString)) }
                return
            }
            guard p.step == 0 || p.step == p.total || p.step % (p.stage == "fit" ? 250 : 100) == 0 else { return }
            let rate = Double(p.step) / Swift.max(now - stage.start, 1e-9)
            let left = p.step > 0 ? formatDuration(Double(p.total - p.step) / rate) : "?"
            // A Double variable: in the argument list a literal 0 would be passed as an Int.
            let shownRate: Double = p.step > 0 ? rate : 0
            print(String(format: "  %-8@ %5d/%-5d %@  %.1f steps/s, stage ETA %@ (%@ elapsed)", p.stage as NSString, p.step, p.total,
                         p.detail as NSString, shownRate, left as NSString, formatDuration(now - start) as NSString))
        }
        guard result.withinBudget else {
            throw ValidationError("--bpp \(bpp!) allows \(result.budget!) bytes, below the smallest file this image gives "
                                  + "(\(result.bytes.count) bytes with \(result.compressed.symbols.count) Gaussians); nothing written")
        }
        try result.compressed.write(to: output)
        let parts = attributeBytes(result.compressed.symbols, quantizer: result.compressed.quantizer, modes: result.compressed.modes)
        print("  stream: " + parts.map { String(format: "%@ %.1f bits", $0.name as NSString, Double($0.bytes * 8) / Double(result.compressed.symbols.count)) }
            .joined(separator: ", ") + " per Gaussian")
        if let saveFit {
            try GaussianSet(gaussians: result.fitted, width: picture.width, height: picture.height,
                            psnr: Double(result.fittedPSNR), recipe: .fit(.imagegs)).write(to: saveFit)
        }
        let similarity = multiScaleSimilarity(result.decoded, target)
        print(String(format: "wrote %@: %d bytes, %.4f bpp, %d Gaussians, PSNR %.2f dB, MS-SSIM %@ (fit before quantisation %.2f dB), %.1f s",
                     output as NSString, result.bytes.count, result.bitsPerPixel, result.compressed.symbols.count,
                     result.psnr, similarity as NSString, result.fittedPSNR, result.seconds))
    }
}

/// `splatkit evaluate-codec --images DIR --bpp 0.1,0.25 --output DIR`.
struct EvaluateCodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-codec",
        abstract: "Compress every PNG of a folder at several rates; write results.csv/json, the .sgi files and their decoded PNGs.",
        discussion: "Interrupted, it resumes: rows already in OUTPUT/results.csv are kept. JPEG and WebP at the same sizes: scripts/codec-benchmark.")

    @Option(help: "The folder of PNG images.")
    var images: String

    @Option(help: "A text file of image file names (one a line) to use instead of every PNG of --images.")
    var list: String?

    @Option(help: "Target rates in bits per pixel, comma-separated (default 0.1,0.25,0.5,1.0; not with --model).")
    var bpp: String?

    @Option(help: "Evaluate the learned codec of this VAE checkpoint instead, at its image size (sources/ holds the photos at that size).")
    var model: String?

    @OptionGroup var refinement: LatentRefinementOptions

    @Option(help: "The output folder.")
    var output: String

    @Option(help: "Encoder effort: fast, normal or best.")
    var effort: CodecEffort = .normal

    @Option(help: "Quantisation-aware fine-tuning: sequential or straight-through.")
    var tuning: QuantizationAwareTuning.Method = .sequential

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @OptionGroup var compute: ComputeOptions

    func rates() throws -> [Double] {
        let bpp = self.bpp ?? "0.1,0.25,0.5,1.0"
        let values = bpp.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 && $0! <= 64 }) else {
            throw ValidationError("--bpp must be comma-separated rates in (0, 64], got \(bpp)")
        }
        return values.map { $0! }
    }

    func validate() throws {
        _ = try rates()
        if model != nil && bpp != nil { throw ValidationError("--bpp sets the per-image codec's rates; a learned model has its own rate (no --bpp with --model)") }
    }

    func run() throws {
        try compute.apply()
        let folder = URL(fileURLWithPath: images)
        var names: [String]
        if let list {
            names = try readNameList(at: list)
        } else {
            names = try pngNames(in: images)
        }
        guard !names.isEmpty else { throw FileError(list ?? images, "names no PNG image") }
        let paths = names.map { folder.appendingPathComponent($0).path }
        for path in paths where !FileManager.default.fileExists(atPath: path) { throw FileError(path, "no such file") }
        if let model { return try evaluateLearned(paths, model: model) }
        var options = CodecOptions()
        options.effort = effort
        options.tuningMethod = tuning
        options.seed = seed
        let start = monotonicSeconds()
        print("evaluating the codec on \(paths.count) images × \(try rates().count) rates, effort \(effort.rawValue), \(ComputeThreads.count) threads → \(output)")
        var made = 0
        Interrupt.install()
        let rows = try evaluateCodec(images: paths, rates: try rates(), options: options, folder: output,
                                     shouldStop: { Interrupt.requested }) { row, done, total, resumed in
            let elapsed = monotonicSeconds() - start
            if !resumed { made += 1 }
            let left = made > 0 ? formatDuration(elapsed / Double(made) * Double(total - done)) : "?"
            print(String(format: "  [%d/%d] %@ %@ bpp: %d bytes (%.4f bpp) PSNR %.2f dB MS-SSIM %.4f, %d Gaussians, encode %.1f s, decode %.1f ms%@  (%@)",
                         done, total, row.image as NSString, "\(row.targetBPP)" as NSString, row.bytes, row.bpp, row.psnr, row.msSSIM,
                         row.gaussians, row.encodeSeconds, row.decodeMilliseconds, (resumed ? " (from an earlier run)" : "") as NSString,
                         "\(formatDuration(elapsed)) elapsed, ETA \(left)" as NSString))
        }
        if rows.count < paths.count * (try rates()).count {
            print("interrupted: \(output)/results.csv holds \(rows.count) rows; run the same command again to resume")
        } else {
            print("wrote \(output)/results.csv and results.json")
        }
    }
}

/// `splatkit decompress IN.sgi --output OUT.png [--width W]`.
struct DecompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompress", abstract: "Decode an .sgi file to a PNG, at its size or any other width.",
        discussion: "A learned code (from `compress-set`) needs the VAE checkpoint it was made with: --model.")

    @Argument(help: "The .sgi file.")
    var input: String

    @Option(help: "The output PNG.")
    var output: String

    @Option(help: "Output width in pixels (height follows the aspect; default: the coded size).")
    var width: Int?

    @Option(help: "For a learned code: the VAE checkpoint it was made with.")
    var model: String?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let width { guard width >= 1 && width <= 16_384 else { throw ValidationError("--width must be in 1...16384, got \(width)") } }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([output], notAmong: [input])
        let start = monotonicSeconds()
        let bytes = try readBoundedFile(at: input, maximumBytes: CompressedGaussianImage.maximumFileBytes, what: "compressed files")
        if LatentCodeFile.isLatentCode(bytes) { return try decodeLearned(bytes, start: start) }
        let compressed = try CompressedGaussianImage(bytes: bytes, readFrom: input)  // read once
        let outputWidth = width ?? compressed.width
        let outputHeight = Swift.max(1, Int((Double(outputWidth) * Double(compressed.height) / Double(compressed.width)).rounded()))
        let image = compressed.render(width: outputWidth, height: outputHeight)
        let seconds = monotonicSeconds() - start
        try RGBImage(tensor: image).writePNG(to: output)
        print(String(format: "decoded %@ (%d Gaussians, %d×%d coded) → %@ at %d×%d in %.1f ms",
                     input as NSString, compressed.symbols.count, compressed.width, compressed.height, output as NSString,
                     outputWidth, outputHeight, seconds * 1000))
    }
}

/// MS-SSIM of two (3, H, W) images as text, or "n/a" when the shorter side is 160 px or less.
func multiScaleSimilarity(_ x: Tensor, _ y: Tensor) -> String {
    let value = multiScaleSSIM(x, y)
    return value.isNaN ? "n/a" : String(format: "%.4f", value)
}

extension CodecEffort: ExpressibleByArgument {}
extension FitStart: ExpressibleByArgument {}
extension QuantizationAwareTuning.Method: ExpressibleByArgument {}
