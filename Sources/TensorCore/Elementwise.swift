import Foundation

// Element-wise arithmetic with NumPy broadcasting, and unary math functions.
// Each primitive's pullback sits beside its forward. A broadcast operand's gradient is summed
// back to its own shape (`reduced(toShape:)`).

/// An element-wise function with its derivative, written in terms of the input x and/or the
/// output y = f(x), so the pullback needs no recomputation.
protocol DifferentiableScalarFunction: ScalarFunction1 {
    func derivative(_ x: Float, _ y: Float) -> Float
}

/// g · f′(x, y): the pullback of a unary op, element by element.
private struct ChainRule<F: DifferentiableScalarFunction>: ScalarFunction3 {
    let f: F
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float, _ g: Float) -> Float { g * f.derivative(x, y) }
}

extension Tensor {
    /// A differentiable op with one input: y = f(x), dL/dx = dL/dy · f′(x, y).
    @inline(__always)
    func unaryOp<F: DifferentiableScalarFunction>(_ name: String, _ f: F) -> Tensor {
        let output = mapScalars(scalars, f)
        let input = self
        return Tensor.record(name, shape: shape, scalars: output, inputs: [self]) { gradient in
            let dx = zipScalars(input.scalars, output, gradient.scalars, ChainRule(f: f))
            return [Tensor(shape: input.shape, scalars: dx)]
        }
    }

    /// Sums a broadcast gradient back to `target` (the shape of the operand that was broadcast).
    public func reduced(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let extra = rank - target.count
        precondition(extra >= 0, "reduced(toShape:): \(shape) cannot reduce to \(target)")
        var axes = Array(0..<extra)
        for (i, extent) in target.enumerated() where extent == 1 && shape[extra + i] != 1 {
            axes.append(extra + i)
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(target)
    }
}

// MARK: - Binary arithmetic

struct Add: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x + y } }
struct Subtract: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x - y } }
struct Multiply: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x * y } }
struct Divide: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x / y } }

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, output) = broadcastScalars(a, b, Add())
        return record("add", shape: shape, scalars: output, inputs: [a, b]) { g in
            [g.reduced(toShape: a.shape), g.reduced(toShape: b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, output) = broadcastScalars(a, b, Subtract())
        return record("sub", shape: shape, scalars: output, inputs: [a, b]) { g in
            [g.reduced(toShape: a.shape), (-g).reduced(toShape: b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, output) = broadcastScalars(a, b, Multiply())
        return record("mul", shape: shape, scalars: output, inputs: [a, b]) { g in
            [
                a.requiresGrad ? (g * b).reduced(toShape: a.shape) : nil,
                b.requiresGrad ? (g * a).reduced(toShape: b.shape) : nil,
            ]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, output) = broadcastScalars(a, b, Divide())
        return record("div", shape: shape, scalars: output, inputs: [a, b]) { g in
            // d(a/b)/da = 1/b;  d(a/b)/db = -a/b²
            [
                a.requiresGrad ? (g / b).reduced(toShape: a.shape) : nil,
                b.requiresGrad ? (-(g * a) / (b * b)).reduced(toShape: b.shape) : nil,
            ]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.unaryOp("neg", Negate())
    }

    // Mixed tensor–scalar forms: the scalar broadcasts as a rank-0 tensor.
    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }
}

// MARK: - Unary math

struct Negate: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { -x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

/// eˣ in branch-free form (VectorMath.swift), so the loop over elements is vectorised.
struct Exponential: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.exp(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct NaturalLogarithm: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

struct SquareRoot: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

/// |x|; the derivative at 0 is taken as 0.
struct AbsoluteValue: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

struct Power: DifferentiableScalarFunction {
    let exponent: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { exponent == 2 ? x * x : Foundation.pow(x, exponent) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { exponent == 2 ? 2 * x : exponent * Foundation.pow(x, exponent - 1) }
}

/// The gradient passes only where no limit is active.
struct Clamp: DifferentiableScalarFunction {
    let lower: Float, upper: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, lower), upper) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x >= lower && x <= upper ? 1 : 0 }
}

extension Tensor {
    public func exp() -> Tensor { unaryOp("exp", Exponential()) }

    /// Natural logarithm.
    public func log() -> Tensor { unaryOp("log", NaturalLogarithm()) }

    public func sqrt() -> Tensor { unaryOp("sqrt", SquareRoot()) }

    /// |x|; the derivative at 0 is taken as 0.
    public func abs() -> Tensor { unaryOp("abs", AbsoluteValue()) }

    /// x raised to a constant power.
    public func pow(_ exponent: Float) -> Tensor { unaryOp("pow", Power(exponent: exponent)) }

    public func squared() -> Tensor { self * self }

    /// Limits values to `[lower, upper]`; the gradient passes only where no limit is active.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        precondition(lower <= upper, "clamped: min \(lower) > max \(upper)")
        return unaryOp("clamp", Clamp(lower: lower, upper: upper))
    }
}

// MARK: - Selection

extension Tensor {
    /// Element-wise `condition ? a : b` with broadcasting; `condition` is a mask (non-zero is
    /// true) and takes no gradient.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape), b.shape)
        let mask = condition.expandedScalars(to: shape)
        let x = a.expandedScalars(to: shape), y = b.expandedScalars(to: shape)
        let output = zipScalars(mask, x, y) { m, p, q in m != 0 ? p : q }
        return record("where", shape: shape, scalars: output, inputs: [a, b]) { g in
            let ga = zipScalars(mask, g.scalars) { m, v in m != 0 ? v : 0 }
            let gb = zipScalars(mask, g.scalars) { m, v in m != 0 ? 0 : v }
            return [
                Tensor(shape: shape, scalars: ga).reduced(toShape: a.shape),
                Tensor(shape: shape, scalars: gb).reduced(toShape: b.shape),
            ]
        }
    }

    /// Element-wise minimum; at ties the gradient goes to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor.where(a.compared(b) { $0 <= $1 }, a, b)
    }

    /// Element-wise maximum; at ties the gradient goes to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor.where(a.compared(b) { $0 >= $1 }, a, b)
    }

    /// A 0/1 mask of `predicate(a, b)` with broadcasting (no gradient).
    public func compared(_ other: Tensor, _ predicate: @escaping (Float, Float) -> Bool) -> Tensor {
        let (shape, output) = broadcastScalars(self, other) { predicate($0, $1) ? 1 : 0 }
        return Tensor(shape: shape, scalars: output)
    }

    /// The elements read as if broadcast to `target` (no gradient; a plain copy when equal).
    func expandedScalars(to target: [Int]) -> [Float] {
        if shape == target { return scalars }
        return broadcastScalars(self, Tensor(0), alsoBroadcastingTo: target) { x, _ in x }.scalars
    }
}

