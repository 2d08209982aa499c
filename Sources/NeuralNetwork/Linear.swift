import TensorCore

// A fully connected layer. Layout decision: the weight is stored (in, out), as in Keras's
// Dense, so y = x·W + b needs no transpose. PyTorch stores nn.Linear's weight (out, in):
// transpose it when importing (the fixture tests do).

/// y = x·W + b over the last axis: input (N, in) or (N, …, in) → (N, out) or (N, …, out).
///
/// Parameters (named in the layer's scope):
/// - `weight` (inputDimensions, outputDimensions), default Keras Glorot uniform with
///   fan-in = in, fan-out = out;
/// - `bias` (outputDimensions), default zeros; absent when `bias: false`.
public struct Linear: Layer {
    public let inputDimensions: Int
    public let outputDimensions: Int
    /// (inputDimensions, outputDimensions)
    public let weight: Tensor
    /// (outputDimensions), or nil without bias.
    public let bias: Tensor?

    /// - Parameters:
    ///   - weightInitializer: overrides the Glorot-uniform default.
    ///   - biasInitializer: overrides the zeros default.
    ///   - scope: where `weight` and `bias` are registered.
    public init(
        _ inputDimensions: Int, _ outputDimensions: Int, bias: Bool = true,
        weightInitializer: Initializer? = nil, biasInitializer: Initializer = .zeros,
        scope: ParameterScope
    ) {
        precondition(inputDimensions >= 1 && outputDimensions >= 1,
                     "Linear: dimensions must be positive, got \(inputDimensions) → \(outputDimensions)")
        self.inputDimensions = inputDimensions
        self.outputDimensions = outputDimensions
        let shape = [inputDimensions, outputDimensions]
        self.weight = scope.parameter("weight", shape: shape,
                                      initializer: weightInitializer ?? .glorotUniform(fans: .linear(shape)))
        self.bias = bias ? scope.parameter("bias", shape: [outputDimensions], initializer: biasInitializer) : nil
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 1 && input.shape.last == inputDimensions,
                     "Linear: input \(input.shape) must end in \(inputDimensions) features")
        let leading = Array(input.shape.dropLast())
        let rows = input.rank == 2 ? input : input.reshaped([-1, inputDimensions])  // (M, in)
        var output = rows.matmul(weight)  // (M, out)
        if let bias { output = output + bias }
        return input.rank == 2 ? output : output.reshaped(leading + [outputDimensions])
    }
}
