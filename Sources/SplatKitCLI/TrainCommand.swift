import ArgumentParser
import Foundation
import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore

/// `splatkit train`: trains a Gaussian-set VAE (Conv1D or ResNet Conv1D) from a YAML config.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Gaussian-set VAE from a YAML config (GaussVAE's keys); resumable bit for bit.",
        discussion: """
            Writes to --output: config.yaml, last.h5 (every epoch), best.h5 (best validation loss), \
            epoch_NNNN.h5 (every callbacks.checkpoint_every epochs), metrics.csv and TensorBoard logs in logs/. \
            Ctrl-C finishes the current batch, saves last.h5 and prints the command that resumes.
            """)

    @Option(help: "The VAE config (YAML). Optional with --resume or --init-from, which then use the checkpoint's own config.")
    var config: String?

    @Option(help: "Output folder (must be empty or absent, unless resuming).")
    var output: String

    @Option(help: "The Gaussian dataset (HDF5) to train on (default: the config's data.train_dir when it names an .h5 file).")
    var data: String?

    @Option(help: "Continue from this checkpoint (last.h5 of an earlier run).")
    var resume: String?

    @Option(help: ArgumentHelp("Start a new run from this VAE checkpoint's parameters (fine-tuning): optimizer, schedules "
                               + "and epochs start afresh under --config, which must keep the model's shapes and representation.",
                               valueName: "checkpoint"))
    var initFrom: String?

    @Option(help: "Override training.epochs (the total, counting epochs already run when resuming).")
    var epochs: Int?

    @Option(help: "Override the config's seed (initialisation, shuffling, dropout, sampling).")
    var seed: Int?

    @Option(help: "Print a progress line every this many batches.")
    var progressEvery: Int = 10

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard config != nil || resume != nil || initFrom != nil else {
            throw ValidationError("give --config (or --resume / --init-from CHECKPOINT)")
        }
        if resume != nil && initFrom != nil {
            throw ValidationError("--resume continues a run, --init-from starts a new one from a checkpoint; give one of them")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        guard progressEvery >= 1 else { throw ValidationError("--progress-every must be at least 1") }
    }

    func run() throws {
        try compute.apply()
        let (configText, configName) = try trainingConfigSource(config: config, checkpoint: resume ?? initFrom)
        let (text, vaeConfig) = try VAEConfig.overriding(yaml: configText, sourceName: configName, seed: seed, epochs: epochs)
        try checkRunFolder(output, resuming: resume != nil)
        let dataPath = try VAETrainingData.datasetPath(commandLine: data, config: vaeConfig)
        let trainingData = try VAETrainingData.open(dataset: dataPath)
        try trainingData.checkSetSize(against: vaeConfig)

        print("splatkit train: \(vaeConfig.model.name) (\(vaeConfig.model.architecture.rawValue), latent \(vaeConfig.model.latentDim), "
              + "\(vaeConfig.data.representation.rawValue) representation), seed \(vaeConfig.seed ?? 0), \(ComputeThreads.count) threads")
        print("data: \(dataPath): \(trainingData.train.count) train, \(trainingData.validation.count) validation sets of "
              + "\(trainingData.setSize) Gaussians")
        if resume == nil && initFrom == nil { print("fitting the column normalisation on the train split…") }
        let trainer: VAETrainer
        if let initFrom {
            trainer = try VAETrainer(initializingFrom: initFrom, config: vaeConfig, configText: text, data: trainingData,
                                     outputDirectory: output)
            print("parameters and normalisation from \(initFrom); optimizer and schedules start afresh")
        } else if let resume {
            trainer = try VAETrainer(resumingFrom: resume, config: vaeConfig, configText: text, data: trainingData,
                                     outputDirectory: output)
            print("resumed from \(resume): epoch \(trainer.epoch + 1), batch \(trainer.batch)/\(trainer.batchesPerEpoch), "
                  + "step \(trainer.optimizer.step), learning rate \(trainer.optimizer.learningRate)")
        } else {
            trainer = try VAETrainer(config: vaeConfig, configText: text, data: trainingData, outputDirectory: output)
        }
        trainer.progressInterval = progressEvery
        trainer.parallel = dataParallelTraining(batchSize: vaeConfig.training.batchSize, output: output)
        let summary = trainer.model.summary()
        print("model: \(groupedDigits(summary.parameterCount)) parameters (\(groupedDigits(summary.trainableCount)) trainable); "
              + "batch \(vaeConfig.training.batchSize), \(trainer.batchesPerEpoch) batches per epoch, \(vaeConfig.training.epochs) epochs")

        Interrupt.install()
        let result = try trainer.run(shouldStop: { Interrupt.requested }) { event in
            switch event {
            case .progress(let p):
                print(String(format: "  epoch %d/%d  batch %d/%d  loss %.4f  %.1f samples/s  ETA %@", p.epoch, p.epochs, p.batch,
                             p.batchesPerEpoch, p.loss, p.samplesPerSecond, formatDuration(p.estimatedSecondsLeft) as NSString))
            case .epochEnded(let m):
                let losses = vaeConfig.model.entropyModel == .none  // a VAE: KL and β; with an entropy model: bits, no KL
                    ? String(format: "train %.4f (recon %.4f, kl %.4f)  val %.4f (recon %.4f, kl %.4f)  β %.3g", m.train.total,
                             m.train.reconstruction, m.train.kl, m.validation.total, m.validation.reconstruction, m.validation.kl,
                             Double(m.beta))
                    : String(format: "train %.4f (recon %.4f, %.1f bits a set)  val %.4f (recon %.4f, %.1f bits a set)", m.train.total,
                             m.train.reconstruction, m.train.bitsPerSet, m.validation.total, m.validation.reconstruction,
                             m.validation.bitsPerSet)
                print(String(format: "epoch %d: %@  lr %.3g  %.1fs%@", m.epoch, losses as NSString, Double(m.learningRate), m.seconds,
                             (m.improved ? "  → best.h5" : "") as NSString))
                let groups = zip(vaeConfig.data.representation.groups.map(\.name), m.validation.groups)
                    .map { String(format: "%@ %.4f", $0.0 as NSString, $0.1) }.joined(separator: ", ")
                print("  val MSE per group: \(groups)")
            }
        }
        let last = trainer.lastCheckpointPath
        if !result.finished {
            print("interrupted at epoch \(result.epoch + 1), batch \(result.batch)/\(trainer.batchesPerEpoch); saved \(last)")
            print("resume with: splatkit train --resume \(last) --output \(output) --data \(dataPath)"
                  + (epochs.map { " --epochs \($0)" } ?? ""))
            throw ExitCode(130)
        }
        let best = result.bestEpoch.map { "best epoch \($0) (val loss \(String(format: "%.4f", result.bestValidationLoss!)))" }
            ?? "no epoch ran"
        print((result.stoppedEarly ? "stopped early: no validation improvement in \(vaeConfig.callbacks.earlyStoppingPatience) epochs; "
               : "done: ") + "\(best) → \((output as NSString).appendingPathComponent(VAETrainer.bestCheckpointName))")
        if result.history.isEmpty && result.epoch >= vaeConfig.training.epochs {
            print("nothing to do: the checkpoint already ran \(result.epoch) epochs; pass --epochs N (more) to train longer")
        }
    }
}

/// `splatkit export-model CKPT --output OUT.h5`: a training checkpoint's model alone, for shipping.
struct ExportModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-model",
        abstract: "Write a VAE checkpoint's model without its training state (optimizer, schedules, best parameters), for shipping.",
        discussion: "The copy loads in every inference command (encode, decode, evaluate, compress --model, …) to the same model; it cannot resume training.")

    @Argument(help: "The VAE checkpoint (best.h5 or last.h5 of `splatkit train`).")
    var checkpoint: String

    @Option(help: "The output model (.h5).")
    var output: String

    func run() throws {
        try requireOutputs([output], notAmong: [checkpoint])
        try exportVAE(from: checkpoint, to: output)
        let size = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0 }
        print(String(format: "wrote %@: %.1f MB (the checkpoint: %.1f MB)", output as NSString,
                     Double(size(output)) / 1e6, Double(size(checkpoint)) / 1e6))
    }
}
