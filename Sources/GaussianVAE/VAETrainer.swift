import Foundation
import GaussianData
import NeuralNetwork
import SplatIO
import TensorCore

// Training a Gaussian-set VAE as GaussVAE's trainers do, resumable bit for bit.
//
// A new run's parameters come from the config's seed; with training.init_skip_bias_to_mean_set
// the decoder's linear skip bias then starts at the train split's normalised mean set. A warm
// start (VAETrainer+WarmStart.swift) or a resumed run loads them from a checkpoint instead.
//
// Per batch (sets in the loader's seeded order for the epoch):
//   x = normalise(representation(rows))                     (B, N, C), a constant
//   μ, log σ² = encoder(x, training);  z = μ + exp(½ log σ²)·ε   (ε from the model's stream)
//   x̂ = decoder(z, training)
//   loss = Σ_g w_g·MSE_g(x̂, x) + β_e·KL  [+ w_r·(L1 + 1 − SSIM) of 64×64 renders]
//   backward; optional global-norm clipping; Adam (Keras's ε = 1e-7); zero the gradients
// with β_e = max_beta·min(1, (e + 1)/beta_warmup_epochs) for epoch e (from 0). With an entropy
// model (model.entropy_model, issue 21) the latent is ŷ = μ + u, u ~ U(−½, ½) (VAEModel.swift),
// and the loss is rate + λ·distortion: R = −Σ log2 P(ŷ) / (B·N) bits per Gaussian, the
// distortion the weighted terms above without KL, λ = loss_weights.rate_lambda.
//
// Per epoch: the validation split in inference mode (batch norm's moving statistics, no
// dropout), with ε from a generator seeded the same way every epoch, so the monitored metric
// varies only with the model; then, as Keras's callbacks: early stopping (patience
// early_stopping_patience, best parameters and batch-norm statistics kept), the plateau
// schedule (factor, patience, min_lr; δ = 1e-4) on the validation total loss; last.h5 (always),
// best.h5 (when the validation total improved), epoch_NNNN.h5 every checkpoint_every epochs;
// a metrics.csv row and TensorBoard scalars in logs/. At the end the best epoch's parameters
// are restored into the model (they are also best.h5).
//
// Resuming: a checkpoint holds the parameters and buffers, Adam's state and base learning
// rate, the model's random stream (dropout and ε), both schedules' state with early stopping's
// snapshot (/extra/best/…), the epoch, the next batch within it and the epoch's loss sums. The
// loader's order is a function of (seed, epoch), so starting epoch e at batch b sees exactly
// the batches an uninterrupted run would: a resumed run ends with the same parameters, bit for
// bit, as one that never stopped (same machine, same thread count).
//
// Several processes (`parallel`, NeuralNetwork/DataParallel.swift): every rank reads the same
// global batches (the config's batch size), takes its contiguous share of each, and the
// gradients are averaged before clipping and Adam, so every rank holds the same model; every
// rank also validates on the whole validation split (the same numbers everywhere, so every
// rank takes the same early-stopping and schedule decisions). Rank 0 alone writes the run
// folder (config, checkpoints, metrics, TensorBoard); the replicas are compared bit for bit
// at every epoch's end. A run resumes with any number of processes.
//
// Threads: the dataset is read on the loader's prefetch queue; HDF5 is not thread-safe, so
// every iterator is released (waiting for its read) before a checkpoint is written.

/// Where a run stands and how it ended.
public struct VAETrainingResult {
    /// True when the run reached its last epoch or stopped early; false when `shouldStop`
    /// interrupted it (last.h5 then holds the exact position).
    public let finished: Bool
    /// Whether early stopping ended the run.
    public let stoppedEarly: Bool
    /// The epoch in progress or next (from 0) and the next batch within it.
    public let epoch: Int
    public let batch: Int
    /// The best epoch (from 1) and its validation total loss, once an epoch has ended.
    public let bestEpoch: Int?
    public let bestValidationLoss: Double?
    /// The epochs that ended during this call.
    public let history: [VAEEpochMetrics]
}

