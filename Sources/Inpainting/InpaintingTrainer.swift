import Foundation
import NeuralNetwork
import SplatIO
import TensorCore

// Training the inpainting model on a folder of photographs, resumable bit for bit.
//
// Per step s (from 0), with the batch of `InpaintingBatchSampler.batch(step: s)`:
//   prediction = model.predict(I, mask: M, training: true)
//   loss = L1(render, I) + w·(1 − SSIM(render, I)) + h·L1_holes(render, I)
//   (w = training.ssim_weight, h = training.hole_l1_weight; L1_holes is the mean |render − I|
//   over the hole pixels' values only)
//   backward; global-norm clipping (training.gradient_clip); AdamW (or Adam); zero the gradients
// The loss is on the whole render, not only the holes: the Gaussians must reproduce the known
// pixels they are given and predict the hidden ones, so `--gaussians` files render the whole
// image, and the known pixels' loss is a denoising signal for every patch. The output image
// still takes its known pixels from the input (InpaintingModel.swift).
//
// Every validation_every steps (and at the last): the held-out images' centre crops with a small
// and a large mask, in inference mode, scored whole and in the holes (InpaintingScores.swift);
// best.h5 is written when the mean hole PSNR improves. Every checkpoint_every steps, at the end
// and when interrupted: last.h5. At the end: model.h5, the best parameters without optimizer
// state (what `splatkit inpaint --model` and models/ ship).
//
// Logs in the output folder: config.yaml, validation.txt (the held-out file names),
// train.csv (a row per logged step), validation.csv (a row per validation), TensorBoard
// scalars in logs/. Resuming trims both CSVs to the checkpoint's step.
//
// Several processes (`parallel`, NeuralNetwork/DataParallel.swift): every rank draws the same
// global batch of step s and takes its contiguous share of the images; its loss is its exact
// part of the global loss (the means weighted by its share of the images, the hole L1 divided
// by the whole batch's hole count), so the summed gradients are those of the global batch.
// Rank 0 alone validates and writes the run folder; a run resumes with any number of processes.
//
// Resuming: a checkpoint holds the parameters, AdamW's moments and step, the config text, the
// step and the best validation so far. Batches are functions of (seed, step) and the model has
// no randomness of its own, so a resumed run ends with the same parameters, bit for bit, as
// one that never stopped (same machine, same thread count).

/// What happened during training, for progress output.
public enum InpaintingTrainingEvent {
    case progress(InpaintingTrainingProgress)
    case validated(step: Int, small: InpaintingScores, large: InpaintingScores, improved: Bool)
}

public struct InpaintingTrainingProgress {
    public let step: Int
    public let steps: Int
    /// Mean loss, L1 and SSIM of the steps since the last report.
    public let loss: Double
    public let l1: Double
    public let ssim: Double
    /// The batch's hole ratio target range midpoint at this step.
    public let holeRatio: Double
    public let samplesPerSecond: Double
    public let estimatedSecondsLeft: Double
}

/// Trains an `InpaintingModel` from an `InpaintingConfig` on an `InpaintingImageSet`.
public final class InpaintingTrainer {
    public let config: InpaintingConfig
    public let configText: String
    public let outputDirectory: String
    public let store: ParameterStore
    public let model: InpaintingModel
    public let optimizer: Optimizer
    public let sampler: InpaintingBatchSampler
    /// Steps done.
    public private(set) var step = 0
    /// The best mean hole PSNR of a validation so far and its step.
    public private(set) var bestHolePSNR = -Double.infinity
    public private(set) var bestStep = 0
    /// Report progress every this many steps.
    public var progressInterval = 10
    /// The processes training together (one by default); rank 0 validates and writes the run folder.
    public var parallel = DataParallel(communicator: SingleProcess())

    public static let lastCheckpointName = "last.h5"
    public static let bestCheckpointName = "best.h5"
    public static let modelFileName = "model.h5"

    private var steps: Int { config.training.steps }
    /// The learning rate of each update (a function of the optimizer's step count).
    private var learningRates: any LearningRateSchedule { config.training.learningRates(totalSteps: steps) }
    private var trainLog: CSVLog?
    private var validationLog: CSVLog?
    private var tensorBoard: TensorBoardWriter?
    /// The run folder's flock, held from `prepareOutput` until `run` returns.
    private var folderLock: RunFolder.Lock?

