import ArgumentParser
import Foundation
import Inpainting
import NeuralNetwork
import TensorCore

/// `splatkit bench inpaint`: median milliseconds of inpainting one image (inference) and of one
/// training step (forward, backward, clipping, AdamW) for an inpainting config, on a seeded
/// picture and mask; compare with scripts/reference/bench_inpaint.py (the same network in PyTorch).
struct InpaintBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Time inpainting inference (one image) and a training step for an inpainting config.")

    @Option(help: "The inpainting config (YAML); default: configs/inpaint_unet.yaml's defaults.")
    var config: String?

    @Option(help: "Side of the inference image.")
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
        let settings = try config.map { try InpaintingConfig.load(from: $0) } ?? InpaintingConfig()
        let (batchSize, cropSize) = (batch ?? settings.training.batchSize, crop ?? settings.training.cropSize)
        let store = ParameterStore(seed: 0)
        let model = InpaintingModel(config: settings.model, store: store)
        print("splatkit \(SplatKit.version) inpainting: \(groupedDigits(store.parameterCount)) parameters, "
              + "\(ComputeThreads.count) threads")

        let (image, mask) = benchmarkInput(batch: 1, size: size, seed: 1)
        var cases: [BenchmarkResult] = []
        cases.append(runBenchmark("inference", shape: "(1,3,\(size),\(size))", warmup: warmup, repeats: repeats) {
            _ = withoutGradients { model.predict(image, mask: mask, training: false) }
        })
        let (crops, masks) = benchmarkInput(batch: batchSize, size: cropSize, seed: 2)
        let optimizer = Optimizer(AdamW(weightDecay: Float(settings.training.weightDecay)),
                                  learningRate: Float(settings.training.learningRate))
        let step = runBenchmark("training_step", shape: "(\(batchSize),3,\(cropSize),\(cropSize))", warmup: warmup,
                                repeats: repeats) {
            let prediction = model.predict(crops, mask: masks, training: true)
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
private func benchmarkInput(batch: Int, size: Int, seed: UInt64) -> (image: Tensor, mask: Tensor) {
    var generator = RandomGenerator(seed: seed)
    let image = Tensor.uniform([batch, 3, size, size], using: &generator)  // the work does not depend on the content
    let masks = MaskGenerator(width: size, height: size, seed: seed)
    return (image, HoleMask.tensor((0..<batch).map { masks.mask(index: $0, kind: .large) }, width: size, height: size))
}
