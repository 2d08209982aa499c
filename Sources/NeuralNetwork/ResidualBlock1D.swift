import TensorCore

// A 1-D residual block over NCL data (C_in → C_out channels, length kept), wired as in
// ResidualWiring.swift with Conv1D, BatchNorm1D and ELU:
//
//   h = conv1(x)  → bn1 → ELU → dropout → conv2 → bn2        ('same' padding, k × k kernels)
//   s = projection(x) when C_in ≠ C_out (a 1×1 Conv1D), else x
//   y = ELU(h + s)
//
// Sub-layer names (scopes below the block's own): conv1, bn1, conv2, bn2, projection. So a
// block created in scope "encoder.blocks.0" owns "encoder.blocks.0.conv1.weight",
// "encoder.blocks.0.bn1.gamma", "encoder.blocks.0.bn1.running_mean", …,
// "encoder.blocks.0.projection.weight". Dropout has no parameters and no scope; it draws
// from the store's shared random stream.

/// conv → BN → ELU → dropout → conv → BN, plus an identity or 1×1-projection shortcut, then
/// ELU: (N, inputChannels, L) → (N, outputChannels, L).
public struct ResidualBlock1D: Layer {
    /// The block's hyperparameters, with defaults.
    public struct Configuration {
        /// The kernel size of conv1 and conv2; odd (with `dilation`) for 'same' padding.
        public var kernelSize: Int
        public var dilation: Int
        /// Whether the convolutions (including the projection) have biases.
        public var useBias: Bool
        /// The dropout rate between the ELU and conv2 (0 disables dropout).
        public var dropoutRate: Float
        public var batchNormConvention: BatchNormConvention
        /// nil takes the convention's default (0.99 Keras, 0.1 PyTorch).
        public var batchNormMomentum: Float?
        /// nil takes the convention's default (1e-3 Keras, 1e-5 PyTorch).
        public var batchNormEpsilon: Float?
        /// α of both ELUs.
        public var eluAlpha: Float
        /// Makes the initialiser of each convolution weight from its shape; nil takes the
        /// project default (Glorot uniform). Biases start at zero.
        public var kernelInitializer: ((_ weightShape: [Int]) -> Initializer)?

        public init(
            kernelSize: Int = 3, dilation: Int = 1, useBias: Bool = true, dropoutRate: Float = 0,
            batchNormConvention: BatchNormConvention = .keras, batchNormMomentum: Float? = nil,
            batchNormEpsilon: Float? = nil, eluAlpha: Float = 1,
            kernelInitializer: ((_ weightShape: [Int]) -> Initializer)? = nil
        ) {
            self.kernelSize = kernelSize
            self.dilation = dilation
            self.useBias = useBias
            self.dropoutRate = dropoutRate
            self.batchNormConvention = batchNormConvention
            self.batchNormMomentum = batchNormMomentum
            self.batchNormEpsilon = batchNormEpsilon
            self.eluAlpha = eluAlpha
            self.kernelInitializer = kernelInitializer
        }
    }

    public let inputChannels: Int
    public let outputChannels: Int
    public let configuration: Configuration
    public let conv1: Conv1D
    public let bn1: BatchNorm1D
    public let dropout: Dropout
    public let conv2: Conv1D
    public let bn2: BatchNorm1D
    /// The 1×1 shortcut convolution, present only when the channel count changes.
    public let projection: Conv1D?

    public init(inputChannels: Int, outputChannels: Int, configuration: Configuration = Configuration(),
                scope: ParameterScope) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.configuration = configuration
        let c = configuration
        (conv1, bn1, dropout, conv2, bn2, projection) = makeResidualLayers(
            inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: c.kernelSize, dilation: c.dilation,
            dropoutRate: c.dropoutRate, normalizationName: "bn", scope: scope,
            convolution: { scope, input, kernelSize, padding, dilation in
                Conv1D(inputChannels: input, outputChannels: outputChannels, kernelSize: kernelSize, padding: padding,
                       dilation: dilation, bias: c.useBias,
                       weightInitializer: c.kernelInitializer?([outputChannels, input, kernelSize]), scope: scope)
            },
            normalization: { scope in
                BatchNorm1D(featureCount: outputChannels, convention: c.batchNormConvention,
                            momentum: c.batchNormMomentum, epsilon: c.batchNormEpsilon, scope: scope)
            })
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[1] == inputChannels,
                     "ResidualBlock1D: input \(input.shape) must be (N, \(inputChannels), L)")
        let alpha = configuration.eluAlpha
        return residualForward(input, through: (conv1, bn1, dropout, conv2, bn2, projection), training: training) {
            $0.elu(alpha: alpha)
        }
    }
}