    /// A run from scratch.
    public init(config: InpaintingConfig, configText: String, images: InpaintingImageSet, outputDirectory: String) throws {
        if config.model.semanticSource == .precomputed {
            guard let vectors = images.trainFeatures else {
                throw FileError(images.folder, "the config's semantic_source is precomputed: give the images' features (--features FILE.h5)")
            }
            if let length = vectors.first?.count, length != config.model.semanticFeatures {
                throw FileError(images.folder, "the features are \(length) long, but the config's semantic_features is \(config.model.semanticFeatures)")
            }
        }
        let stride = InpaintingModel.stride(patchSize: config.model.patchSize)
        for (key, size) in [("crop_size", config.training.cropSize), ("validation_size", config.training.validationSize)]
        where size % stride != 0 {
            throw FileError(images.folder, "training.\(key) \(size) must be a multiple of the network's stride \(stride)")
        }
        self.config = config
        self.configText = configText
        self.outputDirectory = outputDirectory
        store = ParameterStore(seed: config.initializationSeed)
        model = InpaintingModel(config: config.model, store: store)
        let training = config.training
        let rule: any UpdateRule = training.optimizer == .adamw
            ? AdamW(weightDecay: Float(training.weightDecay)) : Adam()
        optimizer = Optimizer(rule, learningRate: Float(training.learningRate))
        sampler = InpaintingBatchSampler(images: images, cropSize: training.cropSize, batchSize: training.batchSize,
                                         seed: config.initializationSeed, curriculum: training.maskCurriculum)
    }

    /// A run continued from a checkpoint this trainer wrote (last.h5, or best.h5 to branch off):
    /// its config must equal `config` except for training.steps.
    public convenience init(resumingFrom path: String, config: InpaintingConfig, configText: String,
                            images: InpaintingImageSet, outputDirectory: String) throws {
        let state = try readInpaintingState(from: path)
        var saved = try InpaintingConfig.decode(yaml: state.config, sourceName: "\(path) (saved config)")
        saved.training.steps = config.training.steps
        guard saved == config else {
            throw FileError(path, "was trained with another configuration; resume with the checkpoint's own config "
                            + "(drop --config); only --steps may change")
        }
        try self.init(config: config, configText: configText, images: images, outputDirectory: outputDirectory)
        let progress = state.schedules["progress"] ?? [:]
        guard let best = progress["best_hole_psnr"], let bestStep = progress["best_step"] else {
            throw FileError(path, "has no /extra progress record (best_hole_psnr, best_step); it was not written by train-inpaint")
        }
        try Checkpoint.load(from: path, into: store, optimizer: optimizer, model: InpaintingCheckpoint.modelKind)
        step = optimizer.step
        bestHolePSNR = best
        self.bestStep = Int(bestStep)
    }

    // MARK: - Running

    /// Trains until training.steps, or until `shouldStop` (asked after every step) returns true;
    /// returns whether the run finished (then model.h5 holds the best parameters).
    @discardableResult
    public func run(shouldStop: () -> Bool = { false }, onEvent: (InpaintingTrainingEvent) -> Void = { _ in }) throws -> Bool {
        let isRoot = parallel.communicator.isRoot
        if isRoot { try prepareOutput() }
        defer { folderLock = nil }  // the folder is free again when run returns or throws
        parallel.broadcastState(of: store)  // a new or resumed run starts from rank 0's parameters
        let training = config.training
        var window = (start: monotonicSeconds(), steps: 0, loss: 0.0, l1: 0.0, ssim: 0.0)
        var totalSeconds = 0.0, timedSteps = 0
        while step < steps {
            let (lossValue, wholeLoss, ssim) = try trainStep(sampler.batch(step: step, steps: steps))
            step += 1
            window.steps += 1
            window.loss += lossValue
            window.ssim += ssim
            window.l1 += wholeLoss - training.ssimWeight * (1 - Double(ssim))

            if step % max(progressInterval, 1) == 0 || step == steps {
                let seconds = monotonicSeconds() - window.start
                totalSeconds += seconds
                timedSteps += window.steps
                let n = Double(window.steps)
                let ratios = training.maskCurriculum.holeRatioRange(progress: Double(step - 1) / Double(steps))
                let progress = InpaintingTrainingProgress(
                    step: step, steps: steps, loss: window.loss / n, l1: window.l1 / n, ssim: window.ssim / n,
                    holeRatio: Double(ratios.lowerBound + ratios.upperBound) / 2,
                    samplesPerSecond: Double(window.steps * training.batchSize) / seconds,
                    estimatedSecondsLeft: totalSeconds / Double(timedSteps) * Double(steps - step))
                try logProgress(progress)
                onEvent(.progress(progress))
                window = (monotonicSeconds(), 0, 0, 0, 0)
            }
            if isRoot, step % training.validationEvery == 0 || step == steps, !sampler.images.validation.isEmpty {
                let (small, large) = try validate()
                let holePSNR = (small.holePSNR + large.holePSNR) / 2
                let improved = holePSNR > bestHolePSNR
                if improved { (bestHolePSNR, bestStep) = (holePSNR, step) }
                try validationLog?.append([Double(step)] + small.values + large.values + [improved ? 1 : 0])
                try tensorBoard?.add(scalars: zip(InpaintingScores.columnNames, small.values).map { ("validation_small/\($0)", Float($1)) }
                                     + zip(InpaintingScores.columnNames, large.values).map { ("validation_large/\($0)", Float($1)) },
                                     step: step)
                if improved { try saveCheckpoint(to: path(Self.bestCheckpointName)) }
                onEvent(.validated(step: step, small: small, large: large, improved: improved))
                window.start = monotonicSeconds()  // validation time is not training rate
            }
            if step % training.checkpointEvery == 0 || step == steps {
                try parallel.checkReplicasAgree(store, step: step)
                try saveCheckpoint(to: lastCheckpointPath)
            }
            if step < steps && parallel.communicator.any(shouldStop()) {
                try saveCheckpoint(to: lastCheckpointPath)
                return false
            }
        }
        try exportModel()
        return true
    }

