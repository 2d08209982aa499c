import Foundation
import NeuralNetwork
import SplatIO

// The VAE configuration file, with GaussVAE's YAML key names and defaults so that its
// configs decode unchanged. Groups (each optional, each key optional unless stated):
//
//   model          the architecture: every width, kernel, pool, dropout rate, dense size and
//                  reshape target (VAEModelConfig below)
//   training       batch_size, epochs, learning_rate, beta_warmup_epochs, max_beta, mixed_precision;
//                  SplatKit's gradient_clip_norm
//   data           GaussVAE's npz folders and shuffle buffer; SplatKit's `representation`
//   callbacks      checkpoint_every, early_stopping_patience, reduce_lr_patience,
//                  reduce_lr_factor, min_lr
//   loss_weights   xy_weight, scale_weight, rot_weight, feat_weight; SplatKit's render_loss_weight
//                  and rate_lambda (with model.entropy_model)
//   experiment_name, output_dir, seed
//
// SplatKit's extensions (absent from GaussVAE, all defaulted): model.architecture,
// model.num_gaussians, model.encoder_global_pool, model.encoder_linear_skip, model.decoder_linear_skip,
// model.linear_skip_columns, model.tie_linear_skips,
// training.gradient_clip_norm, training.augment_flips, training.init_skip_bias_to_mean_set,
// data.representation, loss_weights.render_loss_weight, model.entropy_model, loss_weights.rate_lambda.
//
// Decoding is strict (SplatIO's `decodeYAMLConfig`): unknown keys and wrong types are errors
// naming the key, line and file. Values are validated while decoding, so an inconsistent
// architecture (five filters but four pool sizes, a reshape target that does not match the
// last dense layer, …) is reported the same way, at its key.

/// A whole VAE configuration file.
public struct VAEConfig: Codable, Equatable {
    public var experimentName: String?
    public var model: VAEModelConfig
    public var training: VAETrainingConfig
    public var data: VAEDataConfig
    public var callbacks: VAECallbacksConfig
    public var lossWeights: VAELossWeights
    public var outputDir: String
    /// Seeds parameter initialisation (and, for the training command, shuffling); nil → 0.
    public var seed: Int?

    enum CodingKeys: String, CodingKey {
        case experimentName = "experiment_name", model, training, data, callbacks
        case lossWeights = "loss_weights", outputDir = "output_dir", seed
    }

    public init(
        model: VAEModelConfig, training: VAETrainingConfig = VAETrainingConfig(), data: VAEDataConfig = VAEDataConfig(),
        callbacks: VAECallbacksConfig = VAECallbacksConfig(), lossWeights: VAELossWeights = VAELossWeights(),
        experimentName: String? = nil, outputDir: String = "outputs/vae_training", seed: Int? = nil
    ) {
        self.experimentName = experimentName
        self.model = model
        self.training = training
        self.data = data
        self.callbacks = callbacks
        self.lossWeights = lossWeights
        self.outputDir = outputDir
        self.seed = seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            model: try c.decodeIfPresent(VAEModelConfig.self, forKey: .model) ?? VAEModelConfig(),
            training: try c.decodeIfPresent(VAETrainingConfig.self, forKey: .training) ?? VAETrainingConfig(),
            data: try c.decodeIfPresent(VAEDataConfig.self, forKey: .data) ?? VAEDataConfig(),
            callbacks: try c.decodeIfPresent(VAECallbacksConfig.self, forKey: .callbacks) ?? VAECallbacksConfig(),
            lossWeights: try c.decodeIfPresent(VAELossWeights.self, forKey: .lossWeights) ?? VAELossWeights(),
            experimentName: try c.decodeIfPresent(String.self, forKey: .experimentName),
            outputDir: try c.decodeIfPresent(String.self, forKey: .outputDir) ?? "outputs/vae_training",
            seed: try c.decodeIfPresent(Int.self, forKey: .seed))
        try requireValid(!training.initSkipBiasToMeanSet || model.decoderLinearSkip, .training, in: c,
                         "init_skip_bias_to_mean_set needs the decoder's linear skip (model.decoder_linear_skip: true)")
        let columns = data.representation.columns
        try requireValid(model.skipColumns(of: columns).allSatisfy { $0 < columns }, .model, in: c,
                         "linear_skip_columns \(model.skipColumns(of: columns)) must be columns of the \(columns)-column "
                         + "\(data.representation.rawValue) representation (0..<\(columns))")
        let scalars = makeModel(allocating: false).summary().parameterCount
        try requireValid(scalars <= ParameterStore.maximumScalars, .model, in: c,
                         "describes a model of \(groupedDigits(scalars)) parameters; at most "
                         + "\(groupedDigits(ParameterStore.maximumScalars)) fit in memory")
    }

    /// Reads and validates the YAML file at `path`; errors are `FileError`s naming the file and key.
    public static func load(from path: String) throws -> VAEConfig {
        try decodeYAMLConfig(VAEConfig.self, from: path)
    }

    /// Decodes and validates YAML text; errors name `sourceName`.
    public static func decode(yaml: String, sourceName: String) throws -> VAEConfig {
        try decodeYAMLConfig(VAEConfig.self, yaml: yaml, sourceName: sourceName)
    }

    /// The initialisation seed: `seed`, or 0 when the file gives none.
    public var initializationSeed: UInt64 { UInt64(bitPattern: Int64(seed ?? 0)) }
}

