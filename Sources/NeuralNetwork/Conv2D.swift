import TensorCore

// 2-D convolution layers over NCHW data with PyTorch weight layouts:
//   Conv2D            weight (outputChannels, inputChannels/groups, kernelHeight, kernelWidth)
//   ConvTranspose2D   weight (inputChannels, outputChannels/groups, kernelHeight, kernelWidth)
// Output extents per spatial axis, with p the resolved padding (as in Conv1D.swift):
//   Conv2D           H_out = ⌊(H + 2p − dilation·(k − 1) − 1) / stride⌋ + 1
//   ConvTranspose2D  H_out = (H − 1)·stride − 2p + dilation·(k − 1) + outputPadding + 1

/// A 2-D cross-correlation: (N, inputChannels, H, W) → (N, outputChannels, H_out, W_out).
///
/// Parameters: `weight` (outputChannels, inputChannels/groups, kh, kw), default Keras Glorot
/// uniform (fan-in = in/groups·kh·kw, fan-out = out·kh·kw); `bias` (outputChannels), default
/// zeros, absent when `bias: false`.
public struct Conv2D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: IntOrPair
    public let stride: IntOrPair
    public let padding: ConvolutionPadding
    public let dilation: IntOrPair
    public let groups: Int
    /// The padding applied to each side of the input, resolved from `padding`.
    public let paddingAmount: IntOrPair
    /// (outputChannels, inputChannels/groups, kernelSize.height, kernelSize.width)
    public let weight: Tensor
    /// (outputChannels), or nil without bias.
    public let bias: Tensor?

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
        padding: ConvolutionPadding = .valid, dilation: IntOrPair = 1, groups: Int = 1, bias: Bool = true,
        weightInitializer: Initializer? = nil, biasInitializer: Initializer = .zeros,
        scope: ParameterScope
    ) {
        let setup = ConvolutionSetup(
            layer: "Conv2D", kind: .convolution, inputChannels: inputChannels, outputChannels: outputChannels,
            kernelSize: kernelSize.axes, stride: stride.axes, padding: padding, dilation: dilation.axes, groups: groups,
            bias: bias, weightInitializer: weightInitializer, biasInitializer: biasInitializer, scope: scope)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.paddingAmount = IntOrPair(setup.paddingAmounts[0], setup.paddingAmounts[1])
        self.weight = setup.weight
        self.bias = setup.bias
    }

    /// The options handed to TensorCore's `conv2d`.
    public var options: ConvolutionOptions {
        ConvolutionOptions(stride: stride.pair, padding: paddingAmount.pair, dilation: dilation.pair, groups: groups)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels,
                     "Conv2D: input \(input.shape) must be (N, \(inputChannels), H, W)")
        return input.conv2d(weight: weight, bias: bias, options: options)
    }
}

/// A transposed 2-D convolution (the gradient of Conv2D with respect to its input):
/// (N, inputChannels, H, W) → (N, outputChannels, H_out, W_out).
///
/// Parameters: `weight` (inputChannels, outputChannels/groups, kh, kw), default Keras Glorot
/// uniform (fan-in = out/groups·kh·kw, fan-out = in·kh·kw); `bias` (outputChannels), default
/// zeros, absent when `bias: false`. `padding: .same` (stride 1, odd kernel) keeps H and W.
public struct ConvTranspose2D: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: IntOrPair
    public let stride: IntOrPair
    public let padding: ConvolutionPadding
    public let outputPadding: IntOrPair
    public let dilation: IntOrPair
    public let groups: Int
    /// The padding removed from each side of the full output, resolved from `padding`.
    public let paddingAmount: IntOrPair
    /// (inputChannels, outputChannels/groups, kernelSize.height, kernelSize.width)
    public let weight: Tensor
    /// (outputChannels), or nil without bias.
    public let bias: Tensor?

    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
        padding: ConvolutionPadding = .valid, outputPadding: IntOrPair = 0, dilation: IntOrPair = 1,
        groups: Int = 1, bias: Bool = true, weightInitializer: Initializer? = nil,
        biasInitializer: Initializer = .zeros, scope: ParameterScope
    ) {
        let setup = ConvolutionSetup(
            layer: "ConvTranspose2D", kind: .transposed(outputPadding: outputPadding.axes), inputChannels: inputChannels,
            outputChannels: outputChannels, kernelSize: kernelSize.axes, stride: stride.axes, padding: padding,
            dilation: dilation.axes, groups: groups, bias: bias, weightInitializer: weightInitializer,
            biasInitializer: biasInitializer, scope: scope)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.paddingAmount = IntOrPair(setup.paddingAmounts[0], setup.paddingAmounts[1])
        self.weight = setup.weight
        self.bias = setup.bias
    }

    /// The options handed to TensorCore's `transposedConv2d`.
    public var options: ConvolutionOptions {
        ConvolutionOptions(stride: stride.pair, padding: paddingAmount.pair, dilation: dilation.pair, groups: groups)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels,
                     "ConvTranspose2D: input \(input.shape) must be (N, \(inputChannels), H, W)")
        return input.transposedConv2d(weight: weight, bias: bias, options: options, outputPadding: outputPadding.pair)
    }
}
