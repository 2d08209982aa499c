import Foundation
import GaussianRasterizer
import NeuralNetwork
import SplatIO

// The inpainting configuration file ("2D Gaussian Splatting with Semantic Alignment for Image
// Inpainting", Li, Chen, Li, Lu): the U-Net, its semantic alignment, the Gaussian head and the
// training recipe. Every key is optional; the defaults are a small model that runs on a CPU
// (configs/inpaint_unet.yaml), and configs/inpaint_unet_paper.yaml restores the paper's sizes.
//
//   model
//     base_channels             c, the stem's width; the encoder doubles it three times (paper 64; 16)
//     residual_blocks           semantic-alignment blocks at the bottleneck (paper 9; 2)
//     feature_channels          D, channels of the U-Net's output map = features per Gaussian (12)
//     group_norm_groups         groups of every GroupNorm; must divide c (paper 16; 4)
//     patch_size                P, the side of a rasterizer patch (16)
//     patch_padding             pad, pixels each patch's window reaches past it; ≤ P/2 (4)
//     mask_channel              whether the hole mask is a 4th input channel (true)
//     patch_embedding_channels  C_p, the rank of the Gaussian head's patch embedding (64)
//     mlp_hidden                hidden width of the per-Gaussian decoders (16)
//     cholesky_values           values per Cholesky element l11, l21, l22 (paper 9; 5)
//     cholesky_scale_range      [low, high] px: the geometric grid of l11 and l22 ([0.5, 4])
//     cholesky_shear_limit      px: l21 runs over a symmetric grid in ±limit (2)
//     covariance_epsilon        ε px², added to every Σ so conics stay finite (0.01)
//     offset_range              px: a Gaussian moves at most this far from its grid point (1)
//     hole_fill                 what the network sees in the holes: zero (the paper) | push_pull
//                               (a push-pull diffusion fill of the holes, ClassicalFill.swift, so
//                               the network refines a smooth guess instead of starting from black;
//                               configs/inpaint_unet.yaml and the shipped model use it)
//     residual_over_fill        false | true (needs hole_fill: push_pull): the Gaussians draw a
//                               correction added to the push-pull fill, not the hole itself, and
//                               their colour decoder's output weights start at 1 % of their draw,
//                               so training starts from about the fill (false)
//     semantic_source           learned (a small encoder of the masked image) | precomputed
//                               (per-image features, e.g. DINOv2, given to `predict`)
//     semantic_features         F, the length of the global feature vector (64; paper 768)
//     global_channels           width of the learned global encoder's first conv (16)
//   training
//     learning_rate (2e-4; a cosine schedule's peak), learning_rate_schedule constant | cosine
//     (warm-up from 0 over warmup_steps (0), then down to minimum_learning_rate (0) at the last
//     step), optimizer adamw | adam, weight_decay (0.01), gradient_clip (1, global
//     norm; 0 disables), batch_size, steps, crop_size (128 CPU, 256 paper), ssim_weight (0.2),
//     hole_l1_weight (0: the extra weight of the hole pixels' L1, see InpaintingTrainer.swift),
//     loss_image render | composite (render: L1 and SSIM of the model's whole picture; composite:
//     of the output, whose known pixels are the input's),
//     mask_ratio_start → mask_ratio_end (0.2 → 0.6: the hole-ratio curriculum, see Masks.swift),
//     checkpoint_every (250 steps: last.h5), validation_every (500 steps: scores of the held-out
//     images, best.h5), validation_images (10 held out of the folder), validation_size (256 px
//     centre crops); see InpaintingTrainer.swift
//   seed                        parameter initialisation and data order (0)
//
// Why the CPU dictionary is smaller: each Gaussian's covariance is a softmax over the whole
// dictionary, (cholesky_values³ + 1) logits per Gaussian, and a 256 × 256 image has
// (256/P)²·(P + 2·pad)² = 147 456 Gaussians. With 9 values that is 730 logits each (10⁸ per
// image); with 5 values, 126.
//
// Sizes: the CPU defaults have 1.69 M parameters (U-Net 0.97 M, learned global encoder 0.06 M,
// Gaussian head 0.65 M); the paper config 60.8 M (U-Net 58.2 M, of which the nine 512-channel
// blocks hold 53.1 M; head 2.6 M).
//
// Decoding is strict (SplatIO's `decodeYAMLConfig`): unknown keys, wrong types and values out of
// range are errors naming the key, its line and the file.

