import Foundation
import GaussianData
import NeuralNetwork

// The `model` group of a VAE configuration: GaussVAE's architecture keys, resolved to one value
// per block at decoding time so that the model builder never guesses.
//
// Keys (GaussVAE's names; SplatKit's extensions marked *):
//   name                    a label (GaussVAE: "conv1d")
//   architecture*           conv1d | resnet_conv1d; absent → resnet_conv1d when `name` starts
//                           with "resnet", else conv1d (GaussVAE chose by training script)
//   latent_dim              L (GaussVAE: 256)
//   num_gaussians*          N, the set size (512)
//   encoder_filters         per encoder block (GaussVAE: [32, 64, 128])
//   encoder_kernel_sizes    per encoder block, odd (5 each)
//   encoder_pool_sizes      per encoder block: max-pool size, or null for the global pool that
//                           must end the encoder (2 each, last null)
//   encoder_global_pool*    that global pool: average (GaussVAE's GlobalAveragePool1D, the
//                           default) or flatten (every step's channels kept: the bridge reads
//                           channels × steps features; see VAEEncoderGlobalPool)
//   encoder_dropout_rates   per encoder block; `dropout_rates` is GaussVAE's older spelling, used
//                           when encoder_dropout_rates is absent (conv1d: [0.1, 0.15, 0.2];
//                           resnet_conv1d: 0 each)
//   encoder_dense_units     the dense bridge before the latent heads (conv1d 512, resnet 1024)
//   encoder_dense_dropout   after the bridge (conv1d 0.2, resnet 0)
//   encoder_linear_skip*    false (GaussVAE) or true: a Linear(N·P → L) from the whole input set
//                           straight to z_mean, added to the head's output (see GaussianSetVAE)
//   decoder_dense_units     dense layers from the latent (conv1d [512, 2048], resnet [1024, 4096])
//   decoder_reshape_target  [steps, channels]; steps·channels = the last dense width
//                           (conv1d [128, 16], resnet [8, 512])
//   decoder_filters         per decoder block (GaussVAE: [64, 32, 16])
//   decoder_kernel_sizes    per decoder block, odd (5 each)
//   decoder_upsample_sizes  per decoder block: upsampling factor or null (2 each, last null)
//   decoder_dropout_rates   per decoder block (0 each; conv1d blocks get a dropout layer only
//                           when the rate is positive, as GaussVAE's conv1d decoder has none)
//   decoder_linear_skip*    false (GaussVAE) or true: a Linear(L → N·P) from the latent straight
//                           to every Gaussian's parameters, added to the decoder's output (see
//                           GaussianSetVAE)
//   entropy_model*          none (a VAE, GaussVAE's), factorized (the latent is quantised and
//                           coded with a learned factorised prior) or hyperprior (a scale
//                           hyperprior: side information predicts each latent's scale), trained
//                           for rate + λ·distortion (VAEEntropyModel; λ is loss_weights.rate_lambda)
//   hyperprior_side_dim*    Z, the hyperprior's side latent (64)
//   straight_through_rounding* with an entropy model: false (the decoder sees ŷ = μ + u in training,
//                           as the rate does) or true (it sees round(μ), the gradient passing
//                           straight through; the rate keeps μ + u)
//   hyperprior_hidden_units* H, its analysis and synthesis networks' hidden width (256)
//   linear_skip_columns*    the columns (of the data's representation) the linear skips read and
//                           write, ascending; absent: every column. A fixed layout varies only
//                           in its colours ([5, 6, 7] in log_covariance), and skips over those
//                           columns alone are 3/8 of the size (the decoder's other columns come
//                           from its blocks and a learned per-Gaussian set bias)
//   tie_linear_skips*       false or true (with both skips): the encoder's skip is the decoder's
//                           weight transposed, Wᵀ, plus its own bias (a tied linear autoencoder,
//                           PCA's form), so the pair costs one N·K × L matrix
// The defaults are GaussVAE's: its ModelConfig for the filters and dropout_rates, its Conv1D
// builder's for conv1d and its ResNet trainer's for resnet_conv1d.

