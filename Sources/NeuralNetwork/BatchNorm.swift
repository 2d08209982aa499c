import TensorCore

// Batch normalisation over the channel axis (axis 1) of NC, NCL and NCHW data.
//
// Shape letters: N batch, C channels, L length, H height, W width; n = the number of values
// per channel in a batch (N, N·L or N·H·W).
//
//   training:  μ = mean over (N, spatial), σ² = biased variance (÷ n) over (N, spatial),
//              y = (x − μ) / √(σ² + ε) · γ + β       (differentiated through μ and σ²)
//   inference: y = (x − running mean) / √(running variance + ε) · γ + β
//
// Training uses TensorCore's fused primitive `batchNormalized` (statistics, normalisation,
// γ and β in one pass, with a hand-written backward); inference is a composition of
// broadcasting ops. The running statistics are buffers updated in place after each training
// batch, outside the graph, by one of two conventions:
//
//   .keras    momentum m = 0.99, ε = 1e-3:  running = m·running + (1 − m)·batch,
//             with the biased batch variance (÷ n)
//   .pytorch  momentum m = 0.1,  ε = 1e-5:  running = (1 − m)·running + m·batch,
//             with the unbiased batch variance (÷ (n − 1)) for running variance
//
// Parameters and buffers (named in the layer's scope): `gamma` (C), default ones; `beta` (C),
// default zeros (both absent when `affine: false`); buffers `running_mean` (C), initially 0,
// and `running_variance` (C), initially 1.

/// Which framework's batch-norm conventions (momentum meaning, default ε, running-variance
/// estimator) a batch-norm layer follows.
public enum BatchNormConvention: Sendable {
    /// Keras: momentum 0.99 is the weight of the old running value; ε 1e-3; biased variance.
    case keras
    /// PyTorch: momentum 0.1 is the weight of the batch value; ε 1e-5; unbiased running variance.
    case pytorch

    /// 0.99 for Keras, 0.1 for PyTorch.
    public var defaultMomentum: Float {
        switch self {
        case .keras: return 0.99
        case .pytorch: return 0.1
        }
    }

    /// 1e-3 for Keras, 1e-5 for PyTorch.
    public var defaultEpsilon: Float {
        switch self {
        case .keras: return 1e-3
        case .pytorch: return 1e-5
        }
    }

    /// The weight of the old running value in an update with `momentum`.
    public func retainedFraction(momentum: Float) -> Float {
        switch self {
        case .keras: return momentum
        case .pytorch: return 1 - momentum
        }
    }

    /// Whether the running variance is updated with the unbiased (÷ (n − 1)) batch variance.
    public var updatesWithUnbiasedVariance: Bool { self == .pytorch }
}

/// The inputs a batch-norm layer accepts, as a type, so that one definition makes both
/// `BatchNorm1D` ((N, C) or (N, C, L)) and `BatchNorm2D` ((N, C, H, W)).
public protocol BatchNormLayout {
    /// The layer's name, for messages.
    static var layerName: String { get }
    /// Whether an input of this rank is accepted.
    static func accepts(rank: Int) -> Bool
    /// The accepted shapes for `channels` channels, for messages.
    static func shapes(channels: Int) -> String
}

/// (N, C) or (N, C, L): statistics per channel over N (and L).
public enum BatchNormLayout1D: BatchNormLayout {
    public static var layerName: String { "BatchNorm1D" }
    public static func accepts(rank: Int) -> Bool { rank == 2 || rank == 3 }
    public static func shapes(channels: Int) -> String { "(N, \(channels)) or (N, \(channels), L)" }
}

/// (N, C, H, W): statistics per channel over N, H and W.
public enum BatchNormLayout2D: BatchNormLayout {
    public static var layerName: String { "BatchNorm2D" }
    public static func accepts(rank: Int) -> Bool { rank == 4 }
    public static func shapes(channels: Int) -> String { "(N, \(channels), H, W)" }
}