/// A whole inpainting configuration file.
public struct InpaintingConfig: Codable, Equatable {
    public var model: InpaintingModelConfig
    public var training: InpaintingTrainingConfig
    /// Seeds parameter initialisation (and, for the training command, crops and masks).
    public var seed: Int

    enum CodingKeys: String, CodingKey { case model, training, seed }

    public init(model: InpaintingModelConfig = InpaintingModelConfig(),
                training: InpaintingTrainingConfig = InpaintingTrainingConfig(), seed: Int = 0) {
        self.model = model
        self.training = training
        self.seed = seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decodeIfPresent(InpaintingModelConfig.self, forKey: .model) ?? InpaintingModelConfig(),
                  training: try c.decodeIfPresent(InpaintingTrainingConfig.self, forKey: .training)
                      ?? InpaintingTrainingConfig(),
                  seed: try c.decodeIfPresent(Int.self, forKey: .seed) ?? 0)
        let counting = ParameterStore(allocating: false)
        _ = InpaintingModel(config: model, store: counting)
        let scalars = counting.parameterCount + counting.bufferCount
        try ensure(scalars <= ParameterStore.maximumScalars, .model, in: c, "describes a model of \(groupedDigits(scalars)) "
                   + "parameters; at most \(groupedDigits(ParameterStore.maximumScalars)) fit in memory")
    }

    /// Reads and validates the YAML file at `path`; errors are `FileError`s naming the file and key.
    public static func load(from path: String) throws -> InpaintingConfig {
        try decodeYAMLConfig(InpaintingConfig.self, from: path)
    }

    /// Decodes and validates YAML text; errors name `sourceName`.
    public static func decode(yaml: String, sourceName: String) throws -> InpaintingConfig {
        try decodeYAMLConfig(InpaintingConfig.self, yaml: yaml, sourceName: sourceName)
    }

    /// `seed` as the store's initialisation seed.
    public var initializationSeed: UInt64 { UInt64(bitPattern: Int64(seed)) }
}

/// What the network's input holds in the holes.
public enum HoleFill: String, Codable, Equatable {
    /// Zeros, as the paper (the mask channel says where).
    case zero
    /// The push-pull diffusion fill of the holes from the known pixels (`pushPullFill`).
    case pushPull = "push_pull"
}

/// Where the global feature vector of the semantic alignment comes from.
public enum SemanticSource: String, Codable, Equatable {
    /// A small convolutional encoder of the masked image, trained with the rest.
    case learned
    /// Per-image features computed elsewhere (the paper's DINO features), passed to `predict`.
    case precomputed
}

// MARK: - Model

/// The architecture: U-Net widths, Gaussian head and covariance dictionary.
public struct InpaintingModelConfig: Codable, Equatable {
    public var baseChannels = 16
    public var residualBlocks = 2
    public var featureChannels = 12
    public var groupNormGroups = 4
    public var patchSize = 16
    public var patchPadding = 4
    public var maskChannel = true
    public var patchEmbeddingChannels = 64
    public var mlpHidden = 16
    public var choleskyValues = 5
    public var choleskyScaleRange: [Double] = [0.5, 4]
    public var choleskyShearLimit = 2.0
    public var covarianceEpsilon = 0.01
    public var offsetRange = 1.0
    public var semanticSource = SemanticSource.learned
    public var holeFill = HoleFill.zero
    public var residualOverFill = false
    /// With `residualOverFill`, the colour decoder's output weights start at this fraction of
    /// their Glorot-uniform draw: a correction of about 1 % at first. (Zero would leave the
    /// decoder's inputs, the U-Net and the Gaussians' shapes and offsets without a gradient,
    /// and a 1,100-step run with zeros stayed at the fill.)
    public static let residualColourGain: Float = 0.01
    public var semanticFeatures = 64
    public var globalChannels = 16