/// Which block the encoder and decoder stack.
public enum VAEArchitecture: String, Codable, Equatable {
    /// Conv1D → BN → ELU → Dropout per block (GaussVAE's baseline).
    case conv1d
    /// A residual block per block (`ResidualBlock1D`: two k-convolutions with BN, a 1×1
    /// projection without BN when the width changes, ELU after the sum).
    case resnetConv1D = "resnet_conv1d"
}

/// What ends the encoder's last block (the one whose pool size is null), feeding the dense
/// bridge. SplatKit's extension: GaussVAE always averages, which leaves the bridge one number
/// per channel for the whole set, so per-Gaussian detail must survive an average over steps.
public enum VAEEncoderGlobalPool: String, Codable, CaseIterable, StrictlyDecodedChoice {
    /// GlobalAveragePool1D: (B, C, S) → (B, C).
    case average
    /// Flatten in Keras's channels-last order, as Keras's Flatten after a Conv1D would:
    /// (B, C, S) → (B, S, C) → (B, S·C), so element [b, s·C + c] is feature [b, c, s] (the
    /// inverse of the decoder's reshape). The same order for both architectures.
    case flatten
}

/// What the latent is coded with (SplatKit's, issue 21). With an entropy model the encoder's
/// mean is the latent: it is quantised (uniform noise in training, rounding at inference),
/// its rate −log2 P(ŷ) is part of the objective, and there is no KL term (no sampling).
public enum VAEEntropyModel: String, Codable, CaseIterable, StrictlyDecodedChoice {
    /// A plain VAE: z sampled from the posterior, KL to a standard normal.
    case none
    /// Ballé's factorised prior over the quantised latent (LatentCoding's FactorizedPrior).
    case factorized
    /// Ballé's scale hyperprior (LatentCoding's ScaleHyperprior).
    case hyperprior
}

/// A choice among named values in a config file: an unknown name is a decoding error that lists
/// the known ones.
public protocol StrictlyDecodedChoice: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension StrictlyDecodedChoice {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: " or ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be \(known), got '\(text)'")
        }
        self = value
    }
}

/// The architecture of a Gaussian-set VAE, every list resolved to one entry per block.
public struct VAEModelConfig: Codable, Equatable {
    public var name: String
    public var architecture: VAEArchitecture
    public var latentDim: Int
    public var numGaussians: Int
    public var encoderFilters: [Int]
    public var encoderKernelSizes: [Int]
    /// nil only for the last block: the global pool, `encoderGlobalPool`.
    public var encoderPoolSizes: [Int?]
    public var encoderGlobalPool: VAEEncoderGlobalPool
    public var encoderDropoutRates: [Double]
    public var encoderDenseUnits: Int
    public var encoderDenseDropout: Double
    /// SplatKit's extension: add a linear map of the whole set to the latent mean.
    public var encoderLinearSkip: Bool
    public var decoderDenseUnits: [Int]
    /// [steps, channels], Keras's channels-last reshape target.
    public var decoderReshapeTarget: [Int]
    public var decoderFilters: [Int]
    public var decoderKernelSizes: [Int]
    /// nil: no upsampling after that block.
    public var decoderUpsampleSizes: [Int?]
    public var decoderDropoutRates: [Double]
    /// SplatKit's extension: add a linear read-out of the latent for every Gaussian.
    public var decoderLinearSkip: Bool
    public var entropyModel: VAEEntropyModel
    /// Z and H of the scale hyperprior (used with entropy_model: hyperprior).
    public var hyperpriorSideDim: Int
    public var hyperpriorHiddenUnits: Int
    /// With an entropy model: the decoder sees round(μ) in training (straight-through gradient).
    public var straightThroughRounding: Bool
    /// The columns the linear skips read and write, ascending; nil: every column.
    public var linearSkipColumns: [Int]?
    /// The encoder's skip reuses the decoder's weight, transposed.
    public var tieLinearSkips: Bool

