import ArgumentParser
import Foundation
import Inpainting
import NeuralNetwork
import SplatIO
import TensorCore

/// `splatkit train-inpaint`: trains the Gaussian inpainting network on a folder of photographs.
struct TrainInpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-inpaint",
        abstract: "Train the Gaussian-splatting inpainting network on a folder of images; resumable bit for bit.",
        discussion: """
            Random crops (training.crop_size) and flips of the folder's PNGs with seeded masks following \
            the hole-ratio curriculum; L1 + SSIM on the render; AdamW. training.validation_images files \
            are held out (named in validation.txt) and scored every training.validation_every steps. \
            Writes to --output: config.yaml, validation.txt, last.h5, best.h5 (best hole PSNR), model.h5 \
            (the best parameters only, for `splatkit inpaint --model`), train.csv, validation.csv and \
            TensorBoard logs in logs/. Ctrl-C finishes the current step, saves last.h5 and prints the \
            command that resumes.
            """)

    @Option(help: "The inpainting config (YAML). Optional with --resume, which uses the checkpoint's own config.")
    var config: String?

    @Option(help: "Folder of PNG images to train on (a fixed subset is held out for validation); with --train-list, the folder the lists' paths start from.")
    var images: String

    @Option(help: "A file naming the training images (paths relative to --images, one a line), with --validation-list.")
    var trainList: String?

    @Option(help: "A file naming the validation images (checkpoint choice), disjoint from --train-list.")
    var validationList: String?

    @Option(help: "Precomputed image features (HDF5, docs/FORMATS.md), for configs with semantic_source: precomputed.")
    var features: String?

    @Option(help: "Output folder (must be empty or absent, unless resuming).")
    var output: String

    @Option(help: "Continue from this checkpoint (last.h5 of an earlier run).")
    var resume: String?

    @Option(help: "Override training.steps (the total, counting steps already run when resuming).")
    var steps: Int?

    @Option(help: "Print a progress line every this many steps.")
    var progressEvery: Int = 10

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard config != nil || resume != nil else { throw ValidationError("give --config (or --resume CHECKPOINT)") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        guard progressEvery >= 1 else { throw ValidationError("--progress-every must be at least 1") }
        guard (trainList == nil) == (validationList == nil) else { throw ValidationError("give --train-list and --validation-list together") }
    }

    func run() throws {
        try compute.apply()
        let (sourceText, sourceName) = try trainingConfigSource(config: config, checkpoint: resume)
        var inpaintingConfig = try InpaintingConfig.decode(yaml: sourceText, sourceName: sourceName)
        var configText = sourceText
        if let steps, steps != inpaintingConfig.training.steps {
            inpaintingConfig.training.steps = steps
            configText = try overriddenConfigText(inpaintingConfig, sourceName: sourceName)
        }
        try checkRunFolder(output, resuming: resume != nil)
        let table = try features.map { try ImageFeatures(contentsOf: $0) }
        if let table { try table.check(dimensions: inpaintingConfig.model.semanticFeatures) }
        let imageSet = try trainList.map { try InpaintingImageSet(root: images, trainList: $0, validationList: validationList!, features: table) }
            ?? InpaintingImageSet(folder: images, validationCount: inpaintingConfig.training.validationImages, features: table)
        let training = inpaintingConfig.training
        print("splatkit train-inpaint: \(ComputeThreads.count) threads, seed \(inpaintingConfig.seed)")
        print("images: \(images): \(imageSet.train.count) train, \(imageSet.validation.count) held out (validation.txt)")
        let trainer: InpaintingTrainer
        if let resume {
            trainer = try InpaintingTrainer(resumingFrom: resume, config: inpaintingConfig, configText: configText,
                                            images: imageSet, outputDirectory: output)
            print("resumed from \(resume) at step \(trainer.step)"
                  + (trainer.bestStep > 0 ? String(format: ", best hole PSNR %.2f dB at step %d", trainer.bestHolePSNR, trainer.bestStep) : ""))
        } else {
            trainer = try InpaintingTrainer(config: inpaintingConfig, configText: configText, images: imageSet, outputDirectory: output)
        }
        trainer.progressInterval = progressEvery
        trainer.parallel = dataParallelTraining(batchSize: training.batchSize, output: output)
        print("model: \(groupedDigits(trainer.store.parameterCount)) parameters; batch \(training.batchSize) × \(training.cropSize)², "
              + "\(training.steps) steps, \(training.optimizer.rawValue) lr \(training.learningRate) (\(training.learningRateSchedule.rawValue))")

        Interrupt.install()
        let finished = try trainer.run(shouldStop: { Interrupt.requested }) { event in
            switch event {
            case .progress(let p):
                print(String(format: "  step %d/%d  loss %.4f (L1 %.4f, SSIM %.4f)  holes ~%.0f%%  %.1f samples/s  ETA %@", p.step,
                             p.steps, p.loss, p.l1, p.ssim, 100 * p.holeRatio, p.samplesPerSecond,
                             formatDuration(p.estimatedSecondsLeft) as NSString))
            case let .validated(step, small, large, improved):
                print(String(format: "validation at step %d: small masks %.2f dB (holes %.2f dB, SSIM %.4f), large %.2f dB (holes %.2f dB, SSIM %.4f)%@",
                             step, small.psnr, small.holePSNR, small.ssim, large.psnr, large.holePSNR, large.ssim,
                             (improved ? "  → best.h5" : "") as NSString))
            }
        }
        let last = trainer.lastCheckpointPath
        if !finished {
            print("interrupted at step \(trainer.step); saved \(last)")
            print("resume with: splatkit train-inpaint --resume \(last) --images \(images) --output \(output)"
                  + (features.map { " --features \($0)" } ?? "") + (steps.map { " --steps \($0)" } ?? ""))
            throw ExitCode(130)
        }
        let model = (output as NSString).appendingPathComponent(InpaintingTrainer.modelFileName)
        print(String(format: "done: best hole PSNR %.2f dB at step %d → %@", trainer.bestHolePSNR, trainer.bestStep, model as NSString))
    }
}

/// The config written out in full as JSON (which is YAML) after a command-line override.
private func overriddenConfigText(_ config: InpaintingConfig, sourceName: String) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let text = "# \(sourceName) with command-line overrides, written out in full (JSON is YAML)\n"
        + String(decoding: try encoder.encode(config), as: UTF8.self) + "\n"
    guard try InpaintingConfig.decode(yaml: text, sourceName: sourceName) == config else {
        throw FileError(sourceName, "the overridden config does not read back the same")
    }
    return text
}
