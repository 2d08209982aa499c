import Foundation
import TensorCore

// Weight initialisers. Fans follow Keras and PyTorch: for a weight of shape
// (out, in, k1, k2, …) fan-in = in·k1·k2·…, fan-out = out·k1·k2·…; a Linear weight is stored
// (in, out) (see Linear.swift), so there fan-in = shape[0], fan-out = shape[1].

/// How a parameter's initial values are drawn.
public indirect enum Initializer {
    /// U(−√(6/(fanIn+fanOut)), +√(6/(fanIn+fanOut))): Keras's default for Dense and Conv kernels.
    case glorotUniform(fans: Fans)
    /// N(0, 2/fanIn): Kaiming/He for ReLU networks.
    case heNormal(fans: Fans)
    /// U(−√(6/fanIn), +√(6/fanIn)): Kaiming/He uniform.
    case heUniform(fans: Fans)
    /// U(−1/√fanIn, +1/√fanIn): PyTorch's default for Linear/Conv biases.
    case fanInUniform(fans: Fans)
    case zeros
    case ones
    case constant(Float)
    /// Another initialiser's values times `gain` (a small gain starts a layer near zero while
    /// keeping its inputs' gradients alive, unlike `.zeros`).
    case scaled(Initializer, gain: Float)

    /// Fan-in and fan-out of a weight.
    public struct Fans {
        public let fanIn: Int
        public let fanOut: Int

        public init(fanIn: Int, fanOut: Int) {
            self.fanIn = fanIn
            self.fanOut = fanOut
        }

        /// Fans of a convolution weight (out, in/groups, kernel…).
        public static func convolution(_ shape: [Int]) -> Fans {
            let receptive = shape.dropFirst(2).reduce(1, *)
            return Fans(fanIn: shape[1] * receptive, fanOut: shape[0] * receptive)
        }

        /// Fans of a Linear weight stored (in, out).
        public static func linear(_ shape: [Int]) -> Fans { Fans(fanIn: shape[0], fanOut: shape[1]) }
    }

    public func make(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .glorotUniform(let fans):
            let limit = Float(Foundation.sqrt(6.0 / Double(max(fans.fanIn + fans.fanOut, 1))))
            return Tensor.uniform(shape, low: -limit, high: limit, using: &generator)
        case .heNormal(let fans):
            let std = Float(Foundation.sqrt(2.0 / Double(max(fans.fanIn, 1))))
            return Tensor.normal(shape, std: std, using: &generator)
        case .heUniform(let fans):
            let limit = Float(Foundation.sqrt(6.0 / Double(max(fans.fanIn, 1))))
            return Tensor.uniform(shape, low: -limit, high: limit, using: &generator)
        case .fanInUniform(let fans):
            let limit = Float(1 / Foundation.sqrt(Double(max(fans.fanIn, 1))))
            return Tensor.uniform(shape, low: -limit, high: limit, using: &generator)
        case .zeros:
            return Tensor.zeros(shape)
        case .ones:
            return Tensor.ones(shape)
        case .constant(let value):
            return Tensor.full(shape, value: value)
        case .scaled(let base, let gain):
            return Tensor(shape: shape, scalars: base.make(shape, using: &generator).scalars.map { $0 * gain })
        }
    }
}