    enum CodingKeys: String, CodingKey {
        case name, architecture, latentDim = "latent_dim", numGaussians = "num_gaussians"
        case encoderFilters = "encoder_filters", encoderKernelSizes = "encoder_kernel_sizes"
        case encoderPoolSizes = "encoder_pool_sizes", encoderGlobalPool = "encoder_global_pool"
        case encoderDropoutRates = "encoder_dropout_rates"
        case encoderDenseUnits = "encoder_dense_units", encoderDenseDropout = "encoder_dense_dropout"
        case encoderLinearSkip = "encoder_linear_skip"
        case decoderDenseUnits = "decoder_dense_units", decoderReshapeTarget = "decoder_reshape_target"
        case decoderFilters = "decoder_filters", decoderKernelSizes = "decoder_kernel_sizes"
        case decoderUpsampleSizes = "decoder_upsample_sizes", decoderDropoutRates = "decoder_dropout_rates"
        case decoderLinearSkip = "decoder_linear_skip", entropyModel = "entropy_model"
        case hyperpriorSideDim = "hyperprior_side_dim", hyperpriorHiddenUnits = "hyperprior_hidden_units"
        case straightThroughRounding = "straight_through_rounding", linearSkipColumns = "linear_skip_columns"
        case tieLinearSkips = "tie_linear_skips"
    }

    /// Keys read but not stored: GaussVAE's older spelling of encoder_dropout_rates.
    private enum AliasKeys: String, CodingKey { case dropoutRates = "dropout_rates" }

