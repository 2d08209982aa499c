import Foundation

// Activation functions: element-wise primitives (structs, see `DifferentiableScalarFunction`)
// whose derivatives use the input x and/or the output y; softmax is a composition.

struct RectifiedLinear: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

struct LeakyRectifiedLinear: DifferentiableScalarFunction {
    let slope: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : slope }
}

/// x for x > 0, α·(eˣ − 1) otherwise; derivative y + α there. Branch-free eˣ − 1
/// (VectorMath.swift), so the loop over elements is vectorised.
struct ExponentialLinear: DifferentiableScalarFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : alpha * VectorMath.expm1OfNonPositive(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : y + alpha }
}

/// Exact GELU x·Φ(x) (PyTorch's default): derivative Φ(x) + x·φ(x).
struct GaussianErrorLinear: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x * 0.70710678118654752)) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        0.5 * (1 + Foundation.erf(x * 0.70710678118654752)) + x * 0.39894228040143268 * Foundation.exp(-0.5 * x * x)
    }
}

/// Φ(x), the standard normal CDF, as ½·erfc(−x/√2) (precise in the lower tail); derivative φ(x).
struct NormalCumulative: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { 0.5 * Foundation.erfc(-x * 0.70710678118654752) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 0.39894228040143268 * Foundation.exp(-0.5 * x * x) }
}

/// 1 / (1 + e^−x), computed without overflow; derivative y·(1 − y).
struct Logistic: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

struct HyperbolicTangent: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

/// log(1 + eˣ), computed stably; derivative σ(x).
struct SoftPlus: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { Logistic()(x) }
}

struct Sine: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.sin(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { Foundation.cos(x) }
}

struct Cosine: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.cos(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -Foundation.sin(x) }
}

extension Tensor {
    public func relu() -> Tensor { unaryOp("relu", RectifiedLinear()) }

    /// x for x > 0, slope·x otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor { unaryOp("leakyRelu", LeakyRectifiedLinear(slope: slope)) }

    /// x for x > 0, α·(eˣ − 1) otherwise.
    public func elu(alpha: Float = 1) -> Tensor { unaryOp("elu", ExponentialLinear(alpha: alpha)) }

    /// Gaussian error linear unit, exact form x·Φ(x).
    public func gelu() -> Tensor { unaryOp("gelu", GaussianErrorLinear()) }

    public func sigmoid() -> Tensor { unaryOp("sigmoid", Logistic()) }

    /// Φ(x), the standard normal cumulative distribution function.
    public func normalCDF() -> Tensor { unaryOp("normalCDF", NormalCumulative()) }

    public func tanh() -> Tensor { unaryOp("tanh", HyperbolicTangent()) }

    /// log(1 + eˣ).
    public func softplus() -> Tensor { unaryOp("softplus", SoftPlus()) }

    public func sin() -> Tensor { unaryOp("sin", Sine()) }

    public func cos() -> Tensor { unaryOp("cos", Cosine()) }

    /// Softmax along `axis`, shifted by the maximum for stability (a composition).
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let shifted = self - self.max(alongAxes: [axis], keepingDimensions: true).detached()
        let exponentials = shifted.exp()
        return exponentials / exponentials.sum(alongAxes: [axis], keepingDimensions: true)
    }

    /// log(softmax) along `axis` (a composition, stable for large inputs).
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let shifted = self - self.max(alongAxes: [axis], keepingDimensions: true).detached()
        return shifted - shifted.exp().sum(alongAxes: [axis], keepingDimensions: true).log()
    }
}