    /// One step on this rank's share of `batch`; returns the global batch's loss, its L1 + SSIM
    /// part and its mean SSIM.
    private func trainStep(_ batch: InpaintingBatch) throws -> (loss: Double, wholeLoss: Double, ssim: Double) {
        let training = config.training
        let batchSize = batch.images.shape[0]
        let rows = parallel.communicator.share(of: batchSize)
        let share = Float(rows.count) / Float(batchSize)
        var values = [0.0, 0.0, 0.0]  // the loss, its L1 + SSIM part and the SSIM, this rank's parts
        if !rows.isEmpty {
            let local = parallel.isDistributed ? InpaintingBatch(sharing: rows, of: batch) : batch
            let (images, masks) = (local.images, local.masks)
            let prediction = model.predict(images, mask: masks, features: modelFeatures(local), training: true)
            let picture = training.lossImage == .composite ? prediction.image : prediction.render
            var (loss, ssim) = l1SSIMLoss(picture, images, ssimWeight: Float(training.ssimWeight))
            if parallel.isDistributed { loss = loss * share }  // this rank's part of the batch means
            let wholeLoss = Double(loss.item)
            if training.holeL1Weight > 0 {
                let holes = parallel.isDistributed ? batch.masks.scalars.reduce(0, +) : nil  // the whole batch's
                loss = loss + Float(training.holeL1Weight) * holeL1(prediction.render, images, masks: masks, holeCount: holes)
            }
            values = [Double(loss.item), wholeLoss, Double(ssim) * Double(share)]
            guard parallel.isDistributed || values[0].isFinite else {
                throw InpaintingTrainingError.nonFiniteLoss(step: step + 1, value: values[0])
            }
            loss.backward()
        }
        if parallel.isDistributed {
            values = parallel.averageGradients(of: store, weight: 1, values: values)  // the loss already holds the weights
            guard values[0].isFinite else { throw InpaintingTrainingError.nonFiniteLoss(step: step + 1, value: values[0]) }
        }
        if training.gradientClip > 0 { clipGradientsByGlobalNorm(store, maxNorm: Float(training.gradientClip)) }
        optimizer.learningRate = learningRates.learningRate(at: optimizer.step)
        optimizer.update(store)
        store.zeroGradients()
        parallel.broadcastBuffers(of: store)
        return (values[0], values[1], values[2])
    }

    /// Mean scores of the held-out crops with their small masks and with their large masks.
    private func validate() throws -> (small: InpaintingScores, large: InpaintingScores) {
        let batch = sampler.validationBatch(size: config.training.validationSize)
        let (images, masks) = (batch.images, batch.masks)
        var small: [InpaintingScores] = [], large: [InpaintingScores] = []
        try withoutGradients {
            for index in 0..<images.shape[0] / 2 {
                let range = (2 * index)..<(2 * index + 2)  // one image with its small and large mask
                let (image, mask) = (images.sliced(range, alongAxis: 0), masks.sliced(range, alongAxis: 0))
                let features = modelFeatures(batch)?.sliced(range, alongAxis: 0)
                let output = model.predict(image, mask: mask, features: features, training: false).image
                let scores = inpaintingScores(output: output, target: image, mask: mask)
                guard scores.allSatisfy({ $0.psnr.isFinite }) else {
                    throw InpaintingTrainingError.nonFiniteLoss(step: step, value: scores[0].psnr)
                }
                small.append(scores[0])
                large.append(scores[1])
            }
        }
        return (InpaintingScores.mean(small), InpaintingScores.mean(large))
    }