/// Trains a `GaussianSetVAE` from a `VAEConfig` on a train and a validation split.
public final class VAETrainer {
    public let config: VAEConfig
    /// The YAML text saved in checkpoints and as `config.yaml`.
    public let configText: String
    public let data: VAETrainingData
    public let outputDirectory: String
    public let model: GaussianSetVAE
    public let optimizer: Optimizer
    /// The column normalisation of the inputs, in the representation's columns.
    public let normalization: ColumnNormalization
    public private(set) var plateau: ReduceLearningRateOnPlateau
    public private(set) var earlyStopping: EarlyStopping
    /// The epoch in progress or next, from 0.
    public private(set) var epoch = 0
    /// The next batch of `epoch`.
    public private(set) var batch = 0
    /// Report progress every this many batches (and at each epoch's last batch).
    public var progressInterval = 10
    /// The processes training together (one by default); rank 0 writes the run folder.
    public var parallel = DataParallel(communicator: SingleProcess()) {
        didSet { trainLoader = Self.trainLoader(config: config, data: data, prefetch: trainLoader.prefetch, ranks: parallel.communicator) }
    }

    public var representation: SetRepresentation { config.data.representation }
    public var seed: UInt64 { config.initializationSeed }
    public var batchesPerEpoch: Int { trainLoader.batchesPerEpoch }

    private var trainLoader: GaussianDataLoader
    private let validationLoader: GaussianDataLoader
    private var sums = VAELossAccumulator()
    private var metricsLog: MetricsLog?
    private var tensorBoard: TensorBoardWriter?
    /// The run folder's flock, held from `prepareOutput` until `run` returns.
    private var folderLock: RunFolder.Lock?

    public static let lastCheckpointName = "last.h5"
    public static let bestCheckpointName = "best.h5"

    /// A run from scratch: the model initialised from the config's seed, Adam at the config's
    /// learning rate. `normalization` defaults to the one fitted on `data.train`.
    ///
    /// - Parameters:
    ///   - configText: the YAML the config was decoded from (with any overrides written in).
    ///   - prefetch: read the next batch while training on this one.
    public init(config: VAEConfig, configText: String, data: VAETrainingData, outputDirectory: String,
                normalization: ColumnNormalization? = nil, prefetch: Bool = true) throws {
        try data.checkNotEmpty()
        try data.checkSetSize(against: config)
        if config.training.augmentFlips && data.flips == nil {
            throw VAETrainingError.mismatch("training.augment_flips needs sets whose order follows position: a dataset in morton or "
                                            + "hilbert order, or one built with --recipe imagegs-grid; \(data.name) has neither")
        }
        self.config = config
        self.configText = configText
        self.data = data
        self.outputDirectory = outputDirectory
        let representation = config.data.representation
        self.normalization = try normalization ?? data.fittedNormalization(representation: representation)
        precondition(self.normalization.mean.count == representation.columns,
                     "VAETrainer: \(self.normalization.mean.count)-column normalisation for \(representation.columns) columns")
        model = config.makeModel()
        if config.training.initSkipBiasToMeanSet, let bias = model.decoderSetBias ?? model.decoderSkip?.bias {  // resuming overwrites it
            bias.scalars = try data.meanSet(representation: representation, normalization: self.normalization)  // N·P
        }
        let training = config.training, callbacks = config.callbacks
        optimizer = Optimizer(Adam(epsilon: Adam.kerasEpsilon), learningRate: Float(training.learningRate))
        plateau = ReduceLearningRateOnPlateau(initialLearningRate: Float(training.learningRate), factor: Float(callbacks.reduceLRFactor),
                                              patience: callbacks.reduceLRPatience, minimumLearningRate: Float(callbacks.minLR))
        earlyStopping = EarlyStopping(patience: callbacks.earlyStoppingPatience, restoresBestParameters: true)
        trainLoader = Self.trainLoader(config: config, data: data, prefetch: prefetch, ranks: SingleProcess())
        validationLoader = GaussianDataLoader(source: data.validation, batchSize: training.batchSize, seed: 0,
                                              shuffle: false, dropLast: false, prefetch: prefetch)
    }

