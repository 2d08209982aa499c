import TensorCore

// Composition and reshaping layers: Sequential applies layers in order; Flatten and Reshape
// change the per-sample shape while keeping the batch axis (axis 0), as in Keras.

/// Layers applied in order, each to the previous one's output, with the same training flag.
///
/// A Sequential holds no parameters of its own: its layers are created in scopes the caller
/// chooses. `Sequential(count:scope:)` names the i-th layer's scope by its index, so blocks
/// created under `encoder.blocks` get `encoder.blocks.0.…`, `encoder.blocks.1.…`.
public struct Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public init(_ layers: Layer...) { self.layers = layers }

    /// `count` layers, the i-th made by `make(i, scope.scope(i))`.
    public init(count: Int, scope: ParameterScope, _ make: (_ index: Int, _ scope: ParameterScope) -> Layer) {
        precondition(count >= 0, "Sequential: count \(count) must be non-negative")
        layers = (0..<count).map { make($0, scope.scope($0)) }
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        layers.reduce(input) { x, layer in layer(x, training: training) }
    }
}

/// (N, d1, d2, …) → (N, d1·d2·…).
public struct Flatten: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 1, "Flatten: input must have a batch axis, got shape \(input.shape)")
        return input.reshaped([input.shape[0], input.count / max(input.shape[0], 1)])
    }
}

/// (N, …) → (N, shape…): reshapes each sample, keeping the batch axis. One extent of
/// `shape` may be −1 (inferred).
public struct Reshape: Layer {
    /// The per-sample target shape (without the batch axis).
    public let shape: [Int]

    public init(_ shape: [Int]) {
        precondition(shape.filter { $0 == -1 }.count <= 1 && shape.allSatisfy { $0 >= 1 || $0 == -1 },
                     "Reshape: target \(shape) must be positive extents with at most one −1")
        self.shape = shape
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 1, "Reshape: input must have a batch axis, got shape \(input.shape)")
        return input.reshaped([input.shape[0]] + shape)
    }
}