    enum CodingKeys: String, CodingKey {
        case baseChannels = "base_channels", residualBlocks = "residual_blocks", featureChannels = "feature_channels"
        case groupNormGroups = "group_norm_groups", patchSize = "patch_size", patchPadding = "patch_padding"
        case maskChannel = "mask_channel", patchEmbeddingChannels = "patch_embedding_channels", mlpHidden = "mlp_hidden"
        case choleskyValues = "cholesky_values", choleskyScaleRange = "cholesky_scale_range"
        case choleskyShearLimit = "cholesky_shear_limit", covarianceEpsilon = "covariance_epsilon"
        case offsetRange = "offset_range", semanticSource = "semantic_source", semanticFeatures = "semantic_features"
        case holeFill = "hole_fill", residualOverFill = "residual_over_fill"
        case globalChannels = "global_channels"
    }

    /// The CPU-sized defaults.
    public init() {}

    /// The paper's sizes: c = 64, 9 residual blocks, 16 groups, a 9-value Cholesky dictionary,
    /// DINO features (768, DINOv2 ViT-B/14) given by the caller.
    public static var paper: InpaintingModelConfig {
        var config = InpaintingModelConfig()
        config.baseChannels = 64
        config.residualBlocks = 9
        config.groupNormGroups = 16
        config.patchEmbeddingChannels = 256
        config.mlpHidden = 64
        config.choleskyValues = 9
        config.semanticSource = .precomputed
        config.semanticFeatures = 768
        config.globalChannels = 64
        return config
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        baseChannels = try value(.baseChannels, baseChannels)
        residualBlocks = try value(.residualBlocks, residualBlocks)
        featureChannels = try value(.featureChannels, featureChannels)
        groupNormGroups = try value(.groupNormGroups, groupNormGroups)
        patchSize = try value(.patchSize, patchSize)
        patchPadding = try value(.patchPadding, patchPadding)
        maskChannel = try value(.maskChannel, maskChannel)
        patchEmbeddingChannels = try value(.patchEmbeddingChannels, patchEmbeddingChannels)
        mlpHidden = try value(.mlpHidden, mlpHidden)
        choleskyValues = try value(.choleskyValues, choleskyValues)
        choleskyScaleRange = try value(.choleskyScaleRange, choleskyScaleRange)
        choleskyShearLimit = try value(.choleskyShearLimit, choleskyShearLimit)
        covarianceEpsilon = try value(.covarianceEpsilon, covarianceEpsilon)
        offsetRange = try value(.offsetRange, offsetRange)
        semanticSource = try value(.semanticSource, semanticSource)
        holeFill = try value(.holeFill, holeFill)
        residualOverFill = try value(.residualOverFill, residualOverFill)
        semanticFeatures = try value(.semanticFeatures, semanticFeatures)
        globalChannels = try value(.globalChannels, globalChannels)

        // Every width in 1...maximumWidth, so no product of sizes below overflows; the model's
        // parameter count is checked by `InpaintingConfig` on a counting store.
        let widths = 1...ParameterStore.maximumWidth
        for (key, width) in [(CodingKeys.baseChannels, baseChannels), (.featureChannels, featureChannels),
                             (.patchEmbeddingChannels, patchEmbeddingChannels), (.mlpHidden, mlpHidden),
                             (.semanticFeatures, semanticFeatures), (.globalChannels, globalChannels)] {
            try ensure(widths.contains(width), key, in: c, "must be in 1...\(ParameterStore.maximumWidth), got \(width)")
        }
        try ensure((0...Self.maximumResidualBlocks).contains(residualBlocks), .residualBlocks, in: c,
                   "must be in 0...\(Self.maximumResidualBlocks), got \(residualBlocks)")
        try ensure(groupNormGroups >= 1 && baseChannels % groupNormGroups == 0, .groupNormGroups, in: c,
                   "must divide base_channels (\(baseChannels)), got \(groupNormGroups)")
        try ensure((1...Self.maximumPatchSize).contains(patchSize), .patchSize, in: c,
                   "must be in 1...\(Self.maximumPatchSize), got \(patchSize)")
        try ensure(patchPadding >= 0 && 2 * patchPadding <= patchSize, .patchPadding, in: c,
                   "must lie in 0…patch_size/2 (\(patchSize / 2)), got \(patchPadding)")
        try ensure((1...Self.maximumCholeskyValues).contains(choleskyValues), .choleskyValues, in: c,
                   "must be in 1...\(Self.maximumCholeskyValues) (values³ + 1 logits per Gaussian), got \(choleskyValues)")
        try ensure(choleskyScaleRange.count == 2 && choleskyScaleRange[0] > 0 && choleskyScaleRange[0] <= choleskyScaleRange[1],
                   .choleskyScaleRange, in: c, "must be [low, high] with 0 < low ≤ high, got \(choleskyScaleRange)")
        try ensure(choleskyShearLimit >= 0, .choleskyShearLimit, in: c, "must not be negative, got \(choleskyShearLimit)")
        try ensure(covarianceEpsilon > 0, .covarianceEpsilon, in: c, "must be positive, got \(covarianceEpsilon)")
        try ensure(offsetRange >= 0, .offsetRange, in: c, "must not be negative, got \(offsetRange)")
        try ensure(!residualOverFill || holeFill == .pushPull, .residualOverFill, in: c,
                   "needs hole_fill: push_pull (the fill the Gaussians correct), got hole_fill: \(holeFill.rawValue)")
    }