    /// A configuration with GaussVAE's defaults for every argument left nil (see the top of
    /// this file). Check `validationProblems` before building a model from it.
    public init(
        architecture: VAEArchitecture = .conv1d, name: String? = nil, latentDim: Int = 256, numGaussians: Int = 512,
        encoderFilters: [Int] = [32, 64, 128], encoderKernelSizes: [Int]? = nil, encoderPoolSizes: [Int?]? = nil,
        encoderGlobalPool: VAEEncoderGlobalPool = .average, encoderDropoutRates: [Double]? = nil, encoderDenseUnits: Int? = nil, encoderDenseDropout: Double? = nil,
        encoderLinearSkip: Bool = false,
        decoderDenseUnits: [Int]? = nil, decoderReshapeTarget: [Int]? = nil,
        decoderFilters: [Int] = [64, 32, 16], decoderKernelSizes: [Int]? = nil, decoderUpsampleSizes: [Int?]? = nil,
        decoderDropoutRates: [Double]? = nil, decoderLinearSkip: Bool = false, entropyModel: VAEEntropyModel = .none,
        hyperpriorSideDim: Int = 64, hyperpriorHiddenUnits: Int = 256, straightThroughRounding: Bool = false,
        linearSkipColumns: [Int]? = nil, tieLinearSkips: Bool = false
    ) {
        let isResNet = architecture == .resnetConv1D
        func resampling(_ count: Int) -> [Int?] { Array(repeating: 2, count: max(count - 1, 0)) + [nil] }
        self.name = name ?? architecture.rawValue
        self.architecture = architecture
        self.latentDim = latentDim
        self.numGaussians = numGaussians
        self.encoderFilters = encoderFilters
        self.encoderKernelSizes = encoderKernelSizes ?? Array(repeating: 5, count: encoderFilters.count)
        self.encoderPoolSizes = encoderPoolSizes ?? resampling(encoderFilters.count)
        self.encoderGlobalPool = encoderGlobalPool
        self.encoderDropoutRates = encoderDropoutRates
            ?? (isResNet ? Array(repeating: 0, count: encoderFilters.count) : [0.1, 0.15, 0.2])
        self.encoderDenseUnits = encoderDenseUnits ?? (isResNet ? 1024 : 512)
        self.encoderDenseDropout = encoderDenseDropout ?? (isResNet ? 0 : 0.2)
        self.encoderLinearSkip = encoderLinearSkip
        self.decoderDenseUnits = decoderDenseUnits ?? (isResNet ? [1024, 4096] : [512, 2048])
        self.decoderReshapeTarget = decoderReshapeTarget ?? (isResNet ? [8, 512] : [128, 16])
        self.decoderFilters = decoderFilters
        self.decoderKernelSizes = decoderKernelSizes ?? Array(repeating: 5, count: decoderFilters.count)
        self.decoderUpsampleSizes = decoderUpsampleSizes ?? resampling(decoderFilters.count)
        self.decoderDropoutRates = decoderDropoutRates ?? Array(repeating: 0, count: decoderFilters.count)
        self.decoderLinearSkip = decoderLinearSkip
        self.entropyModel = entropyModel
        self.hyperpriorSideDim = hyperpriorSideDim
        self.hyperpriorHiddenUnits = hyperpriorHiddenUnits
        self.straightThroughRounding = straightThroughRounding
        self.linearSkipColumns = linearSkipColumns
        self.tieLinearSkips = tieLinearSkips
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let alias = try decoder.container(keyedBy: AliasKeys.self)
        let name = try c.decodeIfPresent(String.self, forKey: .name)
        let architecture = try c.decodeIfPresent(VAEArchitecture.self, forKey: .architecture)
            ?? ((name ?? "").lowercased().hasPrefix("resnet") ? .resnetConv1D : .conv1d)
        let encoderDropout = try c.decodeIfPresent([Double].self, forKey: .encoderDropoutRates)
        let olderDropout = try alias.decodeIfPresent([Double].self, forKey: .dropoutRates)
        self.init(
            architecture: architecture, name: name,
            latentDim: try c.decodeIfPresent(Int.self, forKey: .latentDim) ?? 256,
            numGaussians: try c.decodeIfPresent(Int.self, forKey: .numGaussians) ?? 512,
            encoderFilters: try c.decodeIfPresent([Int].self, forKey: .encoderFilters) ?? [32, 64, 128],
            encoderKernelSizes: try c.decodeIfPresent([Int].self, forKey: .encoderKernelSizes),
            encoderPoolSizes: try c.decodeIfPresent([Int?].self, forKey: .encoderPoolSizes),
            encoderGlobalPool: try c.decodeIfPresent(VAEEncoderGlobalPool.self, forKey: .encoderGlobalPool) ?? .average,
            encoderDropoutRates: encoderDropout ?? olderDropout,
            encoderDenseUnits: try c.decodeIfPresent(Int.self, forKey: .encoderDenseUnits),
            encoderDenseDropout: try c.decodeIfPresent(Double.self, forKey: .encoderDenseDropout),
            encoderLinearSkip: try c.decodeIfPresent(Bool.self, forKey: .encoderLinearSkip) ?? false,
            decoderDenseUnits: try c.decodeIfPresent([Int].self, forKey: .decoderDenseUnits),
            decoderReshapeTarget: try c.decodeIfPresent([Int].self, forKey: .decoderReshapeTarget),
            decoderFilters: try c.decodeIfPresent([Int].self, forKey: .decoderFilters) ?? [64, 32, 16],
            decoderKernelSizes: try c.decodeIfPresent([Int].self, forKey: .decoderKernelSizes),
            decoderUpsampleSizes: try c.decodeIfPresent([Int?].self, forKey: .decoderUpsampleSizes),
            decoderDropoutRates: try c.decodeIfPresent([Double].self, forKey: .decoderDropoutRates),
            decoderLinearSkip: try c.decodeIfPresent(Bool.self, forKey: .decoderLinearSkip) ?? false,
            entropyModel: try c.decodeIfPresent(VAEEntropyModel.self, forKey: .entropyModel) ?? .none,
            hyperpriorSideDim: try c.decodeIfPresent(Int.self, forKey: .hyperpriorSideDim) ?? 64,
            hyperpriorHiddenUnits: try c.decodeIfPresent(Int.self, forKey: .hyperpriorHiddenUnits) ?? 256,
            straightThroughRounding: try c.decodeIfPresent(Bool.self, forKey: .straightThroughRounding) ?? false,
            linearSkipColumns: try c.decodeIfPresent([Int].self, forKey: .linearSkipColumns),
            tieLinearSkips: try c.decodeIfPresent(Bool.self, forKey: .tieLinearSkips) ?? false)
        if let problem = problems().first {
            if problem.key == .encoderDropoutRates, encoderDropout == nil, olderDropout != nil {
                throw DecodingError.dataCorruptedError(forKey: .dropoutRates, in: alias, debugDescription: problem.message)
            }
            throw DecodingError.dataCorruptedError(forKey: problem.key, in: c, debugDescription: problem.message)
        }
    }

    /// What is inconsistent, as "key: reason" lines (empty when the configuration can be built).
    public var validationProblems: [String] { problems().map { "\($0.key.stringValue): \($0.message)" } }

