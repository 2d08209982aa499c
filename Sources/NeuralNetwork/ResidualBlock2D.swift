import TensorCore

// A 2-D residual block over NCHW data (C_in → C_out channels, H and W kept), wired as in
// ResidualWiring.swift with Conv2D and a chosen normalisation and activation:
//
//   h = conv1(x) → norm1 → activation → dropout → conv2 → norm2     ('same' padding)
//   s = projection(x) when C_in ≠ C_out (a 1×1 Conv2D), else x
//   y = activation(h + s)
//
// Sub-layer names: conv1, norm1, conv2, norm2, projection ("norm" rather than "bn" because the
// normalisation may be a GroupNorm). A block in scope "decoder.blocks.1" owns
// "decoder.blocks.1.conv1.weight", "decoder.blocks.1.norm1.gamma", … Dropout has no
// parameters; it draws from the store's shared random stream.

/// conv → norm → activation → dropout → conv → norm, plus an identity or 1×1-projection
/// shortcut, then the activation: (N, inputChannels, H, W) → (N, outputChannels, H, W).
public struct ResidualBlock2D: Layer {
    /// The normalisation after each convolution.
    public enum Normalization {
        /// BatchNorm2D with a convention and optional momentum/ε (nil takes its defaults).
        case batchNorm(convention: BatchNormConvention = .keras, momentum: Float? = nil, epsilon: Float? = nil)
        /// GroupNorm with `groupCount` groups, which must divide the output channels.
        case groupNorm(groupCount: Int, epsilon: Float = 1e-5)
    }

    /// The block's hyperparameters, with defaults.
    public struct Configuration {
        /// The kernel size of conv1 and conv2; odd (with `dilation`) for 'same' padding.
        public var kernelSize: IntOrPair
        public var dilation: IntOrPair
        /// Whether the convolutions (including the projection) have biases.
        public var useBias: Bool
        /// The dropout rate between the activation and conv2 (0 disables dropout).
        public var dropoutRate: Float
        public var normalization: Normalization
        /// Applied after norm1 and after the sum; ELU by default.
        public var activation: Layer
        /// Makes the initialiser of each convolution weight from its shape; nil takes the
        /// project default (Glorot uniform). Biases start at zero.
        public var kernelInitializer: ((_ weightShape: [Int]) -> Initializer)?

        public init(
            kernelSize: IntOrPair = 3, dilation: IntOrPair = 1, useBias: Bool = true, dropoutRate: Float = 0,
            normalization: Normalization = .batchNorm(), activation: Layer = ELU(),
            kernelInitializer: ((_ weightShape: [Int]) -> Initializer)? = nil
        ) {
            self.kernelSize = kernelSize
            self.dilation = dilation
            self.useBias = useBias
            self.dropoutRate = dropoutRate
            self.normalization = normalization
            self.activation = activation
            self.kernelInitializer = kernelInitializer
        }
    }

    public let inputChannels: Int
    public let outputChannels: Int
    public let configuration: Configuration
    public let conv1: Conv2D
    /// BatchNorm2D or GroupNorm, per `configuration.normalization`.
    public let norm1: Layer
    public let dropout: Dropout
    public let conv2: Conv2D
    public let norm2: Layer
    /// The 1×1 shortcut convolution, present only when the channel count changes.
    public let projection: Conv2D?

    public init(inputChannels: Int, outputChannels: Int, configuration: Configuration = Configuration(),
                scope: ParameterScope) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.configuration = configuration
        let c = configuration
        (conv1, norm1, dropout, conv2, norm2, projection) = makeResidualLayers(
            inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: c.kernelSize, dilation: c.dilation,
            dropoutRate: c.dropoutRate, normalizationName: "norm", scope: scope,
            convolution: { scope, input, kernelSize, padding, dilation in
                Conv2D(inputChannels: input, outputChannels: outputChannels, kernelSize: kernelSize, padding: padding,
                       dilation: dilation, bias: c.useBias,
                       weightInitializer: c.kernelInitializer?([outputChannels, input] + kernelSize.axes), scope: scope)
            },
            normalization: { scope -> Layer in
                switch c.normalization {
                case let .batchNorm(convention, momentum, epsilon):
                    return BatchNorm2D(featureCount: outputChannels, convention: convention, momentum: momentum,
                                       epsilon: epsilon, scope: scope)
                case let .groupNorm(groupCount, epsilon):
                    return GroupNorm(groupCount: groupCount, channelCount: outputChannels, epsilon: epsilon, scope: scope)
                }
            })
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels,
                     "ResidualBlock2D: input \(input.shape) must be (N, \(inputChannels), H, W)")
        let activation = configuration.activation
        return residualForward(input, through: (conv1, norm1, dropout, conv2, norm2, projection), training: training) {
            activation($0, training: training)
        }
    }
}