    /// Upper bounds of the depth and patch keys (the widths share `ParameterStore.maximumWidth`).
    public static let maximumResidualBlocks = 256, maximumPatchSize = 1024, maximumCholeskyValues = 32

    /// Input channels of the U-Net: RGB, plus the mask when `maskChannel`.
    public var inputChannels: Int { maskChannel ? 4 : 3 }

    /// The rasterizer's patch geometry.
    public var patchOptions: PatchOptions { PatchOptions(patchSize: patchSize, padding: patchPadding) }

    /// The covariance dictionary these keys describe.
    public var dictionary: CholeskyDictionary {
        CholeskyDictionary(valuesPerElement: choleskyValues,
                           scaleRange: Float(choleskyScaleRange[0])...Float(choleskyScaleRange[1]),
                           shearLimit: Float(choleskyShearLimit))
    }
}

// MARK: - Training

/// The optimiser of the training recipe.
public enum InpaintingOptimizer: String, Codable, Equatable {
    case adam
    case adamw
}

/// How the learning rate moves over training.steps.
public enum InpaintingLearningRateSchedule: String, Codable, Equatable {
    /// learning_rate throughout.
    case constant
    /// Linear warm-up from 0 over warmup_steps, then cosine decay to minimum_learning_rate at
    /// training.steps (NeuralNetwork's `CosineWarmupSchedule`).
    case cosine
}

/// Which picture the training loss compares with the image.
public enum InpaintingLossImage: String, Codable, Equatable {
    /// The model's whole picture (the Gaussians' render, plus the fill with residual_over_fill).
    case render
    /// The output, K ⊙ I + (1 − K) ⊙ render: only the holes' pixels can differ, so the loss
    /// weighs nothing the user never sees.
    case composite
}