    /// The largest width (latent_dim, filters, dense units, reshape channels) a config may ask for.
    public static let maximumWidth = ParameterStore.maximumWidth
    /// The largest kernel size.
    public static let maximumKernelSize = 1025

    /// The columns the linear skips read and write for sets of `columns` parameters per Gaussian.
    public func skipColumns(of columns: Int) -> [Int] { linearSkipColumns ?? Array(0..<columns) }

    /// The per-sample sequence length after the encoder's max pools (floor division, as Keras's
    /// 'valid' pooling), before the global pool; pools below 1 count as 1 (they are invalid).
    public var encodedLength: Int {
        encoderPoolSizes.reduce(numGaussians) { length, pool in pool.map { length / Swift.max($0, 1) } ?? length }
    }

    /// The width of the encoder's features after the global pool, the dense bridge's input:
    /// the last block's channels, times `encodedLength` when flattened.
    public var encodedWidth: Int {
        let channels = encoderFilters.last ?? 0
        switch encoderGlobalPool {
        case .average: return channels
        case .flatten: return channels * encodedLength
        }
    }

    /// The decoder's output length: reshape steps times every upsampling factor (nil when the
    /// product overflows).
    public var decodedLength: Int? {
        decoderUpsampleSizes.reduce(decoderReshapeTarget.first ?? 0) { length, scale in
            length.flatMap { value in
                let (product, overflow) = value.multipliedReportingOverflow(by: scale ?? 1)
                return overflow ? nil : product
            }
        }
    }

