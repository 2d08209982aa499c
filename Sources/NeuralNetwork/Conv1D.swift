import TensorCore

// 1-D convolution layers over NCL data with PyTorch weight layouts:
//   Conv1D            weight (outputChannels, inputChannels/groups, kernelSize)
//   ConvTranspose1D   weight (inputChannels, outputChannels/groups, kernelSize)
// Output length, with p the resolved padding:
//   Conv1D           L_out = ⌊(L + 2p − dilation·(k − 1) − 1) / stride⌋ + 1
//   ConvTranspose1D  L_out = (L − 1)·stride − 2p + dilation·(k − 1) + outputPadding + 1

/// A 1-D cross-correlation: (N, inputChannels, L) → (N, outputChannels, L_out).
///
/// Parameters: `weight` (outputChannels, inputChannels/groups, kernelSize), default Keras
/// Glorot uniform (fan-in = in/groups·k, fan-out = out·k); `bias` (outputChannels), default
/// zeros, absent when `bias: false`.
public struct Conv1D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: ConvolutionPadding
    public let dilation: Int
    public let groups: Int
    /// The padding applied to each end of the input, resolved from `padding`.
    public let paddingAmount: Int
    /// (outputChannels, inputChannels/groups, kernelSize)
    public let weight: Tensor
    /// (outputChannels), or nil without bias.
    public let bias: Tensor?

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: ConvolutionPadding = .valid, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
        weightInitializer: Initializer? = nil, biasInitializer: Initializer = .zeros,
        scope: ParameterScope
    ) {
        let setup = ConvolutionSetup(
            layer: "Conv1D", kind: .convolution, inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: [kernelSize], stride: [stride], padding: padding, dilation: [dilation], groups: groups,
            bias: bias, weightInitializer: weightInitializer, biasInitializer: biasInitializer, scope: scope)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.paddingAmount = setup.paddingAmounts[0]
        self.weight = setup.weight
        self.bias = setup.bias
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[1] == inputChannels,
                     "Conv1D: input \(input.shape) must be (N, \(inputChannels), L)")
        return input.conv1d(weight: weight, bias: bias, stride: stride, padding: paddingAmount,
                            dilation: dilation, groups: groups)
    }
}

/// A transposed 1-D convolution (the gradient of Conv1D with respect to its input):
/// (N, inputChannels, L) → (N, outputChannels, L_out).
///
/// Parameters: `weight` (inputChannels, outputChannels/groups, kernelSize), default Keras
/// Glorot uniform (fan-in = out/groups·k, fan-out = in·k); `bias` (outputChannels), default
/// zeros, absent when `bias: false`. `padding: .same` (stride 1, odd kernel) keeps the length.
public struct ConvTranspose1D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: ConvolutionPadding
    public let outputPadding: Int
    public let dilation: Int
    public let groups: Int
    /// The padding removed from each end of the full output, resolved from `padding`.
    public let paddingAmount: Int
    /// (inputChannels, outputChannels/groups, kernelSize)
    public let weight: Tensor
    /// (outputChannels), or nil without bias.
    public let bias: Tensor?

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        padding: ConvolutionPadding = .valid, outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1,
        bias: Bool = true, weightInitializer: Initializer? = nil, biasInitializer: Initializer = .zeros,
        scope: ParameterScope
    ) {
        let setup = ConvolutionSetup(
            layer: "ConvTranspose1D", kind: .transposed(outputPadding: [outputPadding]), inputChannels: inputChannels,
            outputChannels: outputChannels, kernelSize: [kernelSize], stride: [stride], padding: padding,
            dilation: [dilation], groups: groups, bias: bias, weightInitializer: weightInitializer,
            biasInitializer: biasInitializer, scope: scope)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.paddingAmount = setup.paddingAmounts[0]
        self.weight = setup.weight
        self.bias = setup.bias
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[1] == inputChannels,
                     "ConvTranspose1D: input \(input.shape) must be (N, \(inputChannels), L)")
        return input.transposedConv1d(weight: weight, bias: bias, stride: stride, padding: paddingAmount,
                                      outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}