/// The training recipe, for the training command.
public struct InpaintingTrainingConfig: Codable, Equatable {
    /// The learning rate (the peak of a cosine schedule).
    public var learningRate = 2e-4
    public var learningRateSchedule = InpaintingLearningRateSchedule.constant
    /// Cosine schedule: steps of linear warm-up from 0 to learning_rate.
    public var warmupSteps = 0
    /// Cosine schedule: the rate reached at training.steps.
    public var minimumLearningRate = 0.0
    public var optimizer = InpaintingOptimizer.adamw
    /// AdamW's decoupled weight decay (ignored by Adam).
    public var weightDecay = 0.01
    /// Maximum global gradient norm; 0 disables clipping.
    public var gradientClip = 1.0
    public var batchSize = 4
    public var steps = 20_000
    /// Side of the square training crops (a multiple of the network's stride).
    public var cropSize = 128
    /// w in L = L1 + w·(1 − SSIM).
    public var ssimWeight = 0.2
    /// h in L = L1 + w·(1 − SSIM) + h·L1_holes: extra weight on the hole pixels' L1.
    public var holeL1Weight = 0.0
    /// The picture L1 and SSIM are taken of.
    public var lossImage = InpaintingLossImage.render
    /// The hole ratio at the start of training…
    public var maskRatioStart = 0.2
    /// …rising linearly to this at the end (`MaskCurriculum`).
    public var maskRatioEnd = 0.6
    /// Write last.h5 every this many steps (and when interrupted or done).
    public var checkpointEvery = 250
    /// Score the held-out images every this many steps (best.h5 keeps the best hole PSNR).
    public var validationEvery = 500
    /// How many images of the folder are held out for validation.
    public var validationImages = 10
    /// Side of the held-out images' centre crops (a multiple of the network's stride).
    public var validationSize = 256

    enum CodingKeys: String, CodingKey {
        case learningRate = "learning_rate", learningRateSchedule = "learning_rate_schedule", warmupSteps = "warmup_steps"
        case minimumLearningRate = "minimum_learning_rate"
        case optimizer, weightDecay = "weight_decay", gradientClip = "gradient_clip"
        case batchSize = "batch_size", steps, cropSize = "crop_size", ssimWeight = "ssim_weight", holeL1Weight = "hole_l1_weight"
        case lossImage = "loss_image"
        case maskRatioStart = "mask_ratio_start", maskRatioEnd = "mask_ratio_end"
        case checkpointEvery = "checkpoint_every", validationEvery = "validation_every"
        case validationImages = "validation_images", validationSize = "validation_size"
    }

    /// The CPU-sized defaults.
    public init() {}

