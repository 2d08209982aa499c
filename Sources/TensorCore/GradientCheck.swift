// A finite-difference gradient checker for any differentiable function of tensors.
//
// The function's output is reduced to the scalar L = Σ f(x)·w with fixed random weights w,
// so every output element's pullback is exercised. For each checked input element the
// central difference (L(x+ε) − L(x−ε)) / 2ε is compared with the analytic gradient.
// Points at a kink (where the one-sided slopes disagree) are skipped and counted; large inputs
// are checked on a seeded random subset of elements.

/// The outcome of one gradient check.
public struct GradientCheckReport: CustomStringConvertible {
    /// Elements compared, across all inputs.
    public var checked = 0
    /// Elements skipped because a kink lies within ε.
    public var skippedAtKinks = 0
    /// The largest error |analytic − numeric| / max(1, |analytic|, |numeric|).
    public var maximumError: Float = 0
    /// Where the largest error occurred: (input index, flat element index, analytic, numeric).
    public var worst: (input: Int, element: Int, analytic: Float, numeric: Float)?

    public var description: String {
        var text = "checked \(checked), skipped \(skippedAtKinks) at kinks, max error \(maximumError)"
        if let worst {
            text += " (input \(worst.input) element \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric))"
        }
        return text
    }
}

public enum GradientCheck {
    /// Compares analytic and central-difference gradients of `function` at `inputs`.
    ///
    /// - Parameters:
    ///   - inputs: the points; each one that has `requiresGrad` is checked.
    ///   - epsilon: the finite-difference step, chosen per op (larger for ops with float32 noise).
    ///   - maximumElements: at most this many elements per input are checked.
    ///   - kinkTolerance: a point is skipped when its one-sided slopes differ by more than this
    ///     (relative to max(1, |slope|)), i.e. a kink lies within ε.
    public static func run(
        _ inputs: [Tensor], epsilon: Float = 1e-2, maximumElements: Int = 48, kinkTolerance: Float = 0.25,
        seed: UInt64 = 7, _ function: ([Tensor]) -> Tensor
    ) -> GradientCheckReport {
        var generator = RandomGenerator(seed: seed)
        let probe = withoutGradients { function(inputs) }
        let weights = Tensor.uniform(probe.shape, low: -1, high: 1, using: &generator)

        /// L = Σ f(x)·w, accumulated in Double.
        func objective() -> Double {
            let output = withoutGradients { function(inputs) }
            var total = 0.0
            for (value, weight) in zip(output.scalars, weights.scalars) { total += Double(value) * Double(weight) }
            return total
        }

        for input in inputs { input.zeroGrad() }
        let output = function(inputs)
        (output * weights).sum().backward()

        var report = GradientCheckReport()
        for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
            let analytic = input.grad?.scalars ?? [Float](repeating: 0, count: input.count)
            var elements = Array(0..<input.count)
            if elements.count > maximumElements {
                elements = Array(generator.permutation(input.count).prefix(maximumElements)).sorted()
            }
            for element in elements {
                let original = input.scalars[element]
                input.scalars[element] = original + epsilon
                let plus = objective()
                input.scalars[element] = original - epsilon
                let minus = objective()
                input.scalars[element] = original
                let center = objective()
                let step = Double(epsilon)
                let slopeRight = (plus - center) / step, slopeLeft = (center - minus) / step
                let scale = Swift.max(1, Swift.abs(slopeRight), Swift.abs(slopeLeft))
                if Swift.abs(slopeRight - slopeLeft) > Double(kinkTolerance) * scale {
                    report.skippedAtKinks += 1
                    continue
                }
                let numeric = Float((plus - minus) / (2 * step))
                let error = Swift.abs(analytic[element] - numeric) / Swift.max(1, Swift.abs(analytic[element]), Swift.abs(numeric))
                report.checked += 1
                if error > report.maximumError || report.worst == nil {
                    report.maximumError = Swift.max(report.maximumError, error)
                    report.worst = (inputIndex, element, analytic[element], numeric)
                }
            }
        }
        return report
    }
}