// MARK: - Training

/// Optimisation and KL-annealing settings (GaussVAE's `training` group).
public struct VAETrainingConfig: Codable, Equatable {
    public var batchSize = 32
    public var epochs = 100
    /// Adam's learning rate.
    public var learningRate = 1e-3
    /// β rises linearly to max_beta over this many epochs: max_beta·min(1, (epoch + 1)/warm-up),
    /// epochs counted from 0 (`klWeight(epoch:maximum:warmupEpochs:)`).
    public var betaWarmupEpochs = 50
    /// The KL weight after warm-up.
    public var maxBeta = 1.0
    /// GaussVAE's fp16 switch. SplatKit always computes in float32; the key is kept so that
    /// GaussVAE configs decode.
    public var mixedPrecision = true
    /// Clip the gradients to this global L2 norm before each update (SplatKit's extension;
    /// nil, the default, as GaussVAE: no clipping).
    public var gradientClipNorm: Double?
    /// Train on left–right and top–bottom mirror images of the sets too, each batch's sets
    /// flipped at random (SplatKit's extension, default off; needs a dataset whose order follows
    /// position, see SetFlips.swift).
    public var augmentFlips = false
    /// Start the decoder's linear skip bias (with model.linear_skip_columns, its set bias) at the
    /// train split's mean set (SplatKit's extension, default off; needs
    /// model.decoder_linear_skip): a new model then decodes every code to the
    /// mean layout (each Gaussian at its mean place, size, shape and colour) instead of every
    /// Gaussian at the columns' means, which matters when the render loss alone places them.
    public var initSkipBiasToMeanSet = false

    enum CodingKeys: String, CodingKey {
        case batchSize = "batch_size", epochs, learningRate = "learning_rate"
        case betaWarmupEpochs = "beta_warmup_epochs", maxBeta = "max_beta", mixedPrecision = "mixed_precision"
        case gradientClipNorm = "gradient_clip_norm", augmentFlips = "augment_flips"
        case initSkipBiasToMeanSet = "init_skip_bias_to_mean_set"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
        betaWarmupEpochs = try c.decodeIfPresent(Int.self, forKey: .betaWarmupEpochs) ?? betaWarmupEpochs
        maxBeta = try c.decodeIfPresent(Double.self, forKey: .maxBeta) ?? maxBeta
        mixedPrecision = try c.decodeIfPresent(Bool.self, forKey: .mixedPrecision) ?? mixedPrecision
        gradientClipNorm = try c.decodeIfPresent(Double.self, forKey: .gradientClipNorm)
        augmentFlips = try c.decodeIfPresent(Bool.self, forKey: .augmentFlips) ?? augmentFlips
        initSkipBiasToMeanSet = try c.decodeIfPresent(Bool.self, forKey: .initSkipBiasToMeanSet) ?? initSkipBiasToMeanSet
        try requireValid(batchSize >= 2, .batchSize, in: c,
                         "must be at least 2 (batch norm trains on the statistics of a batch), got \(batchSize)")
        try requireValid(epochs >= 1, .epochs, in: c, "must be at least 1, got \(epochs)")
        try requireValid(learningRate > 0, .learningRate, in: c, "must be positive, got \(learningRate)")
        try requireValid(betaWarmupEpochs >= 0, .betaWarmupEpochs, in: c, "must not be negative, got \(betaWarmupEpochs)")
        try requireValid(maxBeta >= 0, .maxBeta, in: c, "must not be negative, got \(maxBeta)")
        if let gradientClipNorm {
            try requireValid(gradientClipNorm > 0 && gradientClipNorm.isFinite, .gradientClipNorm, in: c,
                             "must be positive (omit the key for no clipping), got \(gradientClipNorm)")
        }
    }
}

// MARK: - Data

/// Where the training sets come from (GaussVAE's `data` group, plus `representation`).
public struct VAEDataConfig: Codable, Equatable {
    /// GaussVAE's folders of per-image `.npz` sets (see `splatkit dataset import-npz`).
    public var trainDir: String?
    public var devDir: String?
    public var testDir: String?
    /// GaussVAE's `normalization_stats.npz`.
    public var statsPath: String?
    /// The number of sets the shuffler draws from.
    public var shuffleBuffer = 1000
    /// plain (GaussVAE's 8 Image-GS columns), canonical (9 columns) or log_covariance (8 columns);
    /// see SetRepresentation.swift.
    public var representation = SetRepresentation.plain

