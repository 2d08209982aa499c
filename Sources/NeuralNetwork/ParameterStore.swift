import TensorCore

// Named parameters, in the manner of candle's VarBuilder: every parameter is named when it is
// created, by a dotted path built from nested scopes ("encoder.blocks.0.conv1.weight"). One
// store holds them in creation order; the optimizer walks it and the checkpoint saves it.
// Buffers (running statistics) are named the same way but take no gradient.

/// A shared, seeded random stream (initialisation, dropout, sampling). A reference type so
/// that every layer draws from one stream whose state a checkpoint can save and restore.
public final class RandomSource {
    public var generator: RandomGenerator

    public init(seed: UInt64) { generator = RandomGenerator(seed: seed) }
}

/// All parameters and buffers of a model, by dotted name, in creation order.
///
/// A counting store (`allocating: false`) only counts: every parameter and buffer it is asked
/// for is registered by name and counted, but is an empty placeholder tensor, so a model built
/// on it can be summarised (names, shapes, counts) at no cost in memory, and must never be run.
public final class ParameterStore {
    /// Trainable tensors (requiresGrad), in creation order.
    public private(set) var parameters: [(name: String, tensor: Tensor)] = []
    /// Non-trainable state such as batch-norm running statistics, in creation order.
    public private(set) var buffers: [(name: String, tensor: Tensor)] = []
    /// The stream used for initialisation and by stochastic layers.
    public let random: RandomSource
    /// Whether parameters are real tensors (false: empty placeholders, counted only).
    public let allocates: Bool
    private var names = Set<String>()

    public init(seed: UInt64 = 0, allocating: Bool = true) {
        random = RandomSource(seed: seed)
        allocates = allocating
    }

    /// The widest layer (channels, units, features) a model configuration may ask for.
    public static let maximumWidth = 1 << 16
    /// The most parameter and buffer scalars a model may have (1 GiB of float32): configurations
    /// build their model on a counting store and check this before anything is allocated.
    public static let maximumScalars = 1 << 28

    /// The root scope; `store.scope("encoder")` names everything below it "encoder.…".
    public func scope(_ name: String) -> ParameterScope { ParameterScope(store: self, prefix: name) }
    public var root: ParameterScope { ParameterScope(store: self, prefix: "") }

    /// The parameter called `name`, if any.
    public func parameter(named name: String) -> Tensor? { parameters.first { $0.name == name }?.tensor }
    /// The buffer called `name`, if any.
    public func buffer(named name: String) -> Tensor? { buffers.first { $0.name == name }?.tensor }

    /// Number of trainable scalars (of the shapes asked for, in a counting store too).
    public private(set) var parameterCount = 0
    /// Number of buffer scalars (Keras counts these as non-trainable parameters).
    public private(set) var bufferCount = 0

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for (_, tensor) in parameters { tensor.zeroGrad() }
    }

    /// An empty stand-in for a tensor in a counting store (one each, so none is shared).
    fileprivate static var placeholder: Tensor { Tensor(shape: [0], scalars: []) }

    fileprivate func register(_ name: String, _ tensor: Tensor, shape: [Int], isBuffer: Bool) {
        precondition(!name.isEmpty, "ParameterStore: empty parameter name")
        precondition(names.insert(name).inserted, "ParameterStore: duplicate name \(name)")
        let count = shape.reduce(1, *)
        if isBuffer {
            buffers.append((name, tensor))
            bufferCount += count
        } else {
            parameters.append((name, tensor))
            parameterCount += count
        }
    }
}

/// A position in the parameter namespace (think of it as a directory: `scope("conv1")` is `cd`).
public struct ParameterScope {
    public let store: ParameterStore
    /// The dotted path of this scope ("" at the root).
    public let prefix: String

    /// A child scope: `encoder` → `encoder.conv1`.
    public func scope(_ name: String) -> ParameterScope {
        ParameterScope(store: store, prefix: path(name))
    }

    /// A child scope named by an index: `blocks` → `blocks.0`.
    public func scope(_ index: Int) -> ParameterScope { scope(String(index)) }

    /// The full dotted name of `name` in this scope.
    public func path(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    /// Creates, initialises and registers a trainable parameter (in a counting store: counts it).
    public func parameter(_ name: String, shape: [Int], initializer: Initializer) -> Tensor {
        guard store.allocates else {
            let placeholder = ParameterStore.placeholder
            store.register(path(name), placeholder, shape: shape, isBuffer: false)
            return placeholder
        }
        let tensor = initializer.make(shape, using: &store.random.generator)
        tensor.requiresGrad = true
        store.register(path(name), tensor, shape: shape, isBuffer: false)
        return tensor
    }

    /// Creates and registers a buffer (no gradient) with a constant value (in a counting store:
    /// counts it).
    public func buffer(_ name: String, shape: [Int], value: Float) -> Tensor {
        let tensor = store.allocates ? Tensor.full(shape, value: value) : ParameterStore.placeholder
        store.register(path(name), tensor, shape: shape, isBuffer: true)
        return tensor
    }

    /// The shared random stream, for stochastic layers.
    public var random: RandomSource { store.random }
}
