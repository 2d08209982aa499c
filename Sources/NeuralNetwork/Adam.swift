import Foundation
import TensorCore

// Adam (Kingma & Ba 2015), computed exactly as PyTorch's `torch.optim.Adam` (single-tensor
// path). Per parameter θ with gradient g, learning rate η, update count t (1 on the first
// update), moments m and v (zero before the first update):
//
//   d  = g + λ·θ                           (optional L2 penalty, PyTorch's `weight_decay`)
//   m ← m + (1 − β1)·(d − m)               (= β1·m + (1 − β1)·d, PyTorch's lerp form)
//   v ← β2·v + (1 − β2)·d²
//   m̂ = m / (1 − β1ᵗ),   v̂ = v / (1 − β2ᵗ)
//   θ ← θ − η·m̂ / (√v̂ + ε)
//
// evaluated in PyTorch's order: the bias corrections in double, then per element
// θ ← θ − (η / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε).
//
// ε presets: Keras uses 1e-7, PyTorch 1e-8. Both presets use the formula above; note that
// Keras itself places ε differently (θ ← θ − η·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε), i.e. an ε
// not bias-corrected), so only the constant is Keras's here.
//
// State slots: "m" and "v", shaped like the parameter.

/// Adam with PyTorch's bias correction.
public struct Adam: UpdateRule {
    /// Keras's default ε.
    public static let kerasEpsilon: Float = 1e-7
    /// PyTorch's default ε.
    public static let pytorchEpsilon: Float = 1e-8

    /// β1, the decay of the first moment (double, as PyTorch's Python floats: 1 − β is
    /// formed in double and only then rounded to float, so 1 − 0.999 is 0.001, not 0.00099999).
    public let beta1: Double
    /// β2, the decay of the second moment (double, see `beta1`).
    public let beta2: Double
    /// ε, added to √v̂ (see `kerasEpsilon`, `pytorchEpsilon`).
    public let epsilon: Float
    /// λ of the coupled L2 penalty (0 by default; prefer `AdamW` for decoupled decay).
    public let weightDecay: Float

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Float = Adam.pytorchEpsilon, weightDecay: Float = 0) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas (\(beta1), \(beta2)) must lie in [0, 1)")
        precondition(epsilon >= 0, "Adam: negative epsilon \(epsilon)")
        precondition(weightDecay >= 0, "Adam: negative weight decay \(weightDecay)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public var slotNames: [String] { ["m", "v"] }

    public func applySingle(_ update: ParameterUpdate) {
        let t = Double(update.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2 = 1 - Foundation.pow(beta2, t)
        let stepSize = Float(Double(update.learningRate) / biasCorrection1)
        let biasCorrection2Root = Float(biasCorrection2.squareRoot())
        let oneMinusBeta1 = Float(1 - beta1), oneMinusBeta2 = Float(1 - beta2)
        let b2 = Float(beta2), eps = epsilon, decay = weightDecay
        // Eight elements per step: each lane does exactly the scalar arithmetic, in the same
        // order, so results are bit-identical to an element loop (which the compiler does not
        // vectorise here, not knowing that θ, m and v never overlap).
        forEachBlock(update) { theta, g, m, v in
            let d = g + decay * theta
            m = m + oneMinusBeta1 * (d - m)
            v = b2 * v + oneMinusBeta2 * (d * d)
            let denominator = VectorMath.squareRoot(v) / biasCorrection2Root + eps  // sqrtps, not sqrtf per lane
            theta = theta - stepSize * (m / denominator)
        }
    }
}

/// Runs `body(θ, g, m, v)` over a parameter's elements in blocks of 8 (the last one padded
/// with zeros), writing θ and the two slots m, v back.
@inline(__always)
private func forEachBlock(
    _ update: ParameterUpdate,
    _ body: (inout SIMD8<Float>, SIMD8<Float>, inout SIMD8<Float>, inout SIMD8<Float>) -> Void
) {
    typealias Block = SIMD8<Float>
    let theta = update.values, g = update.gradient, m = update.slots[0], v = update.slots[1]
    var i = 0
    while i + Block.scalarCount <= update.count {
        let offset = i * MemoryLayout<Float>.stride
        var thetaBlock = UnsafeRawPointer(theta).loadUnaligned(fromByteOffset: offset, as: Block.self)
        var mBlock = UnsafeRawPointer(m).loadUnaligned(fromByteOffset: offset, as: Block.self)
        var vBlock = UnsafeRawPointer(v).loadUnaligned(fromByteOffset: offset, as: Block.self)
        body(&thetaBlock, UnsafeRawPointer(g).loadUnaligned(fromByteOffset: offset, as: Block.self), &mBlock, &vBlock)
        UnsafeMutableRawPointer(theta).storeBytes(of: thetaBlock, toByteOffset: offset, as: Block.self)
        UnsafeMutableRawPointer(m).storeBytes(of: mBlock, toByteOffset: offset, as: Block.self)
        UnsafeMutableRawPointer(v).storeBytes(of: vBlock, toByteOffset: offset, as: Block.self)
        i += Block.scalarCount
    }
    let remaining = update.count - i
    guard remaining > 0 else { return }
    var thetaBlock = Block(), gBlock = Block(), mBlock = Block(), vBlock = Block()
    for lane in 0..<remaining {
        (thetaBlock[lane], gBlock[lane], mBlock[lane], vBlock[lane]) = (theta[i + lane], g[i + lane], m[i + lane], v[i + lane])
    }
    body(&thetaBlock, gBlock, &mBlock, &vBlock)
    for lane in 0..<remaining {
        (theta[i + lane], m[i + lane], v[i + lane]) = (thetaBlock[lane], mBlock[lane], vBlock[lane])
    }
}

// AdamW (Loshchilov & Hutter 2019), as PyTorch's `torch.optim.AdamW`: the weight decay is
// decoupled from the gradient, applied to θ before the Adam step with the same η:
//
//   θ ← θ·(1 − η·λ)          (the factor computed in double, as PyTorch)
//   θ ← Adam step on g       (no L2 term in the gradient)
//
// State slots: "m" and "v", as Adam.

/// Adam with decoupled weight decay, as PyTorch's AdamW.
public struct AdamW: UpdateRule {
    /// The Adam step (its own `weightDecay` is 0).
    public let adam: Adam
    /// λ of the decoupled decay (PyTorch's default 0.01).
    public let weightDecay: Float

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Float = Adam.pytorchEpsilon, weightDecay: Float = 0.01) {
        precondition(weightDecay >= 0, "AdamW: negative weight decay \(weightDecay)")
        adam = Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0)
        self.weightDecay = weightDecay
    }

    public var slotNames: [String] { adam.slotNames }

    public func applySingle(_ update: ParameterUpdate) {
        if weightDecay != 0 {
            let theta = update.values
            let keep = Float(1 - Double(update.learningRate) * Double(weightDecay))
            for i in 0..<update.count { theta[i] *= keep }
        }
        adam.applySingle(update)
    }
}