    private func problems() -> [(key: CodingKeys, message: String)] {
        var found: [(key: CodingKeys, message: String)] = []
        func check(_ condition: Bool, _ key: CodingKeys, _ message: @autoclosure () -> String) {
            if !condition { found.append((key, message())) }
        }
        func perBlock<T>(_ values: [T], _ key: CodingKeys, filters: [Int], filtersKey: CodingKeys) -> Bool {
            check(values.count == filters.count, key,
                  "has \(values.count) entries but \(filtersKey.stringValue) has \(filters.count); give one per block")
            return values.count == filters.count
        }
        func listed(_ sizes: [Int?]) -> String { "[" + sizes.map { $0.map(String.init) ?? "null" }.joined(separator: ", ") + "]" }
        let oddKernel = "must be odd (Keras 'same' padding is symmetric only for odd kernels)"

        let widths = 1...Self.maximumWidth, setSizes = 1...GaussianDatasetFile.maximumSetSize
        let kernels = 1...Self.maximumKernelSize
        check(widths.contains(latentDim), .latentDim, "must be in 1...\(Self.maximumWidth), got \(latentDim)")
        check(widths.contains(hyperpriorSideDim), .hyperpriorSideDim, "must be in 1...\(Self.maximumWidth), got \(hyperpriorSideDim)")
        check(widths.contains(hyperpriorHiddenUnits), .hyperpriorHiddenUnits,
              "must be in 1...\(Self.maximumWidth), got \(hyperpriorHiddenUnits)")
        check(setSizes.contains(numGaussians), .numGaussians,
              "must be in 1...\(GaussianDatasetFile.maximumSetSize), got \(numGaussians)")

        check(!encoderFilters.isEmpty && encoderFilters.allSatisfy { widths.contains($0) }, .encoderFilters,
              "must list at least one width in 1...\(Self.maximumWidth), got \(encoderFilters)")
        if perBlock(encoderKernelSizes, .encoderKernelSizes, filters: encoderFilters, filtersKey: .encoderFilters) {
            check(encoderKernelSizes.allSatisfy { kernels.contains($0) && $0 % 2 == 1 }, .encoderKernelSizes,
                  "\(oddKernel) and at most \(Self.maximumKernelSize), got \(encoderKernelSizes)")
        }
        if perBlock(encoderPoolSizes, .encoderPoolSizes, filters: encoderFilters, filtersKey: .encoderFilters) {
            let pools = encoderPoolSizes
            let wellFormed = pools.last.map { $0 == nil } ?? true && pools.dropLast().allSatisfy { setSizes.contains($0 ?? 0) }
            check(wellFormed, .encoderPoolSizes, "must be sizes in 1...\(GaussianDatasetFile.maximumSetSize) with null "
                  + "(the global pool) last and only last, got \(listed(pools))")
            if wellFormed {
                check(encodedLength >= 1, .encoderPoolSizes,
                      "pools \(numGaussians) Gaussians down to nothing (length \(encodedLength))")
            }
        }
        if perBlock(encoderDropoutRates, .encoderDropoutRates, filters: encoderFilters, filtersKey: .encoderFilters) {
            check(encoderDropoutRates.allSatisfy { $0 >= 0 && $0 < 1 }, .encoderDropoutRates,
                  "rates must lie in [0, 1), got \(encoderDropoutRates)")
        }
        check(widths.contains(encoderDenseUnits), .encoderDenseUnits,
              "must be in 1...\(Self.maximumWidth), got \(encoderDenseUnits)")
        check(encoderDenseDropout >= 0 && encoderDenseDropout < 1, .encoderDenseDropout,
              "must lie in [0, 1), got \(encoderDenseDropout)")

        check(!decoderDenseUnits.isEmpty && decoderDenseUnits.allSatisfy { widths.contains($0) }, .decoderDenseUnits,
              "must list at least one width in 1...\(Self.maximumWidth), got \(decoderDenseUnits)")
        let target = decoderReshapeTarget
        let targetValid = target.count == 2 && setSizes.contains(target[0]) && widths.contains(target[1])
        check(targetValid, .decoderReshapeTarget, "must be [steps, channels], steps in 1..."
              + "\(GaussianDatasetFile.maximumSetSize) and channels in 1...\(Self.maximumWidth), got \(target)")
        if targetValid, let last = decoderDenseUnits.last {
            check(target[0] * target[1] == last, .decoderReshapeTarget,
                  "\(target[0]) × \(target[1]) = \(target[0] * target[1]) must equal the last decoder_dense_units \(last)")
        }
        check(!decoderFilters.isEmpty && decoderFilters.allSatisfy { widths.contains($0) }, .decoderFilters,
              "must list at least one width in 1...\(Self.maximumWidth), got \(decoderFilters)")
        if perBlock(decoderKernelSizes, .decoderKernelSizes, filters: decoderFilters, filtersKey: .decoderFilters) {
            check(decoderKernelSizes.allSatisfy { kernels.contains($0) && $0 % 2 == 1 }, .decoderKernelSizes,
                  "\(oddKernel) and at most \(Self.maximumKernelSize), got \(decoderKernelSizes)")
        }
        if perBlock(decoderUpsampleSizes, .decoderUpsampleSizes, filters: decoderFilters, filtersKey: .decoderFilters) {
            let upsamplingValid = decoderUpsampleSizes.allSatisfy { setSizes.contains($0 ?? 1) }
            check(upsamplingValid, .decoderUpsampleSizes, "sizes must be in 1...\(GaussianDatasetFile.maximumSetSize) "
                  + "or null, got \(listed(decoderUpsampleSizes))")
            if targetValid && upsamplingValid {
                check(decodedLength == numGaussians, .decoderUpsampleSizes,
                      "upsample \(target[0]) steps to \(decodedLength.map(String.init) ?? "more than \(Int.max)"), but the "
                      + "model outputs num_gaussians = \(numGaussians); change decoder_reshape_target or the upsample sizes")
            }
        }
        if perBlock(decoderDropoutRates, .decoderDropoutRates, filters: decoderFilters, filtersKey: .decoderFilters) {
            check(decoderDropoutRates.allSatisfy { $0 >= 0 && $0 < 1 }, .decoderDropoutRates,
                  "rates must lie in [0, 1), got \(decoderDropoutRates)")
        }
        if let skipColumns = linearSkipColumns {
            let ascending = zip(skipColumns, skipColumns.dropFirst()).allSatisfy { $0 < $1 }
            check(!skipColumns.isEmpty && ascending && skipColumns.allSatisfy { (0..<SetRepresentation.maximumColumns).contains($0) },
                  .linearSkipColumns, "must list column indices in 0..<\(SetRepresentation.maximumColumns), ascending and "
                  + "without repeats, got \(skipColumns)")
        }
        check(!tieLinearSkips || (encoderLinearSkip && decoderLinearSkip), .tieLinearSkips,
              "needs both linear skips (encoder_linear_skip: true and decoder_linear_skip: true)")
        return found
    }
}
