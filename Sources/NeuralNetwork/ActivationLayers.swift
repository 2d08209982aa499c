import TensorCore

// Element-wise activations as layers (any shape in, the same shape out), so they can sit in a
// `Sequential` or be chosen as a residual block's activation. Each wraps the TensorCore op of
// the same name; the formulas and derivatives are documented there (Activations.swift).

/// max(x, 0).
public struct ReLU: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.relu() }
}

/// x for x > 0, slope·x otherwise (PyTorch's default slope 0.01; Keras's is 0.3).
public struct LeakyReLU: Layer {
    public let slope: Float

    public init(slope: Float = 0.01) { self.slope = slope }
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.leakyRelu(slope: slope) }
}

/// x for x > 0, α·(eˣ − 1) otherwise.
public struct ELU: Layer {
    public let alpha: Float

    public init(alpha: Float = 1) { self.alpha = alpha }
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.elu(alpha: alpha) }
}

/// x·Φ(x), the exact (erf) form.
public struct GELU: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.gelu() }
}

/// 1 / (1 + e^−x).
public struct Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.sigmoid() }
}

/// tanh(x).
public struct Tanh: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.tanh() }
}

/// log(1 + eˣ).
public struct Softplus: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor { input.softplus() }
}
