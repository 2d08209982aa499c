import LatentCoding
import NeuralNetwork
import TensorCore

// GaussVAE's two architectures, built by one builder from a `VAEModelConfig`.
//
// Shape letters: B batch, N Gaussians, P parameters per Gaussian (8, or 9 canonical),
// C channels, S sequence length, L latent dimensions.
// Layout: the data is (B, N, P); the convolutions are NCL, so the encoder starts by swapping
// to (B, P, N) and the decoder ends by swapping back.
//
// Encoder, per block i:   conv1d          Conv1D(f_i, k_i, same) → BN → ELU → Dropout(r_i)
//                         resnet_conv1d   ResidualBlock1D(f_i, k_i, dropout r_i)
//                         then MaxPool1D(p_i), or for the last block the global pool
//                         (encoder_global_pool): GlobalAveragePool1D (B, C, S) → (B, C), or
//                         flatten channels-last as Keras's Flatten: (B, C, S) → (B, S, C) →
//                         (B, S·C), element [b, s·C + c] = [b, c, s] (both architectures)
//                 bridge: Linear(encoder_dense_units) → ELU → BN → Dropout
//                 heads:  z_mean = Linear(L), z_log_var = Linear(L), both linear
//                 skip (encoder_linear_skip, SplatKit's): z_mean += Linear(N·P → L) of the
//                         input set flattened (B, N·P), element [b, n·P + p]. With the
//                         decoder's skip the model holds a rank-L PCA (linear encoder and
//                         decoder) as a special case; the blocks add what is nonlinear.
// Decoder:        dense:  per width d_j: Linear(d_j) → ELU → BN
//                 reshape (B, S·C) → (B, S, C) as Keras does (channels-last, so element
//                         [b, s, c] is input [b, s·C + c]), then swap to NCL (B, C, S)
//                 blocks: as the encoder's (conv1d blocks drop the dropout at rate 0, as
//                         GaussVAE's conv1d decoder has none), then UpSampling1D(u_j) if given
//                 output: Conv1D(P, k1), linear; swap to (B, N, P)
//                 skip (decoder_linear_skip, SplatKit's): + Linear(L → N·P)(z) reshaped to
//                         (B, N, P). The blocks build each Gaussian from upsampled, convolved
//                         features shared with its neighbours; the skip gives every Gaussian its
//                         own linear read-out of z (what a rank-L PCA decoder has), and the
//                         blocks add what is nonlinear.
// Skip columns (linear_skip_columns, SplatKit's): with K of the P columns listed, the encoder's
//                         skip reads only those, Linear(N·K → L) of (B, N, K), and the decoder's
//                         writes only those, Linear(L → N·K) scattered into (B, N, P) with zeros
//                         elsewhere (a gather over the K columns and one zero column); a learned
//                         (N, P) set bias, decoder.set_bias, then gives every Gaussian its own
//                         constant in every column, as the whole skip's bias does.
// Tied skips (tie_linear_skips, SplatKit's): the encoder's skip is x·Wᵀ + b_e with W (L, N·K) the
//                         decoder skip's weight and b_e (L) its own, encoder.linear_skip.bias.
// Convolutions and dense layers have biases; kernels are Glorot uniform, biases zero; batch
// norm follows Keras (momentum 0.99, ε 1e-3), as GaussVAE's layers do. The residual block's
// 1×1 projection has a bias and no batch norm (GaussVAE's `residual_block_1d`).
//
// Parameter names: encoder.blocks.{i}.{conv,bn} (conv1d) or encoder.blocks.{i}.{conv1,bn1,
// conv2,bn2,projection} (resnet_conv1d), encoder.dense.{linear,bn}, encoder.z_mean,
// encoder.z_log_var, encoder.linear_skip, decoder.dense.{j}.{linear,bn}, decoder.blocks.{i}.…,
// decoder.output, decoder.linear_skip, decoder.set_bias (with skip columns); with an entropy
// model, entropy_model: factorized's density entropy.prior.{matrices,biases,factors}.{k}, or
// hyperprior's entropy.hyperprior.{analysis,synthesis}.{0,1}.{weight,bias} and
// entropy.hyperprior.side_prior.….