    /// The train split's loader. Batch norm cannot train on one set: the last, partial batch
    /// is left out (a different one each epoch) when some rank's share of it would be a single
    /// set (for one process: a remainder of one).
    private static func trainLoader(config: VAEConfig, data: VAETrainingData, prefetch: Bool, ranks: any Communicator) -> GaussianDataLoader {
        let batchSize = config.training.batchSize, remainder = data.train.count % batchSize
        let shares = (0..<ranks.size).map { remainder / ranks.size + ($0 < remainder % ranks.size ? 1 : 0) }
        return GaussianDataLoader(source: data.train, batchSize: batchSize, seed: config.initializationSeed,
                                  shuffle: true, dropLast: shares.contains(1), prefetch: prefetch)
    }

    // MARK: - Resuming

    /// A run continued from a checkpoint a `VAETrainer` wrote (last.h5, or best.h5 or an
    /// epoch_NNNN.h5 to branch off an earlier epoch): its config must equal `config` except
    /// for training.epochs (which may grow or shrink) and its dataset counts `data`'s. Every
    /// tensor, the optimizer, the random stream, the schedules, the normalisation and the
    /// position are restored.
    public convenience init(resumingFrom path: String, config: VAEConfig, configText: String, data: VAETrainingData,
                            outputDirectory: String, prefetch: Bool = true) throws {
        let state = try Self.checkedState(of: path, config: config)
        let saved = try VAECheckpoint.normalization(in: state.extras, columns: config.data.representation.columns, path: path)
        try self.init(config: config, configText: configText, data: data, outputDirectory: outputDirectory,
                      normalization: saved, prefetch: prefetch)
        try resume(from: path, state: state)
    }

    /// The training state of a "gaussvae" checkpoint whose config is `config` but for its epochs.
    private static func checkedState(of path: String, config: VAEConfig) throws -> TrainingState {
        var (state, saved) = try VAECheckpoint.readState(of: path)
        saved.training.epochs = config.training.epochs
        guard saved == config else {
            throw FileError(path, "was trained with another configuration; resume with the checkpoint's own config "
                            + "(drop --config, or pass the config.yaml of its run folder); only --epochs may change")
        }
        return state
    }

