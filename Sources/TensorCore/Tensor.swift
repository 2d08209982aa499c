import Foundation

// Tensor: a float32, contiguous, row-major n-dimensional array that records the operations
// applied to it so that `backward()` can compute gradients (see Autodiff.swift).
//
// Layout decisions, stated once:
// - Storage is always contiguous row-major: the last axis varies fastest. Movement ops
//   (permute, slice, ...) copy; reshape shares storage (Swift arrays are copy-on-write).
// - A scalar tensor has shape [] and one element.

/// A float32 n-dimensional array with reverse-mode automatic differentiation.
public final class Tensor {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// The elements in row-major order. Optimizers update parameters through this property.
    /// Every change bumps `version`, so that `backward()` can refuse a graph whose recorded
    /// values were changed after the operation that used them (its gradients would be wrong).
    public var scalars: [Float] {
        get { storage }
        set { storage = newValue; version &+= 1 }
        // In place: an observed stored property (didSet) is mutated through a temporary copy,
        // so every element write or mutable-buffer access copied the whole array (the
        // optimizer's update copied each parameter, batch norm's running statistics C² values).
        _modify { defer { version &+= 1 }; yield &storage }
    }
    private var storage: [Float]
    /// How many times `scalars` has been changed since the tensor was made.
    public private(set) var version = 0
    /// Whether gradients flow to this tensor. Results of operations on such tensors inherit it.
    public var requiresGrad: Bool
    /// The accumulated gradient of the last `backward()` call(s); `nil` until one reaches it.
    public var grad: Tensor?
    /// How this tensor was computed; `nil` for leaves and for tensors made without gradients.
    var node: GraphNode?

    /// Wraps `scalars` (row-major) with `shape`; their counts must agree.
    public init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        storage = scalars
        self.requiresGrad = requiresGrad
    }

    /// A scalar (rank-0) tensor.
    public convenience init(_ value: Float, requiresGrad: Bool = false) {
        self.init(shape: [], scalars: [value], requiresGrad: requiresGrad)
    }

    /// A rank-1 tensor of `values`.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(shape: [values.count], scalars: values, requiresGrad: requiresGrad)
    }

    /// A rank-2 tensor of `rows`, which must all have the same length.
    public convenience init(rows: [[Float]], requiresGrad: Bool = false) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor(rows:): ragged rows")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 }, requiresGrad: requiresGrad)
    }

    public var rank: Int { shape.count }
    public var count: Int { scalars.count }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements")
        return scalars[0]
    }

    /// Row-major strides (in elements) of `shape`.
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Normalises a possibly negative axis (`-1` is the last) and checks it is in range.
    public func normalizedAxis(_ axis: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < Swift.max(rank, 1), "axis \(axis) out of range for shape \(shape)")
        return resolved
    }

    /// The element at a multi-index (one index per axis). For tests and debugging, not hot loops.
    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "subscript: \(index.count) indices for shape \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "subscript: index \(index) out of shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return scalars[offset]
    }
}

// MARK: - Creation

extension Tensor {
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 0, requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 1, requiresGrad: requiresGrad)
    }

    public static func full(_ shape: [Int], value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// `[start, start + step, ...]` up to but excluding `end`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// Uniform samples in `[low, high)` from `generator`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout RandomGenerator,
        requiresGrad: Bool = false
    ) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = low + (high - low) * generator.nextUniform() }
        return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
    }

    /// Normal samples with `mean` and standard deviation `std` from `generator`.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using generator: inout RandomGenerator,
        requiresGrad: Bool = false
    ) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + std * generator.nextNormal() }
        return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
    }
}

// MARK: - Description

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        let more = count > 8 ? ", … (\(count) elements)" : ""
        return "Tensor(shape: \(shape), [\(shown)\(more)]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
