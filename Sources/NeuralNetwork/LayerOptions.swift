import TensorCore

// Hyperparameter types shared by the convolution, pooling and padding layers, the project's
// default kernel initialiser, and the set-up the four convolution layers share.
//
// Layout decision (stated once for every layer in this module): data is channels-first,
// NCL for 1-D layers and NCHW for 2-D layers, as in PyTorch. Convolution weights use
// PyTorch's layouts; a Linear weight is stored (in, out) as in Keras.

/// One integer used for both spatial axes, or a (height, width) pair: `3` or `[3, 5]`.
public struct IntOrPair: Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    public let height: Int
    public let width: Int

    /// The same value on both axes.
    public init(_ value: Int) {
        height = value
        width = value
    }

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(integerLiteral value: Int) { self.init(value) }

    /// `[value]` (both axes) or `[height, width]`.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 1 || elements.count == 2,
                     "IntOrPair: expected one or two values, got \(elements)")
        self.init(elements[0], elements[elements.count - 1])
    }

    /// As a tuple, the form TensorCore's convolution and pooling ops take.
    public var pair: (Int, Int) { (height, width) }

    /// As one value per spatial axis, `[height, width]`.
    var axes: [Int] { [height, width] }

    public var description: String { "(\(height), \(width))" }
}

/// How a convolution pads its input (symmetrically, on every spatial axis).
///
/// - `valid`: no padding.
/// - `same`: Keras's 'same' for stride 1: each spatial axis is padded by dilation·(k − 1)/2
///   on both sides, so the output has the input's extent. Needs an odd effective kernel
///   (dilation·(k − 1) even) and stride 1; anything else is a programmer error.
/// - `explicit`: the given amounts, one for every spatial axis (`[p]` or the literal `p`)
///   or one per axis (`[ph, pw]`).
public enum ConvolutionPadding: Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    case valid
    case same
    case explicit([Int])

    public init(integerLiteral value: Int) { self = .explicit([value]) }

    public init(arrayLiteral elements: Int...) { self = .explicit(elements) }

    /// The padding of each spatial axis, given that axis's kernel size, dilation and stride.
    func amounts(kernelSize: [Int], dilation: [Int], stride: [Int], layer: String) -> [Int] {
        let axes = kernelSize.count
        switch self {
        case .valid:
            return [Int](repeating: 0, count: axes)
        case .same:
            return (0..<axes).map { axis in
                let span = dilation[axis] * (kernelSize[axis] - 1)
                precondition(stride[axis] == 1 && span % 2 == 0,
                             "\(layer): 'same' padding needs stride 1 and an odd effective kernel, got kernel size "
                             + "\(kernelSize), dilation \(dilation), stride \(stride)")
                return span / 2
            }
        case .explicit(let values):
            precondition((values.count == 1 || values.count == axes) && values.allSatisfy { $0 >= 0 },
                         "\(layer): padding \(values) must be one or \(axes) non-negative values")
            return values.count == 1 ? [Int](repeating: values[0], count: axes) : values
        }
    }
}

extension Initializer {
    /// The project's default for convolution kernels: Keras's Glorot uniform with the fans of
    /// a PyTorch-layout weight `(out, in/groups, k…)` (for transposed convolutions, whose
    /// weight is `(in, out/groups, k…)`, the same formula gives Keras's fans of the transposed
    /// kernel).
    static func defaultKernel(_ shape: [Int]) -> Initializer {
        .glorotUniform(fans: .convolution(shape))
    }
}

/// The set-up shared by Conv1D, ConvTranspose1D, Conv2D and ConvTranspose2D: the checks on their
/// hyperparameters, the padding resolved per spatial axis, and the parameters `weight` then
/// `bias`, created in that order (the order of the store and of checkpoints). Spatial
/// hyperparameters come one value per axis: `[L]` for the 1-D layers, `[H, W]` for the 2-D ones.
struct ConvolutionSetup {
    enum Kind {
        /// Weight (outputChannels, inputChannels/groups, kernel…).
        case convolution
        /// Weight (inputChannels, outputChannels/groups, kernel…); each axis's output padding must
        /// be smaller than its stride or its dilation.
        case transposed(outputPadding: [Int])
    }

    /// The padding of each spatial axis, resolved from `padding`.
    let paddingAmounts: [Int]
    /// The kernel, its shape given by `kind`.
    let weight: Tensor
    /// (outputChannels), or nil without bias.
    let bias: Tensor?

    /// - Parameter layer: the layer's name, for the messages of failed checks.
    init(layer: String, kind: Kind, inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int],
         padding: ConvolutionPadding, dilation: [Int], groups: Int, bias: Bool, weightInitializer: Initializer?,
         biasInitializer: Initializer, scope: ParameterScope) {
        let (k, s, d) = (describe(kernelSize), describe(stride), describe(dilation))
        precondition((kernelSize + stride + dilation).allSatisfy { $0 >= 1 },
                     "\(layer): kernel size \(k), stride \(s) and dilation \(d) must be ≥ 1")
        precondition(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "\(layer): channels \(inputChannels) → \(outputChannels) must be divisible by groups \(groups)")
        let channels: [Int]
        switch kind {
        case .convolution:
            channels = [outputChannels, inputChannels / groups]
        case .transposed(let outputPadding):
            precondition(outputPadding.indices.allSatisfy { axis in
                             outputPadding[axis] >= 0 && (outputPadding[axis] < stride[axis] || outputPadding[axis] < dilation[axis])
                         },
                         "\(layer): output padding \(describe(outputPadding)) must be smaller than stride \(s) or dilation \(d)")
            channels = [inputChannels, outputChannels / groups]
        }
        paddingAmounts = padding.amounts(kernelSize: kernelSize, dilation: dilation, stride: stride, layer: layer)
        let shape = channels + kernelSize
        weight = scope.parameter("weight", shape: shape, initializer: weightInitializer ?? .defaultKernel(shape))
        self.bias = bias ? scope.parameter("bias", shape: [outputChannels], initializer: biasInitializer) : nil
    }
}

/// `3` for one axis, `(3, 5)` for two: how the layers print their spatial hyperparameters.
private func describe(_ values: [Int]) -> String {
    values.count == 1 ? "\(values[0])" : "(\(values.map(String.init).joined(separator: ", ")))"
}
