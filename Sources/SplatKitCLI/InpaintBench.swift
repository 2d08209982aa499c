import ArgumentParser
import Foundation
import Inpainting
import NeuralNetwork
import SplatIO
import TensorCore

/// `splatkit bench inpaint`: median milliseconds of inpainting one image with a model (default:
/// the shipped one, its real inference path: push-pull prefill, network, covariances, render)
/// and of one training step (forward, backward, clipping, AdamW) of its config. With `--untrained`
/// instead, the network alone (no prefill, no render) of the default config or `--config`,
/// untrained, on a seeded picture and mask: what scripts/reference/bench_inpaint.py (the same
/// network in PyTorch) times.
struct InpaintBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Time inpainting one image with a model (default: the shipped one) and a training step of its config.")

    @Option(help: "The inpainting model (default: the shipped models/inpaint_cpu.h5).")
    var model: String?

    @Flag(help: "Time the network alone, untrained, as scripts/reference/bench_inpaint.py times PyTorch's.")
    var untrained = false

    @Option(help: "With --untrained: the inpainting config (YAML; default: the built-in defaults).")
    var config: String?

    @Option(help: "The image to inpaint (PNG; default: a seeded picture of --size).")
    var image: String?

    @Option(help: "Its mask (PNG, white = hole; default: a generated 'large' mask).")
    var mask: String?

    @Option(help: "Side of the seeded picture (without --image).")
    var size: Int = 256

    @Option(help: "Training batch (default: the config's training.batch_size).")
    var batch: Int?

    @Option(help: "Side of the training crops (default: the config's training.crop_size).")
    var crop: Int?

    @Option(help: "Timed repetitions per case (after --warmup untimed ones).")
    var repeats: Int = 10

    @Option(help: "Untimed warm-up repetitions.")
    var warmup: Int = 2

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard size >= 16, repeats >= 1, warmup >= 0 else { throw ValidationError("need --size ≥ 16, --repeats ≥ 1, --warmup ≥ 0") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let crop, crop < 16 { throw ValidationError("--crop must be at least 16") }
    }

    func run() throws {
        try compute.apply()
        guard !untrained || model == nil else { throw ValidationError("--untrained times a new model: drop --model") }
        guard untrained || config == nil else { throw ValidationError("--config goes with --untrained (a model carries its config)") }
        let network: InpaintingModel, settings: InpaintingConfig, store: ParameterStore, name: String
        if untrained {
            settings = try config.map { try InpaintingConfig.load(from: $0) } ?? InpaintingConfig()
            store = ParameterStore(seed: 0)
            network = InpaintingModel(config: settings.model, store: store)
            name = "an untrained model of \(config ?? "the default config")"
        } else {
            let resolved = try InpaintingCheckpoint.resolve(model: model)
            (network, settings, store, name) = (resolved.model, resolved.config, resolved.store, resolved.path)
        }
        let (batchSize, cropSize) = (batch ?? settings.training.batchSize, crop ?? settings.training.cropSize)
        let (picture, holes) = try inferenceInput()
        let (H, W) = (picture.shape[1], picture.shape[2])
        print("splatkit \(SplatKit.version) inpainting with \(name): \(groupedDigits(store.parameterCount)) parameters, "
              + "\(W)×\(H) image, \(String(format: "%.1f", 100 * Double(holeRatio(holes)))) % hole, \(ComputeThreads.count) threads")

        var cases: [BenchmarkResult] = []
        let batched = picture.unsqueezed(0), holeTensor = Tensor(shape: [1, 1, H, W], scalars: holes)
        cases.append(runBenchmark("inference", shape: "(1,3,\(H),\(W))", warmup: warmup, repeats: repeats) {
            if untrained {
                _ = withoutGradients { network.predict(batched, mask: holeTensor, training: false) }
            } else {
                _ = network.inpaint(picture, mask: holes)
            }
        })
        let (crops, masks) = benchmarkInput(batch: batchSize, size: cropSize, seed: 2)
        let optimizer = Optimizer(AdamW(weightDecay: Float(settings.training.weightDecay)),
                                  learningRate: Float(settings.training.learningRate))
        let step = runBenchmark("training_step", shape: "(\(batchSize),3,\(cropSize),\(cropSize))", warmup: warmup,
                                repeats: repeats) {
            let prediction = network.predict(crops, mask: masks, training: true)
            let (loss, _) = l1SSIMLoss(prediction.render, crops, ssimWeight: Float(settings.training.ssimWeight))
            loss.backward()
            _ = clipGradientsByGlobalNorm(store, maxNorm: Float(settings.training.gradientClip))
            optimizer.update(store)
            store.zeroGradients()
        }
        cases.append(step)
        let peak = peakResidentMegabytes()
        print(String(format: "  training: %.2f samples/s; peak resident memory %@", Double(batchSize) / (step.medianMilliseconds / 1000),
                     peak.map { String(format: "%.0f MB", $0) } ?? "unknown"))
        if let json {
            try writeReport(BenchmarkReport(implementation: "splatkit \(SplatKit.version)", threads: ComputeThreads.count, cases: cases),
                            to: json)
        }
    }
}

/// A seeded random picture (B, 3, S, S) in [0, 1] and large-class masks (B, 1, S, S).
extension InpaintBench {
    /// The image (3, H, W) and mask (H·W) to inpaint: the given files, or a seeded picture of
    /// --size and a generated 'large' mask.
    func inferenceInput() throws -> (image: Tensor, mask: [Float]) {
        let picture = try image.map { try RGBImage(contentsOfPNG: $0).tensor() }
            ?? benchmarkInput(batch: 1, size: size, seed: 1).image.squeezed(0)
        let (H, W) = (picture.shape[1], picture.shape[2])
        guard H * W <= InpaintingModel.maximumPixels else {
            throw FileError(image ?? "", "is \(W)×\(H); inpaint accepts at most \(InpaintingModel.maximumPixels) pixels")
        }
        if let mask { return (picture, try HoleMask.read(from: mask, width: W, height: H, imageName: image ?? "the picture")) }
        return (picture, MaskGenerator(width: W, height: H, seed: 1).mask(index: 0, kind: .large))
    }
}

private func benchmarkInput(batch: Int, size: Int, seed: UInt64) -> (image: Tensor, mask: Tensor) {
    var generator = RandomGenerator(seed: seed)
    let image = Tensor.uniform([batch, 3, size, size], using: &generator)  // the work does not depend on the content
    let masks = MaskGenerator(width: size, height: size, seed: seed)
    return (image, HoleMask.tensor((0..<batch).map { masks.mask(index: $0, kind: .large) }, width: size, height: size))
}
