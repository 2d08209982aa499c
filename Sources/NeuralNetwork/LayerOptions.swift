import TensorCore

// Hyperparameter types shared by the convolution, pooling and padding layers, and the
// project's default kernel initialiser.
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