    /// The batch's features when the model reads precomputed ones (nil for the learned encoder).
    private func modelFeatures(_ batch: InpaintingBatch) -> Tensor? {
        config.model.semanticSource == .precomputed ? batch.features : nil
    }

    // MARK: - Files

    private func path(_ name: String) -> String { (outputDirectory as NSString).appendingPathComponent(name) }
    public var lastCheckpointPath: String { path(Self.lastCheckpointName) }

    private func prepareOutput() throws {
        do {
            try createOutputFolder(outputDirectory, purpose: "run folder")
        } catch {
            throw FileError(outputDirectory, "cannot create the output folder: \(error.localizedDescription)")
        }
        folderLock = try RunFolder.Lock(folder: outputDirectory)  // held while this trainer lives
        for (name, text) in [("config.yaml", configText), ("validation.txt", sampler.images.validationNames.map { $0 + "\n" }.joined())] {
            try writeAtomically(to: path(name)) { temporary in try text.write(toFile: temporary, atomically: false, encoding: .utf8) }
        }
        trainLog = try CSVLog(path: path("train.csv"), header: ["step", "loss", "l1", "ssim", "hole_ratio", "learning_rate", "samples_per_s"],
                              keepingRowsThrough: step)
        let scoreColumns = ["small", "large"].flatMap { kind in InpaintingScores.columnNames.map { "\(kind)_\($0)" } }
        validationLog = try CSVLog(path: path("validation.csv"), header: ["step"] + scoreColumns + ["improved"], keepingRowsThrough: step)
        tensorBoard = try TensorBoardWriter(folder: path("logs"))
    }

    private func logProgress(_ p: InpaintingTrainingProgress) throws {
        let learningRate = Double(optimizer.learningRate)
        try trainLog?.append([Double(p.step), p.loss, p.l1, p.ssim, p.holeRatio, learningRate, p.samplesPerSecond])
        try tensorBoard?.add(scalars: [("train/loss", Float(p.loss)), ("train/l1", Float(p.l1)), ("train/ssim", Float(p.ssim)),
                                       ("train/hole_ratio", Float(p.holeRatio)), ("train/learning_rate", Float(learningRate)),
                                       ("train/samples_per_s", Float(p.samplesPerSecond))], step: p.step)
    }

    private func trainingState() -> TrainingState {
        TrainingState(model: InpaintingCheckpoint.modelKind, config: configText, step: optimizer.step, epoch: 0,
                      schedules: ["progress": ["step": Double(step), "steps": Double(steps),
                                               "best_hole_psnr": bestHolePSNR, "best_step": Double(bestStep)]])
    }

    /// Writes the checkpoint (rank 0 alone).
    private func saveCheckpoint(to path: String) throws {
        guard parallel.communicator.isRoot else { return }
        try Checkpoint.save(to: path, store: store, optimizer: optimizer, state: trainingState())
    }

    /// model.h5: the best validation's parameters (the last ones without validation), no optimizer state.
    private func exportModel() throws {
        guard parallel.communicator.isRoot else { return }
        let best = path(Self.bestCheckpointName)
        let source = try loadInpaintingModel(from: FileManager.default.fileExists(atPath: best) ? best : lastCheckpointPath)
        try Checkpoint.save(to: path(Self.modelFileName), store: source.store, optimizer: nil, state: trainingState())
    }
}

/// The mean |prediction − target| over the hole pixels' values: Σ|p − t|·M / (3·ΣM) for masks
/// (B, 1, H, W) broadcast over the 3 channels; 0 without holes. `holeCount` replaces ΣM (a
/// rank's share of a batch divides by the whole batch's count).
func holeL1(_ prediction: Tensor, _ target: Tensor, masks: Tensor, holeCount: Float? = nil) -> Tensor {
    let holes = holeCount ?? masks.scalars.reduce(0, +)
    guard holes > 0 else { return Tensor(shape: [], scalars: [0]) }
    return ((prediction - target).abs() * masks).sum() / (3 * holes)
}

public enum InpaintingTrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, value: Double)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let step, let value):
            return "the loss became \(value) at step \(step); lower training.learning_rate or keep gradient_clip on"
        }
    }
}