// MARK: - Dropout

extension Tensor {
    /// Inverted dropout: each element is zeroed when its uniform draw from `generator` (one per
    /// element, in row-major order) is below `rate`; the others are scaled by 1/(1 − rate), so
    /// the expected output equals the input. The mask is a constant of the graph: the gradient
    /// is the upstream gradient times the mask.
    public func dropout(rate: Float, using generator: inout RandomGenerator) -> Tensor {
        precondition(rate >= 0 && rate < 1, "dropout: rate \(rate) must lie in [0, 1)")
        let keptScale = 1 / (1 - rate)
        // nextUniform() is b·2⁻²⁴ for the top 24 bits b of next(), exactly, and rate·2²⁴ is
        // exact too, so u ≥ rate ⟺ b ≥ ⌈rate·2²⁴⌉. The draws go into a small buffer first, so
        // the masking loop is free of the generator and vectorises (compares and blends, where
        // a loop deciding element by element compiles to an unpredictable branch).
        let threshold = Int32((rate * 16_777_216).rounded(.up)), blockSize = 256
        var mask = uninitializedScalars(count), output = uninitializedScalars(count)  // each like self
        scalars.withUnsafeBufferPointer { x in
            mask.withUnsafeMutableBufferPointer { m in
                output.withUnsafeMutableBufferPointer { y in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: blockSize) { bits in
                        for start in stride(from: 0, to: x.count, by: blockSize) {
                            let end = Swift.min(start + blockSize, x.count)
                            for i in start..<end { bits[i - start] = Int32(truncatingIfNeeded: generator.next() >> 40) }
                            for i in start..<end {
                                m[i] = bits[i - start] >= threshold ? keptScale : 0
                                y[i] = x[i] * m[i]
                            }
                        }
                    }
                }
            }
        }
        let kept = mask
        return Tensor.record("dropout", shape: shape, scalars: output, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: zipScalars(g.scalars, kept, Multiply()))]
        }
    }
}