/// A Conv1D or ResNet Conv1D VAE over (B, N, P) Gaussian sets.
public final class GaussianSetVAE: VAEModel {
    public let configuration: VAEModelConfig
    public let store: ParameterStore
    /// (B, N, P) → (B, encoder_dense_units): blocks, pools, the global pool and the dense bridge.
    let encoderTrunk: Sequential
    let meanHead: Linear
    let logVarianceHead: Linear
    /// (B, N·K) → (B, L), added to z_mean, when `encoder_linear_skip` is on (and not tied).
    let encoderSkip: Linear?
    /// b_e (L) of the tied encoder skip, with `tie_linear_skips`.
    let tiedSkipBias: Tensor?
    /// The K columns the skips read and write, ascending (every column unless
    /// `linear_skip_columns` lists some).
    public let skipColumns: [Int]
    /// For each of the P output columns, the skip column it reads, or K (the zero column) when
    /// the decoder's skip does not write it; nil when K = P.
    private let skipScatter: [Int]?
    /// (B, L) → (B, N, P).
    let decoderStack: Sequential
    /// (B, L) → (B, N·K), when `decoder_linear_skip` is on.
    let decoderSkip: Linear?
    /// (N, P), added to the decoder's output when its skip writes only some columns.
    let decoderSetBias: Tensor?
    /// What codes the quantised latent, with `entropy_model` other than none.
    public let entropyModel: LatentEntropyModel?
    public var straightThroughRounding: Bool { configuration.straightThroughRounding }
    private let summaryRows: [ModelSummary.Row]

    public var latentDimensions: Int { configuration.latentDim }
    public var gaussianCount: Int { configuration.numGaussians }
    public let columnCount: Int

