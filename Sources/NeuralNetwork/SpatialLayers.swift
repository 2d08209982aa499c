import TensorCore

// Parameter-free layers that resample or pad the spatial axes of NCL (1-D) and NCHW (2-D)
// data: max and average pooling, global average pooling, nearest upsampling, reflection and
// zero padding. Each wraps one TensorCore op (whose pullback it inherits).
//
// Pool output extents (floor mode, as PyTorch and Keras 'valid'):
//   L_out = ⌊(L + 2·padding − kernelSize) / stride⌋ + 1, stride defaulting to kernelSize.

// MARK: - Pooling

/// Max pooling over windows of (N, C, L) → (N, C, L_out). Padded positions never win.
public struct MaxPool1D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// - Parameter stride: defaults to `kernelSize` (non-overlapping windows).
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "MaxPool1D: input \(input.shape) must be (N, C, L)")
        return input.maxPool1d(kernel: kernelSize, stride: stride, padding: padding)
    }
}

/// Max pooling over windows of (N, C, H, W) → (N, C, H_out, W_out). Padded positions never win.
public struct MaxPool2D: Layer {
    public let kernelSize: IntOrPair
    public let stride: IntOrPair
    public let padding: IntOrPair

    /// - Parameter stride: defaults to `kernelSize` (non-overlapping windows).
    public init(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "MaxPool2D: input \(input.shape) must be (N, C, H, W)")
        return input.maxPool2d(kernel: kernelSize.pair, stride: stride.pair, padding: padding.pair)
    }
}

/// Average pooling over windows of (N, C, L) → (N, C, L_out).
public struct AvgPool1D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// Divide by the kernel size (PyTorch's default) rather than by the in-bounds count.
    public let countIncludesPadding: Bool

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, countIncludesPadding: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludesPadding = countIncludesPadding
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "AvgPool1D: input \(input.shape) must be (N, C, L)")
        return input.averagePool1d(kernel: kernelSize, stride: stride, padding: padding,
                                   countIncludesPadding: countIncludesPadding)
    }
}

/// Average pooling over windows of (N, C, H, W) → (N, C, H_out, W_out).
public struct AvgPool2D: Layer {
    public let kernelSize: IntOrPair
    public let stride: IntOrPair
    public let padding: IntOrPair
    /// Divide by the kernel area (PyTorch's default) rather than by the in-bounds count.
    public let countIncludesPadding: Bool

    public init(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                countIncludesPadding: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludesPadding = countIncludesPadding
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "AvgPool2D: input \(input.shape) must be (N, C, H, W)")
        return input.averagePool2d(kernel: kernelSize.pair, stride: stride.pair, padding: padding.pair,
                                   countIncludesPadding: countIncludesPadding)
    }
}

/// The mean over the length axis: (N, C, L) → (N, C).
public struct GlobalAveragePool1D: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "GlobalAveragePool1D: input \(input.shape) must be (N, C, L)")
        return input.globalAveragePool()
    }
}

/// The mean over the spatial axes: (N, C, H, W) → (N, C).
public struct GlobalAveragePool2D: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "GlobalAveragePool2D: input \(input.shape) must be (N, C, H, W)")
        return input.globalAveragePool()
    }
}

// MARK: - Upsampling

/// Nearest-neighbour upsampling: (N, C, L) → (N, C, scale·L), each element repeated.
public struct UpSampling1D: Layer {
    public let scale: Int

    public init(scale: Int = 2) {
        precondition(scale >= 1, "UpSampling1D: scale \(scale) must be ≥ 1")
        self.scale = scale
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "UpSampling1D: input \(input.shape) must be (N, C, L)")
        return input.upsampledNearest(scale: scale)
    }
}

/// Nearest-neighbour upsampling: (N, C, H, W) → (N, C, scale·H, scale·W).
public struct UpSampling2D: Layer {
    public let scale: Int

    public init(scale: Int = 2) {
        precondition(scale >= 1, "UpSampling2D: scale \(scale) must be ≥ 1")
        self.scale = scale
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "UpSampling2D: input \(input.shape) must be (N, C, H, W)")
        return input.upsampledNearest(scale: scale)
    }
}

// MARK: - Padding

/// How a padding layer fills the border it adds. A type rather than a value, so that each fill
/// makes its own layer type (ReflectionPad1D, ZeroPad1D, …) from one definition per rank.
public protocol PaddingFill {
    /// The start of the layer's name ("ReflectionPad", "ZeroPad"), for messages.
    static var layerName: String { get }
    /// `input` padded by `widths`, one (before, after) pair per axis.
    static func pad(_ input: Tensor, _ widths: [(Int, Int)]) -> Tensor
}

/// Reflection of the values next to the edge, edges not repeated (PyTorch's "reflect"); each
/// amount must be smaller than its axis's extent.
public enum ReflectionFill: PaddingFill {
    public static var layerName: String { "ReflectionPad" }
    public static func pad(_ input: Tensor, _ widths: [(Int, Int)]) -> Tensor { input.reflectionPadded(widths) }
}

/// Zeros.
public enum ZeroFill: PaddingFill {
    public static var layerName: String { "ZeroPad" }
    public static func pad(_ input: Tensor, _ widths: [(Int, Int)]) -> Tensor { input.padded(widths) }
}

/// Padding of the length axis, filled by `Fill`: (N, C, L) → (N, C, left + L + right).
public struct Pad1D<Fill: PaddingFill>: Layer {
    public let left: Int
    public let right: Int

    public init(left: Int, right: Int) {
        precondition(left >= 0 && right >= 0, "\(Fill.layerName)1D: padding (\(left), \(right)) must be non-negative")
        self.left = left
        self.right = right
    }

    /// The same amount on both ends.
    public init(_ amount: Int) { self.init(left: amount, right: amount) }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3, "\(Fill.layerName)1D: input \(input.shape) must be (N, C, L)")
        return Fill.pad(input, [(0, 0), (0, 0), (left, right)])
    }
}

/// Padding of the spatial axes, filled by `Fill`: (N, C, H, W) → (N, C, top + H + bottom,
/// left + W + right).
public struct Pad2D<Fill: PaddingFill>: Layer {
    public let top: Int
    public let bottom: Int
    public let left: Int
    public let right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        precondition(min(top, bottom, left, right) >= 0,
                     "\(Fill.layerName)2D: padding (\(top), \(bottom), \(left), \(right)) must be non-negative")
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// The same amount on all four sides.
    public init(_ amount: Int) { self.init(top: amount, bottom: amount, left: amount, right: amount) }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "\(Fill.layerName)2D: input \(input.shape) must be (N, C, H, W)")
        return Fill.pad(input, [(0, 0), (0, 0), (top, bottom), (left, right)])
    }
}

/// Reflection padding of the length axis (edges not repeated, PyTorch's "reflect"):
/// (N, C, L) → (N, C, left + L + right); each amount must be smaller than L.
public typealias ReflectionPad1D = Pad1D<ReflectionFill>

/// Reflection padding of the spatial axes: (N, C, H, W) → (N, C, top + H + bottom,
/// left + W + right); each amount must be smaller than its axis's extent.
public typealias ReflectionPad2D = Pad2D<ReflectionFill>

/// Zero padding of the length axis: (N, C, L) → (N, C, left + L + right).
public typealias ZeroPad1D = Pad1D<ZeroFill>

/// Zero padding of the spatial axes: (N, C, H, W) → (N, C, top + H + bottom, left + W + right).
public typealias ZeroPad2D = Pad2D<ZeroFill>
