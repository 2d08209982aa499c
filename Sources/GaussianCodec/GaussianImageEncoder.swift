import Foundation
import GaussianFitting
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// The per-image encoder: fit → quantisation-aware fine-tuning → code, with rate control. Both
// optimisations use L1 + m·MSE + 0.1·(1 − SSIM) (`CodecOptions.mseWeight`).
//
//   1. N Gaussians: given (`gaussians`), or the most whose estimated coded size
//      (`estimatedBitsPerGaussian`) fits the byte budget of `bitsPerPixel`.
//   2. Fit with the Image-GS recipe (top-K renderer), steps by effort. With a budget, the rate
//      probe (RateControl.swift) codes the set after `probeFraction` of the steps and cuts it
//      there if its stream would not fit, so the rest of the fit heals the cut.
//   3. The grids: positions at half a pixel, the scale and colour ranges of the fitted set.
//   4. Quantisation-aware fine-tuning on those grids.
//   5. Code. Over the budget: keep the Gaussians that cover most of the image (their summed
//      blend weights, one backward pass) in proportion to the overshoot, fine-tune briefly,
//      code again, until the file fits (`withinBudget`) or one Gaussian is left (a budget
//      below the smallest possible file, which callers report; `maximumAttempts` bounds the loop).
// The reported quality is the decoder's own render of the stream (CompressedGaussianImage.render).

/// How long the encoder works.
public enum CodecEffort: String, CaseIterable, Sendable {
    case fast, normal, best

    /// Fitting steps.
    public var fitSteps: Int { [CodecEffort.fast: 500, .normal: 1500, .best: 4000][self]! }
    /// Quantisation-aware fine-tuning steps (after a rate-control cut: a third of them).
    public var tuningSteps: Int { [CodecEffort.fast: 100, .normal: 300, .best: 800][self]! }
}

/// What to make.
public struct CodecOptions {
    /// The Gaussian count; nil: chosen from `bitsPerPixel`.
    public var gaussians: Int?
    /// The most bits per pixel the file may take (header and checksum included); nil: no budget.
    public var bitsPerPixel: Double?
    public var effort = CodecEffort.normal
    /// Override the effort's fitting and fine-tuning steps (tests, studies).
    public var fitSteps: Int?, tuningSteps: Int?
    /// Start from these fitted rows (N, 8) instead of fitting (studies of the later stages).
    public var startingGaussians: Tensor?
    public var seed: UInt64 = 0
    /// Grid sizes; nil: positions at half a pixel (QuantizationBits.positionBits), 7 bits for the rest.
    public var bits: QuantizationBits?
    public var tuningMethod = QuantizationAwareTuning.Method.sequential
    /// How the fit starts its Gaussians (structure-guided: chosen on the validation photos).
    public var start = FitStart.structure
    /// Weight of the fit's geometry-consistent regulariser (0: off).
    public var geometryWeight: Float = 0
    /// The share of the Gaussians the fit starts with (Image-GS grows the rest in; 1, the
    /// default: every Gaussian from the start, which a structure-guided start places well).
    public var initialFraction: Float = 1
    /// Weight m of the squared error in the fit's and fine-tuning's loss, L1 + m·MSE + 0.1·(1 − SSIM)
    /// (FitOptions.mseWeight). PSNR is the squared error's: 100, chosen on the validation photos
    /// (BENCHMARKS.md §8), gave +0.3 to +0.9 dB over Image-GS's L1 + SSIM (m = 0).
    public var mseWeight: Float = 100
    public var topK = TopKOptions()

    public static let maximumAttempts = 20
    /// Where in the fit the rate probe codes the set (a share of the fit's steps).
    public static let probeFraction = 0.4

    public init() {}
}

/// A stage of the encoder and how far it is.
public struct CodecProgress: Sendable {
    public let stage: String
    public let step: Int
    public let total: Int
    public let detail: String
}

/// What the encoder made.
public struct CompressionResult {
    public let compressed: CompressedGaussianImage
    public let bytes: [UInt8]
    /// The decoder's render at the coded size (3, H, W).
    public let decoded: Tensor
    /// PSNR (dB) of `decoded` against the input, and of the unquantised fit.
    public let psnr: Float, fittedPSNR: Float
    /// The unquantised fit (N, 8) the codec started from.
    public let fitted: Tensor
    public let seconds: Double
    /// Coding attempts (1 + rate-control cuts).
    public let attempts: Int

    public var bitsPerPixel: Double { Double(bytes.count * 8) / Double(compressed.width * compressed.height) }
    /// The byte budget of the options' `bitsPerPixel` (nil without one).
    public let budget: Int?
    /// Whether the file is within its budget (true without one).
    public var withinBudget: Bool { budget.map { bytes.count <= $0 } ?? true }
}

