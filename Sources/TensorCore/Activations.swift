import Foundation

// Activation functions: element-wise primitives whose derivatives use the input x and/or
// the output y (see `unaryOp`).

extension Tensor {
    public func relu() -> Tensor {
        unaryOp("relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
    }

    /// x for x > 0, slope·x otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        unaryOp("leakyRelu", { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
    }

    /// x for x > 0, α·(eˣ − 1) otherwise; derivative y + α there.
    public func elu(alpha: Float = 1) -> Tensor {
        unaryOp("elu", { $0 > 0 ? $0 : alpha * Foundation.expm1($0) }, derivative: { x, y in x > 0 ? 1 : y + alpha })
    }

    /// Gaussian error linear unit, exact form x·Φ(x) (PyTorch's default):
    /// derivative Φ(x) + x·φ(x).
    public func gelu() -> Tensor {
        let inverseSqrt2: Float = 0.70710678118654752
        let inverseSqrt2Pi: Float = 0.39894228040143268
        return unaryOp(
            "gelu", { 0.5 * $0 * (1 + Foundation.erf($0 * inverseSqrt2)) },
            derivative: { x, _ in
                0.5 * (1 + Foundation.erf(x * inverseSqrt2)) + x * inverseSqrt2Pi * Foundation.exp(-0.5 * x * x)
            })
    }

    /// 1 / (1 + e^−x), computed without overflow; derivative y·(1 − y).
    public func sigmoid() -> Tensor {
        unaryOp(
            "sigmoid",
            { x in x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) },
            derivative: { _, y in y * (1 - y) })
    }

    /// Hyperbolic tangent; derivative 1 − y².
    public func tanh() -> Tensor {
        unaryOp("tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }

    /// log(1 + eˣ), computed stably; derivative σ(x).
    public func softplus() -> Tensor {
        unaryOp(
            "softplus", { x in Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) },
            derivative: { x, _ in x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) })
    }

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

// MARK: - Trigonometry

extension Tensor {
    public func sin() -> Tensor {
        unaryOp("sin", { Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) })
    }

    public func cos() -> Tensor {
        unaryOp("cos", { Foundation.cos($0) }, derivative: { x, _ in -Foundation.sin(x) })
    }
}
