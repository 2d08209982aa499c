import TensorCore

// Normalisations that use only the statistics of each sample (no running state), as
// compositions of TensorCore ops:
//
//   standardized(x, axes) = (x − mean(x, axes)) / √(var(x, axes) + ε)     (biased variance)
//
//   GroupNorm     (N, C, …): x viewed as (N, G, C/G·…), standardised over the last axis,
//                 then per-channel γ (C), β (C)
//   LayerNorm     (…, d1…dk): standardised over the last k axes, then elementwise γ, β of
//                 shape (d1…dk)
//   InstanceNorm  (N, C, …): standardised per (sample, channel) over the spatial axes, then
//                 optionally per-channel γ (C), β (C)
//
// Defaults follow PyTorch: ε = 1e-5; GroupNorm and LayerNorm are affine, InstanceNorm is not.
// Parameters (named in the layer's scope): `gamma`, default ones; `beta`, default zeros.
//
// The affine helpers below (the parameters and their per-channel application) serve
// BatchNorm.swift too; its training mode has a fused primitive of its own in TensorCore.

extension Tensor {
    /// (x − mean) / √(biased variance + ε) over `axes`, keeping the shape.
    func standardized(alongAxes axes: [Int], epsilon: Float) -> Tensor {
        let deviations = self - mean(alongAxes: axes, keepingDimensions: true)
        let variance = deviations.squared().mean(alongAxes: axes, keepingDimensions: true)
        return deviations / (variance + epsilon).sqrt()
    }
}

/// A normalisation's learned scale and shift, `gamma` then `beta` (the order of the store),
/// each of `shape`; both nil when not `affine`.
func affineParameters(shape: [Int], affine: Bool, gammaInitializer: Initializer, betaInitializer: Initializer,
                      scope: ParameterScope) -> (gamma: Tensor?, beta: Tensor?) {
    guard affine else { return (nil, nil) }
    let gamma = scope.parameter("gamma", shape: shape, initializer: gammaInitializer)
    let beta = scope.parameter("beta", shape: shape, initializer: betaInitializer)
    return (gamma, beta)
}

/// Applies per-channel `gamma` and `beta` (each (C)) to (N, C, …) data.
func channelAffine(_ x: Tensor, gamma: Tensor?, beta: Tensor?) -> Tensor {
    var channelShape = [Int](repeating: 1, count: x.rank)  // (1, C, 1, …)
    channelShape[1] = x.shape[1]
    var output = x
    if let gamma { output = output * gamma.reshaped(channelShape) }
    if let beta { output = output + beta.reshaped(channelShape) }
    return output
}

/// Group normalisation (Wu & He): (N, C, …) → same shape; C is split into `groupCount`
/// groups whose values are standardised together per sample.
public struct GroupNorm: Layer {
    public let groupCount: Int
    public let channelCount: Int
    public let epsilon: Float
    /// (C) scale, or nil when not affine.
    public let gamma: Tensor?
    /// (C) shift, or nil when not affine.
    public let beta: Tensor?

    public init(
        groupCount: Int, channelCount: Int, epsilon: Float = 1e-5, affine: Bool = true,
        gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, scope: ParameterScope
    ) {
        precondition(groupCount >= 1 && channelCount % groupCount == 0,
                     "GroupNorm: \(channelCount) channels are not divisible into \(groupCount) groups")
        precondition(epsilon > 0, "GroupNorm: epsilon \(epsilon) must be positive")
        self.groupCount = groupCount
        self.channelCount = channelCount
        self.epsilon = epsilon
        (gamma, beta) = affineParameters(shape: [channelCount], affine: affine, gammaInitializer: gammaInitializer,
                                         betaInitializer: betaInitializer, scope: scope)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == channelCount,
                     "GroupNorm: input \(input.shape) must be (N, \(channelCount), …)")
        let grouped = input.reshaped([input.shape[0], groupCount, -1])  // (N, G, C/G·…)
        let normalized = grouped.standardized(alongAxes: [2], epsilon: epsilon).reshaped(input.shape)
        return channelAffine(normalized, gamma: gamma, beta: beta)
    }
}

/// Layer normalisation (Ba et al.): standardises over the last `normalizedShape.count` axes,
/// whose extents must equal `normalizedShape`; then elementwise γ and β of that shape.
public struct LayerNorm: Layer {
    public let normalizedShape: [Int]
    public let epsilon: Float
    /// `normalizedShape` scale, or nil when not affine.
    public let gamma: Tensor?
    /// `normalizedShape` shift, or nil when not affine.
    public let beta: Tensor?

    /// - Parameter normalizedShape: the trailing extents to normalise over, e.g. `[C]` for
    ///   (N, T, C) or `[C, H, W]` for a whole NCHW sample.
    public init(
        normalizedShape: [Int], epsilon: Float = 1e-5, affine: Bool = true,
        gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, scope: ParameterScope
    ) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 >= 1 },
                     "LayerNorm: normalized shape \(normalizedShape) must be non-empty and positive")
        precondition(epsilon > 0, "LayerNorm: epsilon \(epsilon) must be positive")
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        (gamma, beta) = affineParameters(shape: normalizedShape, affine: affine, gammaInitializer: gammaInitializer,
                                         betaInitializer: betaInitializer, scope: scope)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        let k = normalizedShape.count
        precondition(input.rank >= k && Array(input.shape.suffix(k)) == normalizedShape,
                     "LayerNorm: input \(input.shape) must end in \(normalizedShape)")
        var output = input.standardized(alongAxes: Array((input.rank - k)..<input.rank), epsilon: epsilon)
        if let gamma { output = output * gamma }  // broadcasts over the leading axes
        if let beta { output = output + beta }
        return output
    }
}

/// Instance normalisation (Ulyanov et al.): (N, C, L) or (N, C, H, W) → same shape; each
/// (sample, channel) plane is standardised over its spatial axes. No running statistics:
/// training and inference behave the same.
public struct InstanceNorm: Layer {
    public let channelCount: Int
    public let epsilon: Float
    /// (C) scale, or nil when not affine (the default).
    public let gamma: Tensor?
    /// (C) shift, or nil when not affine (the default).
    public let beta: Tensor?

    public init(
        channelCount: Int, epsilon: Float = 1e-5, affine: Bool = false,
        gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, scope: ParameterScope
    ) {
        precondition(channelCount >= 1, "InstanceNorm: channel count \(channelCount) must be positive")
        precondition(epsilon > 0, "InstanceNorm: epsilon \(epsilon) must be positive")
        self.channelCount = channelCount
        self.epsilon = epsilon
        (gamma, beta) = affineParameters(shape: [channelCount], affine: affine, gammaInitializer: gammaInitializer,
                                         betaInitializer: betaInitializer, scope: scope)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 3 && input.shape[1] == channelCount,
                     "InstanceNorm: input \(input.shape) must be (N, \(channelCount), spatial…)")
        let normalized = input.standardized(alongAxes: Array(2..<input.rank), epsilon: epsilon)
        return channelAffine(normalized, gamma: gamma, beta: beta)
    }
}
