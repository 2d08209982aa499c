import TensorCore

/// Inverted dropout: in training, each element is zeroed with probability `rate` and the
/// survivors are scaled by 1/(1 − rate), so the expected output equals the input; in
/// inference (and at rate 0) the layer is the identity. Any shape.
///
/// The mask is drawn from the shared `RandomSource` (one uniform per element, in row-major
/// order; an element is dropped when its uniform is below `rate`), so a model built from a
/// seeded `ParameterStore` drops the same elements on every run. The mask is a constant of
/// the graph: the gradient is the upstream gradient times the mask (TensorCore's `dropout`).
public struct Dropout: Layer {
    /// The probability of zeroing an element, in [0, 1).
    public let rate: Float
    /// The stream the masks are drawn from.
    public let random: RandomSource

    public init(rate: Float, random: RandomSource) {
        precondition(rate >= 0 && rate < 1, "Dropout: rate \(rate) must lie in [0, 1)")
        self.rate = rate
        self.random = random
    }

    /// A dropout layer drawing from the scope's store's random stream.
    public init(rate: Float, scope: ParameterScope) {
        self.init(rate: rate, random: scope.random)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        guard training && rate > 0 else { return input }
        return input.dropout(rate: rate, using: &random.generator)
    }
}