    /// The paper's recipe: 256 × 256 crops, batch 8, 300 000 steps.
    public static var paper: InpaintingTrainingConfig {
        var config = InpaintingTrainingConfig()
        config.batchSize = 8
        config.steps = 300_000
        config.cropSize = 256
        return config
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        learningRate = try value(.learningRate, learningRate)
        learningRateSchedule = try value(.learningRateSchedule, learningRateSchedule)
        warmupSteps = try value(.warmupSteps, warmupSteps)
        minimumLearningRate = try value(.minimumLearningRate, minimumLearningRate)
        optimizer = try value(.optimizer, optimizer)
        weightDecay = try value(.weightDecay, weightDecay)
        gradientClip = try value(.gradientClip, gradientClip)
        batchSize = try value(.batchSize, batchSize)
        steps = try value(.steps, steps)
        cropSize = try value(.cropSize, cropSize)
        ssimWeight = try value(.ssimWeight, ssimWeight)
        holeL1Weight = try value(.holeL1Weight, holeL1Weight)
        lossImage = try value(.lossImage, lossImage)
        maskRatioStart = try value(.maskRatioStart, maskRatioStart)
        maskRatioEnd = try value(.maskRatioEnd, maskRatioEnd)
        checkpointEvery = try value(.checkpointEvery, checkpointEvery)
        validationEvery = try value(.validationEvery, validationEvery)
        validationImages = try value(.validationImages, validationImages)
        validationSize = try value(.validationSize, validationSize)

        try ensure(learningRate > 0, .learningRate, in: c, "must be positive, got \(learningRate)")
        try ensure(warmupSteps >= 0 && warmupSteps < steps, .warmupSteps, in: c,
                   "must lie in [0, steps) = [0, \(steps)), got \(warmupSteps)")
        try ensure(minimumLearningRate >= 0 && minimumLearningRate <= learningRate, .minimumLearningRate, in: c,
                   "must lie in [0, learning_rate] = [0, \(learningRate)], got \(minimumLearningRate)")
        try ensure(weightDecay >= 0, .weightDecay, in: c, "must not be negative, got \(weightDecay)")
        try ensure(gradientClip >= 0, .gradientClip, in: c, "must not be negative, got \(gradientClip)")
        try ensure((1...Self.maximumBatchSize).contains(batchSize), .batchSize, in: c,
                   "must be in 1...\(Self.maximumBatchSize), got \(batchSize)")
        try ensure(steps >= 1, .steps, in: c, "must be at least 1, got \(steps)")
        try ensure((16...Self.maximumSide).contains(cropSize), .cropSize, in: c, "must be in 16...\(Self.maximumSide), got \(cropSize)")
        try ensure(batchSize * cropSize * cropSize <= InpaintingModel.maximumPixels, .batchSize, in: c,
                   "\(batchSize) crops of \(cropSize)² are \(batchSize * cropSize * cropSize) pixels a step; at most "
                   + "\(InpaintingModel.maximumPixels) fit (lower batch_size or crop_size)")
        try ensure(ssimWeight >= 0, .ssimWeight, in: c, "must not be negative, got \(ssimWeight)")
        try ensure(holeL1Weight >= 0, .holeL1Weight, in: c, "must not be negative, got \(holeL1Weight)")
        try ensure(maskRatioStart > 0 && maskRatioStart < 1, .maskRatioStart, in: c,
                   "must lie in (0, 1), got \(maskRatioStart)")
        try ensure(maskRatioEnd >= maskRatioStart && maskRatioEnd < 1, .maskRatioEnd, in: c,
                   "must lie in [mask_ratio_start, 1), got \(maskRatioEnd)")
        try ensure(checkpointEvery >= 1, .checkpointEvery, in: c, "must be at least 1, got \(checkpointEvery)")
        try ensure(validationEvery >= 1, .validationEvery, in: c, "must be at least 1, got \(validationEvery)")
        try ensure(validationImages >= 0, .validationImages, in: c, "must not be negative, got \(validationImages)")
        try ensure((16...Self.maximumSide).contains(validationSize), .validationSize, in: c,
                   "must be in 16...\(Self.maximumSide), got \(validationSize)")
    }

    /// The largest batch, and the largest crop or validation side (the model's image limit).
    public static let maximumBatchSize = 4096, maximumSide = 4096

    /// The learning-rate schedule these keys describe, over `totalSteps` (training.steps, or the
    /// command line's --steps): a pure function of the step, so a resumed run follows it exactly.
    public func learningRates(totalSteps: Int) -> any LearningRateSchedule {
        switch learningRateSchedule {
        case .constant:
            return ConstantSchedule(learningRate: Float(learningRate))
        case .cosine:
            return CosineWarmupSchedule(peakLearningRate: Float(learningRate), warmupSteps: min(warmupSteps, totalSteps - 1),
                                        totalSteps: totalSteps, minimumLearningRate: Float(minimumLearningRate))
        }
    }

    /// The hole-ratio curriculum these keys describe.
    public var maskCurriculum: MaskCurriculum {
        MaskCurriculum(start: Float(maskRatioStart), end: Float(maskRatioEnd))
    }
}

/// Throws a decoding error at `key` (reported with its line and the file) unless `condition`.
private func ensure<Key: CodingKey>(
    _ condition: Bool, _ key: Key, in container: KeyedDecodingContainer<Key>, _ message: @autoclosure () -> String
) throws {
    if !condition {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message())
    }
}