    enum CodingKeys: String, CodingKey {
        case trainDir = "train_dir", devDir = "dev_dir", testDir = "test_dir", statsPath = "stats_path"
        case shuffleBuffer = "shuffle_buffer", representation
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        trainDir = try c.decodeIfPresent(String.self, forKey: .trainDir)
        devDir = try c.decodeIfPresent(String.self, forKey: .devDir)
        testDir = try c.decodeIfPresent(String.self, forKey: .testDir)
        statsPath = try c.decodeIfPresent(String.self, forKey: .statsPath)
        shuffleBuffer = try c.decodeIfPresent(Int.self, forKey: .shuffleBuffer) ?? shuffleBuffer
        representation = try c.decodeIfPresent(SetRepresentation.self, forKey: .representation) ?? representation
        try requireValid(shuffleBuffer >= 1, .shuffleBuffer, in: c, "must be at least 1, got \(shuffleBuffer)")
    }
}

// MARK: - Callbacks

/// Checkpointing, early stopping and learning-rate reduction on plateau (GaussVAE's `callbacks`).
public struct VAECallbacksConfig: Codable, Equatable {
    /// Save a checkpoint every this many epochs.
    public var checkpointEvery = 10
    /// Stop after this many epochs without a better validation loss.
    public var earlyStoppingPatience = 15
    /// Multiply the learning rate by `reduceLRFactor` after this many epochs without improvement…
    public var reduceLRPatience = 5
    public var reduceLRFactor = 0.5
    /// …but never below this.
    public var minLR = 1e-6

    enum CodingKeys: String, CodingKey {
        case checkpointEvery = "checkpoint_every", earlyStoppingPatience = "early_stopping_patience"
        case reduceLRPatience = "reduce_lr_patience", reduceLRFactor = "reduce_lr_factor", minLR = "min_lr"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        earlyStoppingPatience = try c.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience) ?? earlyStoppingPatience
        reduceLRPatience = try c.decodeIfPresent(Int.self, forKey: .reduceLRPatience) ?? reduceLRPatience
        reduceLRFactor = try c.decodeIfPresent(Double.self, forKey: .reduceLRFactor) ?? reduceLRFactor
        minLR = try c.decodeIfPresent(Double.self, forKey: .minLR) ?? minLR
        try requireValid(checkpointEvery >= 1, .checkpointEvery, in: c, "must be at least 1, got \(checkpointEvery)")
        try requireValid(earlyStoppingPatience >= 1, .earlyStoppingPatience, in: c,
                    "must be at least 1, got \(earlyStoppingPatience)")
        try requireValid(reduceLRPatience >= 1, .reduceLRPatience, in: c, "must be at least 1, got \(reduceLRPatience)")
        try requireValid(reduceLRFactor > 0 && reduceLRFactor < 1, .reduceLRFactor, in: c,
                    "must lie in (0, 1), got \(reduceLRFactor)")
        try requireValid(minLR >= 0, .minLR, in: c, "must not be negative, got \(minLR)")
    }
}

// MARK: - Loss weights

/// Weights of the loss terms: GaussVAE's per-group weights of the reconstruction MSE (see
/// `vaeLoss`), and SplatKit's weight of a loss on rendered images.
public struct VAELossWeights: Codable, Equatable {
    public var xy = 1.0
    public var scale = 1.0
    public var rotation = 1.0
    public var colour = 1.0
    /// The weight of the loss between images rendered from the input and the reconstruction
    /// (0 disables rendering in the loss).
    public var render = 0.0
    /// λ of rate + λ·distortion for a model with an entropy model (`model.entropy_model`): the
    /// rate in bits per Gaussian, the distortion the weighted terms above. Unused without one.
    public var rateLambda = 100.0

    enum CodingKeys: String, CodingKey {
        case xy = "xy_weight", scale = "scale_weight", rotation = "rot_weight", colour = "feat_weight"
        case render = "render_loss_weight", rateLambda = "rate_lambda"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.xy, .scale, .rotation, .colour, .render, .rateLambda] {
            guard let value = try c.decodeIfPresent(Double.self, forKey: key) else { continue }
            try requireValid(value >= 0, key, in: c, "must not be negative, got \(value)")
            self[key] = value
        }
    }

    private subscript(key: CodingKeys) -> Double {
        get {
            switch key {
            case .xy: return xy
            case .scale: return scale
            case .rotation: return rotation
            case .colour: return colour
            case .render: return render
            case .rateLambda: return rateLambda
            }
        }
        set {
            switch key {
            case .xy: xy = newValue
            case .scale: scale = newValue
            case .rotation: rotation = newValue
            case .colour: colour = newValue
            case .render: render = newValue
            case .rateLambda: rateLambda = newValue
            }
        }
    }

    /// The group weights in the order of `SetRepresentation.groups` (xy, scale, rotation,
    /// colour), as `vaeLoss` takes them.
    public var groupWeights: [Float] { [xy, scale, rotation, colour].map { Float($0) } }
}

// MARK: - Validation helper

/// Throws a decoding error at `key` (reported as "key 'group.key' (line N): message") unless
/// `condition` holds.
func requireValid<Key: CodingKey>(
    _ condition: Bool, _ key: Key, in container: KeyedDecodingContainer<Key>, _ message: @autoclosure () -> String
) throws {
    if !condition {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message())
    }
}