    /// - Parameter columns: P, the parameters per Gaussian (`SetRepresentation.columns`).
    public init(configuration: VAEModelConfig, columns: Int = 8, store: ParameterStore) {
        precondition(columns >= 1, "GaussianSetVAE: columns \(columns) must be positive")
        let problems = configuration.validationProblems
        precondition(problems.isEmpty, "GaussianSetVAE: invalid configuration: \(problems.joined(separator: "; "))")
        self.configuration = configuration
        self.columnCount = columns
        let skipColumns = configuration.skipColumns(of: columns)
        precondition(skipColumns.allSatisfy { $0 < columns },
                     "GaussianSetVAE: linear_skip_columns \(skipColumns) for \(columns) columns")
        self.skipColumns = skipColumns
        skipScatter = skipColumns.count == columns ? nil
            : (0..<columns).map { skipColumns.firstIndex(of: $0) ?? skipColumns.count }
        self.store = store
        let c = configuration
        let recorder = SummaryRecorder(store: store)
        let encoder = store.scope("encoder"), decoder = store.scope("decoder")

        // Encoder: (B, N, P) → (B, P, N) → blocks → (B, C) or (B, S·C) → bridge.
        var trunk = [Layer]()
        func add(_ layers: inout [Layer], _ layer: Layer, _ name: String, _ kind: String, _ shape: [Int]) {
            layers.append(layer)
            recorder.record(name, kind, shape)
        }
        var channels = columns, length = c.numGaussians
        add(&trunk, SwapAxes(), "encoder.input", "swap to NCL", [channels, length])
        for block in c.encoderFilters.indices {
            let scope = encoder.scope("blocks").scope(block)
            let width = c.encoderFilters[block], kernel = c.encoderKernelSizes[block]
            let rate = Float(c.encoderDropoutRates[block])
            Self.appendBlock(c.architecture, to: &trunk, from: channels, to: width, kernel: kernel, dropout: rate,
                             alwaysDropout: true, length: length, scope: scope, recorder: recorder)
            channels = width
            if let pool = c.encoderPoolSizes[block] {
                length /= pool
                add(&trunk, MaxPool1D(kernelSize: pool), scope.path("pool"), "MaxPool1D(\(pool))", [channels, length])
            } else {
                switch c.encoderGlobalPool {
                case .average:
                    add(&trunk, GlobalAveragePool1D(), scope.path("pool"), "GlobalAveragePool1D", [channels])
                case .flatten:
                    add(&trunk, Sequential(SwapAxes(), Flatten()), scope.path("flatten"),
                        "Flatten (steps, channels)", [length * channels])
                }
            }
        }
        let bridge = encoder.scope("dense"), features = c.encodedWidth
        add(&trunk, Linear(features, c.encoderDenseUnits, scope: bridge.scope("linear")), bridge.path("linear"),
            "Linear(\(features) → \(c.encoderDenseUnits))", [c.encoderDenseUnits])
        add(&trunk, ELU(), bridge.path("elu"), "ELU", [c.encoderDenseUnits])
        add(&trunk, BatchNorm1D(featureCount: c.encoderDenseUnits, convention: .keras, scope: bridge.scope("bn")),
            bridge.path("bn"), "BatchNorm1D(\(c.encoderDenseUnits))", [c.encoderDenseUnits])
        add(&trunk, Dropout(rate: Float(c.encoderDenseDropout), scope: bridge), bridge.path("dropout"),
            "Dropout(\(c.encoderDenseDropout))", [c.encoderDenseUnits])
        encoderTrunk = Sequential(trunk)
        meanHead = Linear(c.encoderDenseUnits, c.latentDim, scope: encoder.scope("z_mean"))
        recorder.record("encoder.z_mean", "Linear(\(c.encoderDenseUnits) → \(c.latentDim))", [c.latentDim])
        logVarianceHead = Linear(c.encoderDenseUnits, c.latentDim, scope: encoder.scope("z_log_var"))
        recorder.record("encoder.z_log_var", "Linear(\(c.encoderDenseUnits) → \(c.latentDim))", [c.latentDim])
        let skipWidth = skipColumns.count  // K
        if c.tieLinearSkips {
            encoderSkip = nil
            tiedSkipBias = encoder.scope("linear_skip").parameter("bias", shape: [c.latentDim], initializer: .zeros)
            recorder.record("encoder.linear_skip", "x·Wᵀ + b (W the decoder skip's, tied), added to z_mean", [c.latentDim])
        } else if c.encoderLinearSkip {
            tiedSkipBias = nil
            let inputs = c.numGaussians * skipWidth
            encoderSkip = Linear(inputs, c.latentDim, scope: encoder.scope("linear_skip"))
            recorder.record("encoder.linear_skip", "Linear(\(inputs) → \(c.latentDim)), added to z_mean", [c.latentDim])
        } else {
            encoderSkip = nil
            tiedSkipBias = nil
        }

        // Decoder: (B, L) → dense → (B, S, C) → (B, C, S) → blocks → (B, P, N) → (B, N, P).
        var stack = [Layer]()
        var width = c.latentDim
        for (index, units) in c.decoderDenseUnits.enumerated() {
            let scope = decoder.scope("dense").scope(index)
            add(&stack, Linear(width, units, scope: scope.scope("linear")), scope.path("linear"),
                "Linear(\(width) → \(units))", [units])
            add(&stack, ELU(), scope.path("elu"), "ELU", [units])
            add(&stack, BatchNorm1D(featureCount: units, convention: .keras, scope: scope.scope("bn")),
                scope.path("bn"), "BatchNorm1D(\(units))", [units])
            width = units
        }
        let steps = c.decoderReshapeTarget[0]
        channels = c.decoderReshapeTarget[1]
        length = steps
        add(&stack, Reshape([steps, channels]), "decoder.reshape", "Reshape (steps, channels)", [steps, channels])
        add(&stack, SwapAxes(), "decoder.reshape_ncl", "swap to NCL", [channels, steps])
        for block in c.decoderFilters.indices {
            let scope = decoder.scope("blocks").scope(block)
            let filters = c.decoderFilters[block], kernel = c.decoderKernelSizes[block]
            Self.appendBlock(c.architecture, to: &stack, from: channels, to: filters, kernel: kernel,
                             dropout: Float(c.decoderDropoutRates[block]), alwaysDropout: false,
                             length: length, scope: scope, recorder: recorder)
            channels = filters
            if let scale = c.decoderUpsampleSizes[block] {
                length *= scale
                add(&stack, UpSampling1D(scale: scale), scope.path("upsample"), "UpSampling1D(\(scale))",
                    [channels, length])
            }
        }
        add(&stack, Conv1D(inputChannels: channels, outputChannels: columns, kernelSize: 1,
                           padding: .same, scope: decoder.scope("output")),
            "decoder.output", "Conv1D(\(channels) → \(columns), k1)", [columns, length])
        add(&stack, SwapAxes(), "decoder.output_nlc", "swap to (N, \(columns))", [length, columns])
        decoderStack = Sequential(stack)
        if c.decoderLinearSkip {
            let outputs = c.numGaussians * skipWidth
            decoderSkip = Linear(c.latentDim, outputs, scope: decoder.scope("linear_skip"))
            recorder.record("decoder.linear_skip", "Linear(\(c.latentDim) → \(outputs)), added to the output",
                            [c.numGaussians, skipWidth])
        } else {
            decoderSkip = nil
        }
        if c.decoderLinearSkip && skipWidth < columns {
            decoderSetBias = decoder.parameter("set_bias", shape: [c.numGaussians, columns], initializer: .zeros)
            recorder.record("decoder.set_bias", "a learned constant per Gaussian and column, added to the output",
                            [c.numGaussians, columns])
        } else {
            decoderSetBias = nil
        }
        switch c.entropyModel {
        case .none:
            entropyModel = nil
        case .factorized:
            entropyModel = .factorized(FactorizedPrior(channels: c.latentDim, scope: store.scope("entropy").scope("prior")))
            recorder.record("entropy.prior", "factorised prior over the quantised latent (\(c.latentDim) densities)", [c.latentDim])
        case .hyperprior:
            entropyModel = .hyperprior(ScaleHyperprior(latentDimensions: c.latentDim, sideDimensions: c.hyperpriorSideDim,
                                                       hiddenWidth: c.hyperpriorHiddenUnits, scope: store.scope("entropy").scope("hyperprior")))
            recorder.record("entropy.hyperprior", "scale hyperprior: \(c.latentDim) → \(c.hyperpriorHiddenUnits) → \(c.hyperpriorSideDim) "
                            + "side values (factorised prior) → \(c.hyperpriorHiddenUnits) → \(c.latentDim) scales", [c.hyperpriorSideDim])
        }
        summaryRows = recorder.rows
    }