    /// Checks `state` (read from `path`) against this run's data, then loads it.
    private func resume(from path: String, state: TrainingState) throws {
        let counts = state.schedules["data"] ?? [:]
        let expected = ["train_count": data.train.count, "validation_count": data.validation.count, "set_size": data.setSize]
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) where counts[key] != Double(value) {
            throw FileError(path, "was trained on a dataset whose \(key) is \(counts[key].map { String(Int($0)) } ?? "unknown"), "
                            + "but \(data.name) has \(value); resume with the same dataset (--data)")
        }
        var plateau = self.plateau, earlyStopping = self.earlyStopping
        let sums: VAELossAccumulator
        let batch: Int
        do {
            try plateau.restoreState(from: state.schedules["plateau"] ?? [:])
            try earlyStopping.restoreState(from: state.schedules["early_stopping"] ?? [:])
            sums = try VAELossAccumulator(stateValues: state.schedules["epoch_sums"] ?? [:])
            guard let savedBatch = state.schedules["progress"]?["batch"], savedBatch >= 0, savedBatch == savedBatch.rounded(),
                  Int(savedBatch) <= trainLoader.batchesPerEpoch else {
                throw VAETrainingError.invalidCheckpoint("no valid batch position")
            }
            batch = Int(savedBatch)
        } catch let error as ScheduleStateError {
            throw FileError(path, error.description)
        } catch let error as VAETrainingError {
            throw FileError(path, error.description)
        }
        let prefix = VAECheckpoint.bestParametersPrefix
        earlyStopping.loadBestParameters(state.extras.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
            .map { (path: String($0.key.dropFirst(prefix.count)), tensor: $0.value) })
        try Checkpoint.load(from: path, into: model.store, optimizer: optimizer, model: VAECheckpoint.modelKind)
        self.plateau = plateau
        self.earlyStopping = earlyStopping
        self.sums = sums
        self.epoch = state.epoch
        self.batch = batch
    }

    // MARK: - Running

    /// Trains until the configured number of epochs has ended, early stopping fires, or
    /// `shouldStop` (asked after every batch and every epoch) returns true; in that last case
    /// last.h5 records the exact position and the result is not `finished`.
    @discardableResult
    public func run(shouldStop: () -> Bool = { false }, onEvent: (VAETrainingEvent) -> Void = { _ in }) throws -> VAETrainingResult {
        if parallel.communicator.isRoot { try prepareOutput() }
        defer { folderLock = nil }  // the folder is free again when run returns or throws
        parallel.broadcastState(of: model.store)  // a new or resumed run starts from rank 0's parameters
        let epochs = config.training.epochs
        var history: [VAEEpochMetrics] = []
        var remainingEstimate = RateEstimate()
        while epoch < epochs && !earlyStopping.shouldStop {
            let beta = klWeight(epoch: epoch, maximum: Float(config.training.maxBeta), warmupEpochs: config.training.betaWarmupEpochs)
            let learningRate = optimizer.learningRate
            let segmentStart = monotonicSeconds()
            var iterator: GaussianBatchIterator? = trainLoader.batches(epoch: epoch, startingAt: batch)
            var reportStart = (time: segmentStart, batch: batch, samples: sums.samples)
            while let next = try iterator!.next() {
                let values = try trainStep(augmented(next), beta: beta)
                sums.add(values, count: next.sets.shape[0])
                batch += 1
                if batch % Swift.max(progressInterval, 1) == 0 || batch == batchesPerEpoch {
                    let now = monotonicSeconds()
                    let seconds = now - reportStart.time
                    remainingEstimate.add(seconds: seconds, batches: batch - reportStart.batch)
                    let left = (batchesPerEpoch - batch) + (epochs - epoch - 1) * batchesPerEpoch
                    onEvent(.progress(VAETrainingProgress(
                        epoch: epoch + 1, epochs: epochs, batch: batch, batchesPerEpoch: batchesPerEpoch, loss: sums.mean.total,
                        samplesPerSecond: seconds > 0 ? Double(sums.samples - reportStart.samples) / seconds : 0,
                        estimatedSecondsLeft: remainingEstimate.secondsPerBatch * Double(left))))
                    try tensorBoard?.add(scalars: [("batch/train_total", Float(values.total))], step: optimizer.step)
                    reportStart = (now, batch, sums.samples)
                }
                if parallel.communicator.any(shouldStop()) {
                    iterator = nil  // waits for the prefetch read: no HDF5 call may overlap the save
                    sums.seconds += monotonicSeconds() - segmentStart
                    try saveCheckpoint(to: lastCheckpointPath)
                    return result(finished: false, history: history)
                }
            }
            iterator = nil
            let metrics = try endEpoch(beta: beta, learningRate: learningRate, seconds: sums.seconds + monotonicSeconds() - segmentStart)
            history.append(metrics)
            onEvent(.epochEnded(metrics))
            if epoch < epochs && !earlyStopping.shouldStop && parallel.communicator.any(shouldStop()) {
                return result(finished: false, history: history)
            }
        }
        earlyStopping.restoreBestParameters(into: model.store.parameters + model.store.buffers)
        return result(finished: true, history: history)
    }

    /// The batch's sets, each mirrored left–right and top–bottom with probability ½ each when
    /// `training.augment_flips` is on. The choices depend only on (seed, epoch, batch), so a
    /// resumed run sees the batches an uninterrupted one would.
    private func augmented(_ batch: GaussianBatch) -> Tensor {
        guard config.training.augmentFlips, let flips = data.flips else { return batch.sets }
        let seed = GaussianDataLoader.epochSeed(seed: config.initializationSeed ^ 0xF11F_5EED, epoch: batch.epoch)
        var generator = RandomGenerator(seed: GaussianDataLoader.epochSeed(seed: seed, epoch: batch.batchIndex))
        let values = batch.sets.scalars, setLength = values.count / batch.sets.shape[0]
        var result: [Float] = []
        result.reserveCapacity(values.count)
        for start in stride(from: 0, to: values.count, by: setLength) {
            let horizontal = generator.nextUniform() < 0.5, vertical = generator.nextUniform() < 0.5
            result += flips.flipped(values[start..<(start + setLength)], horizontal: horizontal, vertical: vertical)
        }
        return Tensor(shape: batch.sets.shape, scalars: result)
    }

    /// One optimisation step on a batch of Image-GS sets (B, N, 8) (this rank's share of its
    /// rows when several processes train); returns the whole batch's loss values.
    private func trainStep(_ sets: Tensor, beta: Float) throws -> VAELossValues {
        let rows = parallel.communicator.share(of: sets.shape[0])
        let weight = Double(rows.count) / Double(sets.shape[0])  // this rank's share of the batch mean
        var values = VAELossValues(total: 0, reconstruction: 0, kl: 0, groups: representation.groups.map { _ in 0 }, render: 0)
        if !rows.isEmpty {
            let local = parallel.isDistributed ? sets.sliced(rows, alongAxis: 0) : sets
            let input = normalization.modelInput(local, representation: representation)  // (B_r, N, C)
            let (total, localValues) = parallel.withRankStream(model.store.random) { () -> (Tensor, VAELossValues) in
                let output = model(input, training: true)
                return objective(reconstruction: output.reconstruction, target: input, mean: output.mean,
                                 logVariance: output.logVariance, bits: output.bits, beta: beta)
            }
            guard parallel.isDistributed || localValues.total.isFinite else {
                throw VAETrainingError.nonFiniteLoss(epoch: epoch + 1, batch: batch + 1, value: localValues.total)
            }
            total.backward()
            values = localValues
        }
        if parallel.isDistributed {
            let every = VAELossColumns(render: true, bits: true)  // every value, in a fixed order
            let sums = parallel.averageGradients(of: model.store, weight: Float(weight), values: every.row(values).map { $0 * weight })
            let groups = values.groups.count
            values = VAELossValues(total: sums[0], reconstruction: sums[1], kl: sums[2], groups: Array(sums[3..<(3 + groups)]),
                                   render: sums[3 + groups], bitsPerSet: sums[4 + groups])
            guard values.total.isFinite else {  // on every rank alike
                throw VAETrainingError.nonFiniteLoss(epoch: epoch + 1, batch: batch + 1, value: values.total)
            }
        }
        if let maxNorm = config.training.gradientClipNorm { clipGradientsByGlobalNorm(model.store, maxNorm: Float(maxNorm)) }
        optimizer.update(model.store)
        model.store.zeroGradients()
        parallel.broadcastBuffers(of: model.store)  // batch norm's running statistics: rank 0's
        return values
    }

    /// The objective's graph and its values; `bits` (the batch's latent rate) with an entropy model.
    private func objective(reconstruction: Tensor, target: Tensor, mean: Tensor, logVariance: Tensor, bits: Tensor?, beta: Float)
        -> (total: Tensor, values: VAELossValues) {
        let loss = vaeLoss(reconstruction: reconstruction, target: target, mean: mean, logVariance: logVariance,
                           representation: representation, groupWeights: config.lossWeights.groupWeights,
                           beta: bits == nil ? beta : 0)
        var total = loss.total, render = 0.0
        if config.lossWeights.render > 0 {
            let term = vaeRenderLoss(reconstruction: reconstruction, target: target, representation: representation,
                                     normalization: normalization, fittedSize: data.fittedImageSize ?? vaeRenderLossSize,
                                     weight: Float(config.lossWeights.render))
            total = total + term
            render = Double(term.item)
        }
        var bitsPerSet = 0.0
        if let bits {  // rate (bits per Gaussian) + λ·distortion
            let sets = Float(target.shape[0])
            total = bits / (sets * Float(model.gaussianCount)) + total * Float(config.lossWeights.rateLambda)
            bitsPerSet = Double(bits.item) / Double(sets)
        }
        let values = VAELossValues(total: Double(total.item), reconstruction: Double(loss.reconstruction.item),
                                   kl: Double(loss.kl.item), groups: loss.groups.map { Double($0.value.item) }, render: render,
                                   bitsPerSet: bitsPerSet)
        return (total, values)
    }

    /// The validation split's mean loss values in inference mode, with ε from a generator
    /// seeded identically every epoch.
    private func validate(beta: Float) throws -> VAELossValues {
        var accumulator = VAELossAccumulator()
        var generator = RandomGenerator(seed: GaussianDataLoader.epochSeed(seed: seed ^ 0x7A11_DA7E, epoch: 0))
        try withoutGradients {
            let iterator = validationLoader.batches(epoch: 0)
            while let next = try iterator.next() {
                let input = normalization.modelInput(next.sets, representation: representation)
                let values: VAELossValues
                if model.entropyModel != nil {  // ŷ = round(μ), what the codec writes
                    let output = model(input, training: false)
                    values = objective(reconstruction: output.reconstruction, target: input, mean: output.mean,
                                       logVariance: output.logVariance, bits: output.bits, beta: beta).values
                } else {
                    let (mean, logVariance) = model.encode(input, training: false)
                    let latent = model.sample(mean: mean, logVariance: logVariance, generator: &generator)
                    values = objective(reconstruction: model.decode(latent, training: false), target: input, mean: mean,
                                       logVariance: logVariance, bits: nil, beta: beta).values
                }
                accumulator.add(values, count: next.sets.shape[0])
            }
        }
        return accumulator.mean
    }

    /// Validation, the callbacks, checkpoints and logs at the end of epoch `epoch`.
    private func endEpoch(beta: Float, learningRate: Float, seconds trainingSeconds: Double) throws -> VAEEpochMetrics {
        let validationStart = monotonicSeconds()
        let validation = try validate(beta: beta)
        guard validation.total.isFinite else {
            throw VAETrainingError.nonFiniteValidationLoss(epoch: epoch + 1, value: validation.total, lastCheckpoint: lastCheckpointPath)
        }
        let index = epoch
        let train = sums.mean
        earlyStopping.update(Float(validation.total), parameters: model.store.parameters + model.store.buffers)
        let improved = earlyStopping.bestEpoch == index
        plateau.update(Float(validation.total), optimizer: optimizer)
        epoch += 1
        batch = 0
        sums = VAELossAccumulator()
        try parallel.checkReplicasAgree(model.store, step: optimizer.step)
        try saveCheckpoint(to: lastCheckpointPath)
        if improved { try copyCheckpoint(to: path(Self.bestCheckpointName)) }
        if epoch % config.callbacks.checkpointEvery == 0 {
            try copyCheckpoint(to: path(String(format: "epoch_%04d.h5", epoch)))
        }
        let metrics = VAEEpochMetrics(epoch: index + 1, train: train, validation: validation, beta: beta, learningRate: learningRate,
                                      seconds: trainingSeconds + monotonicSeconds() - validationStart, improved: improved)
        try metricsLog?.append(metrics, columns: lossColumns)
        try logEpoch(metrics)
        return metrics
    }

    private var lossColumns: VAELossColumns {
        VAELossColumns(render: config.lossWeights.render > 0, bits: model.entropyModel != nil)
    }

    private func logEpoch(_ metrics: VAEEpochMetrics) throws {
        guard let tensorBoard else { return }
        var scalars: [(tag: String, value: Float)] = []
        let columns = lossColumns, names = columns.names(groupNames: representation.groups.map(\.name))
        for (split, values) in [("train", metrics.train), ("validation", metrics.validation)] {
            for (name, value) in zip(names, columns.row(values)) {
                scalars.append(("\(split)/\(name)", Float(value)))
            }
        }
        scalars += [("beta", metrics.beta), ("learning_rate", metrics.learningRate), ("epoch_seconds", Float(metrics.seconds))]
        try tensorBoard.add(scalars: scalars, step: metrics.epoch)
    }

    private func result(finished: Bool, history: [VAEEpochMetrics]) -> VAETrainingResult {
        let seen = earlyStopping.epoch > 0
        return VAETrainingResult(finished: finished, stoppedEarly: earlyStopping.shouldStop, epoch: epoch, batch: batch,
                                 bestEpoch: seen ? earlyStopping.bestEpoch + 1 : nil,
                                 bestValidationLoss: seen ? earlyStopping.best : nil, history: history)
    }

    // MARK: - Files

    private func path(_ name: String) -> String { (outputDirectory as NSString).appendingPathComponent(name) }
    public var lastCheckpointPath: String { path(Self.lastCheckpointName) }

    /// The output folder, config.yaml, metrics.csv (trimmed to the completed epochs) and a new
    /// TensorBoard event file in logs/.
    private func prepareOutput() throws {
        do {
            try createOutputFolder(outputDirectory, purpose: "run folder")
        } catch {
            throw FileError(outputDirectory, "cannot create the output folder: \(error.localizedDescription)")
        }
        folderLock = try RunFolder.Lock(folder: outputDirectory)  // held while this trainer lives
        let text = configText
        try writeAtomically(to: path("config.yaml")) { temporary in
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        }
        metricsLog = try MetricsLog(path: path("metrics.csv"), groupNames: representation.groups.map(\.name),
                                    columns: lossColumns, completedEpochs: epoch)
        tensorBoard = try TensorBoardWriter(folder: path("logs"))
    }

    /// The run's full state (see the file comment) as a checkpoint's training state.
    private func trainingState() -> TrainingState {
        var extras = VAECheckpoint.extras(for: normalization)
        for (name, tensor) in earlyStopping.bestParameterTensors() { extras[VAECheckpoint.bestParametersPrefix + name] = tensor }
        if let entropyModel = model.entropyModel { extras.merge(entropyModel.codeTables.extras) { $1 } }
        return TrainingState(
            model: VAECheckpoint.modelKind, config: configText, step: optimizer.step, epoch: epoch,
            schedules: ["plateau": plateau.stateValues, "early_stopping": earlyStopping.stateValues,
                        "progress": ["batch": Double(batch), "epochs": Double(config.training.epochs)],
                        "data": ["train_count": Double(data.train.count), "validation_count": Double(data.validation.count),
                                 "set_size": Double(data.setSize)],
                        "epoch_sums": sums.stateValues],
            extras: extras, metadata: VAECheckpoint.metadata(for: data))
    }

    /// Writes the checkpoint (rank 0 alone).
    private func saveCheckpoint(to path: String) throws {
        guard parallel.communicator.isRoot else { return }
        try Checkpoint.save(to: path, store: model.store, optimizer: optimizer, state: trainingState())
    }

    /// Copies last.h5 to `destination` atomically.
    private func copyCheckpoint(to destination: String) throws {
        guard parallel.communicator.isRoot else { return }
        let source = lastCheckpointPath
        try writeAtomically(to: destination) { temporary in
            do { try FileManager.default.copyItem(atPath: source, toPath: temporary) } catch {
                throw FileError(destination, "cannot copy \(source): \(error.localizedDescription)")
            }
        }
    }
}

/// Seconds per training batch, averaged over everything seen (for the ETA).
private struct RateEstimate {
    private var seconds = 0.0, batches = 0

    mutating func add(seconds: Double, batches: Int) {
        self.seconds += seconds
        self.batches += batches
    }

    var secondsPerBatch: Double { batches > 0 ? seconds / Double(batches) : .nan }
}