/// Batch normalisation of (N, C, …) data whose layout `Layout` accepts: statistics per channel
/// over every axis but 1. Used as `BatchNorm1D` and `BatchNorm2D`.
///
/// See the top of BatchNorm.swift for the arithmetic, conventions and parameter names.
public struct BatchNorm<Layout: BatchNormLayout>: Layer {
    public let featureCount: Int
    public let convention: BatchNormConvention
    public let momentum: Float
    public let epsilon: Float
    /// (C) scale, or nil when not affine.
    public let gamma: Tensor?
    /// (C) shift, or nil when not affine.
    public let beta: Tensor?
    /// (C) buffer.
    public let runningMean: Tensor
    /// (C) buffer.
    public let runningVariance: Tensor

    /// - Parameters:
    ///   - featureCount: C, the extent of axis 1.
    ///   - convention: `.keras` (default) or `.pytorch`; sets the meaning of `momentum`, the
    ///     default momentum and ε, and the running-variance estimator.
    ///   - momentum, epsilon: nil takes the convention's defaults.
    ///   - affine: whether to learn `gamma` and `beta`.
    public init(
        featureCount: Int, convention: BatchNormConvention = .keras, momentum: Float? = nil, epsilon: Float? = nil,
        affine: Bool = true, gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros,
        scope: ParameterScope
    ) {
        let layer = Layout.layerName
        let momentum = momentum ?? convention.defaultMomentum
        let epsilon = epsilon ?? convention.defaultEpsilon
        precondition(featureCount >= 1, "\(layer): feature count \(featureCount) must be positive")
        precondition(momentum >= 0 && momentum <= 1, "\(layer): momentum \(momentum) must lie in [0, 1]")
        precondition(epsilon > 0, "\(layer): epsilon \(epsilon) must be positive")
        self.featureCount = featureCount
        self.convention = convention
        self.momentum = momentum
        self.epsilon = epsilon
        (gamma, beta) = affineParameters(shape: [featureCount], affine: affine, gammaInitializer: gammaInitializer,
                                         betaInitializer: betaInitializer, scope: scope)
        runningMean = scope.buffer("running_mean", shape: [featureCount], value: 0)
        runningVariance = scope.buffer("running_variance", shape: [featureCount], value: 1)
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        precondition(Layout.accepts(rank: input.rank) && input.shape[1] == featureCount,
                     "\(Layout.layerName): input \(input.shape) must be \(Layout.shapes(channels: featureCount))")
        if training {
            let n = input.count / featureCount
            precondition(n > 1, "batch norm: training needs more than one value per channel, got input \(input.shape)")
            let normalized = input.batchNormalized(gamma: gamma, beta: beta, epsilon: epsilon)
            updateRunningStatistics(batchMean: normalized.mean, batchVariance: normalized.variance, count: n)
            return normalized.output
        }
        var channelShape = [Int](repeating: 1, count: input.rank)  // (1, C, 1, …)
        channelShape[1] = featureCount
        let mean = runningMean.reshaped(channelShape)
        let variance = runningVariance.reshaped(channelShape)
        return channelAffine((input - mean) / (variance + epsilon).sqrt(), gamma: gamma, beta: beta)
    }

    /// running ← r·running + (1 − r)·batch, with r the convention's retained fraction. Plain
    /// writes to the buffers' scalars: no graph is recorded and no gradient flows.
    private func updateRunningStatistics(batchMean: [Float], batchVariance: [Float], count n: Int) {
        let retained = convention.retainedFraction(momentum: momentum)
        let varianceScale: Float = convention.updatesWithUnbiasedVariance ? Float(n) / Float(n - 1) : 1
        // Updated in local copies and stored once (one change of each buffer, one version step).
        var mean = runningMean.scalars, variance = runningVariance.scalars
        for c in 0..<featureCount {
            mean[c] = retained * mean[c] + (1 - retained) * batchMean[c]
            variance[c] = retained * variance[c] + (1 - retained) * batchVariance[c] * varianceScale
        }
        withoutGradients {
            runningMean.scalars = mean
            runningVariance.scalars = variance
        }
    }
}

/// Batch normalisation of (N, C) or (N, C, L): statistics per channel over N (and L).
public typealias BatchNorm1D = BatchNorm<BatchNormLayout1D>

/// Batch normalisation of (N, C, H, W): statistics per channel over N, H and W.
public typealias BatchNorm2D = BatchNorm<BatchNormLayout2D>