    public func encode(_ gaussians: Tensor, training: Bool) -> (mean: Tensor, logVariance: Tensor) {
        precondition(gaussians.rank == 3 && gaussians.shape[1] == gaussianCount
                     && gaussians.shape[2] == columnCount,
                     "GaussianSetVAE.encode: input \(gaussians.shape) must be (B, \(gaussianCount), \(columnCount))")
        let features = encoderTrunk(gaussians, training: training)  // (B, encoder_dense_units)
        var mean = meanHead(features, training: training)  // (B, L)
        if let encoderSkip {
            mean = mean + encoderSkip(skipInput(gaussians), training: training)
        } else if let tiedSkipBias, let decoderSkip {  // tie_linear_skips requires the decoder's skip
            mean = mean + skipInput(gaussians).matmul(decoderSkip.weight.transposed()) + tiedSkipBias
        }
        return (mean, logVarianceHead(features, training: training))
    }

    /// What the encoder's skip reads: (B, N, P) → the skip columns, flattened (B, N·K).
    private func skipInput(_ gaussians: Tensor) -> Tensor {
        let read = skipScatter == nil ? gaussians : gaussians.gathered(skipColumns, alongAxis: 2)  // (B, N, K)
        return read.reshaped([gaussians.shape[0], gaussianCount * skipColumns.count])
    }