/// Compresses `image` (3, H, W) in [0, 1].
public func compressImage(_ image: Tensor, options: CodecOptions,
                          progress: (CodecProgress) -> Void = { _ in }) -> CompressionResult {
    precondition(image.rank == 3 && image.shape[0] == 3, "compressImage: image \(image.shape) must be (3, H, W)")
    let start = monotonicSeconds()
    let (height, width) = (image.shape[1], image.shape[2])
    let budget = options.bitsPerPixel.map { Int(($0 * Double(width * height) / 8).rounded(.down)) }
    let bits = options.bits ?? QuantizationBits(position: QuantizationBits.positionBits(width: width, height: height))
    var count = options.gaussians ?? budget.map { gaussiansForBudget(bytes: $0, bits: bits) } ?? 1000
    count = Swift.min(count, width * height, CompressedGaussianImage.maximumCount)

    var fitOptions = FitOptions()
    fitOptions.gaussians = count
    fitOptions.steps = options.fitSteps ?? options.effort.fitSteps
    fitOptions.recipe = .imagegs
    fitOptions.seed = options.seed
    fitOptions.start = options.start
    fitOptions.geometryWeight = options.geometryWeight
    fitOptions.initialFraction = options.initialFraction
    fitOptions.mseWeight = options.mseWeight
    fitOptions.topK = options.topK
    let fit: (gaussians: Tensor, psnr: Float)
    if let start = options.startingGaussians {
        let render = withoutGradients { renderImageGS(start, width: width, height: height, options: options.topK).clamped(min: 0, max: 1) }
        fit = (start, psnr(render, image))
    } else {
        let result = withoutActuallyEscaping(progress) { progress in
            // The rate probe: part-way through the fit, code the set as it stands; over the
            // budget, cut it then, so the rest of the fit heals the cut.
            let revision = budget.map { budget in
                FitRevision(step: Int(Double(fitOptions.steps) * CodecOptions.probeFraction)) { rows in
                    let probe = RateProbe(rows: rows, budget: budget, bits: bits, width: width, height: height, topK: options.topK)
                    if let kept = probe.kept {
                        progress(CodecProgress(stage: "probe", step: 1, total: 1,
                                               detail: "\(probe.bytes) bytes > \(budget): keeping \(kept.count) of \(rows.shape[0]) Gaussians"))
                    }
                    return probe.kept
                }
            }
            return GaussianFitter(image: image, options: fitOptions).run(progressInterval: 50, revision: revision) { report in
                progress(CodecProgress(stage: "fit", step: report.step, total: report.totalSteps,
                                       detail: String(format: "%d Gaussians, PSNR %.2f dB, %.1f steps/s", report.gaussians, report.psnr,
                                                      report.stepsPerSecond)))
            }
        }
        fit = (result.gaussians, result.psnr)
    }

    var tuning = QuantizationAwareTuning(steps: options.tuningSteps ?? options.effort.tuningSteps, method: options.tuningMethod)
    tuning.topK = options.topK
    tuning.mseWeight = options.mseWeight
    func tune(_ rows: Tensor, steps: Int, ranges: QuantizationRanges?) -> (rows: Tensor, quantizer: GaussianQuantizer) {
        var run = tuning
        run.steps = steps
        return run.run(rows: rows, target: image, bits: bits, ranges: ranges) { stage, step, total, loss in
            if step % 25 == 0 || step == total {
                progress(CodecProgress(stage: stage, step: step, total: total, detail: String(format: "loss %.4f", loss)))
            }
        }
    }
    var (rows, quantizer) = tune(fit.gaussians, steps: tuning.steps, ranges: nil)
    var attempts = 0
    while true {
        attempts += 1
        let compressed = CompressedGaussianImage(width: width, height: height, renderer: .topK, topK: options.topK.k,
                                                 quantizer: quantizer, symbols: quantizer.quantized(rows))
        let bytes = compressed.bytes
        let overBudget = budget.map { bytes.count > $0 } ?? false
        if !overBudget || attempts == CodecOptions.maximumAttempts || rows.shape[0] == 1 {
            let decoded = compressed.render()
            return CompressionResult(compressed: compressed, bytes: bytes, decoded: decoded, psnr: psnr(decoded, image),
                                     fittedPSNR: fit.psnr, fitted: fit.gaussians, seconds: monotonicSeconds() - start, attempts: attempts, budget: budget)
        }
        // Over budget: shrink N by the overshoot (payload only), with 2 % to spare.
        let overhead = CompressedGaussianImage.headerSize + CompressedGaussianImage.checksumSize
        let ratio = Double(budget! - overhead) / Double(bytes.count - overhead) * 0.98
        let kept = Swift.max(1, Swift.min(rows.shape[0] - 1, Int(Double(rows.shape[0]) * ratio)))
        progress(CodecProgress(stage: "rate", step: 1, total: 1,
                               detail: "attempt \(attempts): \(bytes.count) bytes > \(budget!): keeping \(kept) of \(rows.shape[0]) Gaussians"))
        let covering = mostCovering(rows, keeping: kept, width: width, height: height, topK: options.topK)
        (rows, quantizer) = tune(rows.gathered(covering, alongAxis: 0), steps: Swift.max(1, tuning.steps / 3), ranges: quantizer.ranges)
    }
}
