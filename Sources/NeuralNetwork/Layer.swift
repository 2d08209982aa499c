import TensorCore

/// A building block of a model: a function of its input, its parameters (held as `let`
/// tensors created through a `ParameterScope`) and an explicit training flag (dropout and
/// batch norm behave differently in training; there is no global mode).
public protocol Layer {
    func callAsFunction(_ input: Tensor, training: Bool) -> Tensor
}