    public func decode(_ latent: Tensor, training: Bool) -> Tensor {
        precondition(latent.rank == 2 && latent.shape[1] == latentDimensions,
                     "GaussianSetVAE.decode: latent \(latent.shape) must be (B, \(latentDimensions))")
        let output = decoderStack(latent, training: training)  // (B, N, P)
        guard let decoderSkip else { return output }
        let batch = latent.shape[0]
        let written = decoderSkip(latent, training: training).reshaped([batch, gaussianCount, skipColumns.count])  // (B, N, K)
        guard let skipScatter, let decoderSetBias else { return output + written }
        // (B, N, K) → (B, N, K + 1) with a zero column → (B, N, P): column p reads its skip column or the zero.
        let withZero = Tensor.concatenated([written, Tensor.zeros([batch, gaussianCount, 1])], alongAxis: 2)
        return output + withZero.gathered(skipScatter, alongAxis: 2) + decoderSetBias  // the (N, P) bias broadcast over B
    }

    public func summary() -> ModelSummary {
        ModelSummary(title: "\(configuration.name) (\(configuration.architecture.rawValue), latent \(latentDimensions))",
                     rows: summaryRows)
    }

    /// Appends one encoder or decoder block (C_in → C_out, length kept) with its summary rows.
    /// `alwaysDropout`: conv1d blocks keep a dropout layer even at rate 0 (GaussVAE's encoder).
    private static func appendBlock(
        _ architecture: VAEArchitecture, to layers: inout [Layer], from inputChannels: Int, to outputChannels: Int,
        kernel: Int, dropout: Float, alwaysDropout: Bool, length: Int, scope: ParameterScope, recorder: SummaryRecorder
    ) {
        let shape = [outputChannels, length]
        switch architecture {
        case .conv1d:
            layers.append(Conv1D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernel,
                                 padding: .same, scope: scope.scope("conv")))
            recorder.record(scope.path("conv"), "Conv1D(\(inputChannels) → \(outputChannels), k\(kernel))", shape)
            layers.append(BatchNorm1D(featureCount: outputChannels, convention: .keras, scope: scope.scope("bn")))
            recorder.record(scope.path("bn"), "BatchNorm1D(\(outputChannels))", shape)
            layers.append(ELU())
            recorder.record(scope.path("elu"), "ELU", shape)
            if alwaysDropout || dropout > 0 {
                layers.append(Dropout(rate: dropout, scope: scope))
                recorder.record(scope.path("dropout"), "Dropout(\(dropout))", shape)
            }
        case .resnetConv1D:
            let block = ResidualBlock1D.Configuration(kernelSize: kernel, useBias: true, dropoutRate: dropout,
                                                      batchNormConvention: .keras)
            layers.append(ResidualBlock1D(inputChannels: inputChannels, outputChannels: outputChannels,
                                          configuration: block, scope: scope))
            let shortcut = inputChannels == outputChannels ? "identity" : "1×1 projection"
            recorder.record(scope.prefix, "ResidualBlock1D(\(inputChannels) → \(outputChannels), k\(kernel), "
                            + "\(shortcut), dropout \(dropout))", shape)
        }
    }
}

/// Swaps axes 1 and 2: (B, N, P) ↔ (B, P, N) at the model's boundary.
struct SwapAxes: Layer {
    func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "SwapAxes: input \(input.shape) must have rank 3")
        return input.transposed(1, 2)
    }
}
