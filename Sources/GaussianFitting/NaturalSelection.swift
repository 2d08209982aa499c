import Foundation
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// Gradient-driven natural selection (after Deng et al., 2025, "Gradient-Driven Natural Selection
// for Compact 3D Gaussian Splatting"), for Image-GS fits: start with M Gaussians, let the
// rendering loss decide which survive a uniform pull on their opacities, end with exactly N.
//
// Each Gaussian carries an opacity logit ô (M), α = sigmoid(ô), a factor on its contribution
// w·c before normalisation: C = Σ α_k w_k c_k / (Σ w_k + ε) (docs/RASTERIZATION.md). That is
// the top-K render of colours α·c, so the fitter renders those and a survivor's α folds into
// its colour exactly. (A factor on the weight in both sums would cancel under a common scale:
// the uniform pressure below would then cost the render nothing and select nothing.) The K per
// pixel are still chosen by distance, so a fading Gaussian keeps its place and its rendering
// gradient, and resists if the image needs it.
//
// During the selection window (`windowStart`…`windowEnd`, fractions of the fit's steps):
//   - survival pressure, the same gradient for every logit (a global field):
//     3λ·(mean(ô) − prior)², prior = −20; optionally, in the window's first part
//     (`fastDecayFraction`, off by default), λ·(mean((ô − prior) / max(0.05, 1 − α)))², which
//     pushes high-opacity Gaussians down faster;
//   - λ starts where the pressure matches the median rendering gradient of the logits, and
//     every `interval` steps is × 1.2 when the N-th largest opacity is above a target falling
//     linearly from its value at the window's start to 0 at its end, × 0.8 otherwise;
//   - the logits' learning rate is × 4;
//   - every `interval` steps, Gaussians with α < 0.001 are removed (never below N); once fewer
//     than 1.05·N remain, or at the window's end, a final cut keeps exactly N, drawn without
//     replacement with probability ∝ α (seeded).
// Removed Gaussians leave nothing behind: their rows of every Adam state go with them.
// After the final cut each survivor's α is folded into its colour (the render is unchanged but
// for the removed Gaussians) and the fit goes on with the N survivors as a plain fit.

/// Settings of natural selection in an Image-GS fit.
public struct NaturalSelection: Sendable, Equatable {
    /// M: the Gaussians the fit starts with (more than the fit's N).
    public var startingCount: Int
    /// The window, as fractions of the fit's steps.
    public var windowStart: Float = 0.1, windowEnd: Float = 0.6
    /// The share of the window that uses the faster-decay pressure. 0 (off): on photo
    /// sipi_2_1_01 (256², N = 512, M = 3413, 2000 steps) a third of the window of it gave
    /// 25.49 dB against 25.91 without (high-opacity Gaussians are pushed down first, and their
    /// colours cannot follow).
    public var fastDecayFraction: Float = 0
    /// The logits' prior (the pull's fixed point).
    public var prior: Float = -20
    /// Steps between λ adaptations and removals (chosen on photo sipi_2_1_01: λ moving every
    /// 10 steps overshoots and the set collapses at once).
    public var interval = 50
    /// The logits' Adam learning rate (× 4 inside the window).
    public var learningRate: Float = 0.05
    /// Opacity below which a Gaussian is removed.
    public var removalOpacity: Float = 0.001

    public init(startingCount: Int) { self.startingCount = startingCount }

    /// The window's first and last step for a fit of `steps` steps (at least one step long).
    func window(steps: Int) -> ClosedRange<Int> {
        let first = Int((Float(steps) * windowStart).rounded())
        return first...Swift.max(first + 1, Int((Float(steps) * windowEnd).rounded()))
    }
}

/// The state of one selection run: the logits, their optimiser, λ and the target.
final class NaturalSelector {
    let settings: NaturalSelection
    let budget: Int
    let window: ClosedRange<Int>
    /// ô, (current count), or nil after the final cut.
    private(set) var logits: Tensor?
    private let optimizer: Optimizer
    var lambda: Float = 0
    private var startOpacity: Float = 0

    init(settings: NaturalSelection, budget: Int, steps: Int) {
        precondition(budget >= 1 && settings.startingCount > budget,
                     "NaturalSelector: start with more Gaussians (\(settings.startingCount)) than the budget (\(budget))")
        self.settings = settings
        self.budget = budget
        window = settings.window(steps: steps)
        logits = Tensor(shape: [settings.startingCount], scalars: [Float](repeating: 0, count: settings.startingCount), requiresGrad: true)
        optimizer = Optimizer(Adam(), learningRate: settings.learningRate)
    }

    var isSelecting: Bool { logits != nil }

    /// Image-GS rows (n, 8) with their colours times α, while selecting (else the rows).
    func withOpacity(_ rows: Tensor) -> Tensor {
        guard let logits else { return rows }
        let parts = rows.split(sizes: [5, 3], alongAxis: 1)
        return Tensor.concatenated([parts[0], parts[1] * logits.sigmoid().reshaped([-1, 1])], alongAxis: 1)
    }

    /// The survival pressure at `step` (nil outside the window or after the cut).
    func pressure(at step: Int) -> Tensor? {
        guard let logits, window.contains(step), lambda > 0 else { return nil }
        let fastDecayEnd = window.lowerBound + Int(Float(window.count) * settings.fastDecayFraction)
        return Self.pressure(logits: logits, lambda: lambda, prior: settings.prior, fastDecay: step < fastDecayEnd)
    }

    /// λ·(mean((ô − prior) / max(0.05, 1 − α)))² (fast decay) or 3λ·(mean(ô) − prior)², a scalar.
    static func pressure(logits: Tensor, lambda: Float, prior: Float, fastDecay: Bool) -> Tensor {
        let shifted = logits - prior
        if fastDecay {
            let headroom = (1 - logits.sigmoid()).clamped(min: 0.05)
            return (shifted / headroom).mean().squared() * lambda
        }
        return shifted.mean().squared() * (3 * lambda)
    }

    /// λ that makes the pressure's gradient on each logit, 6λ(mean(ô) − prior)/M, the median
    /// size of the logits' rendering gradient `gradient`.
    static func matchingLambda(gradient: [Float], logits: [Float], prior: Float) -> Float {
        let sizes = gradient.map { Swift.abs($0) }.sorted()
        let median = sizes.isEmpty ? 0 : sizes[sizes.count / 2]
        let offset = Swift.max(logits.reduce(0, +) / Float(Swift.max(logits.count, 1)) - prior, 1e-3)
        return Swift.max(median, 1e-12) * Float(logits.count) / (6 * offset)
    }

    /// λ × 1.2 when the `budget`-th largest opacity is above `target`, × 0.8 otherwise.
    static func adaptedLambda(_ lambda: Float, opacities: [Float], budget: Int, target: Float) -> Float {
        nthLargest(opacities, budget) > target ? lambda * 1.2 : lambda * 0.8
    }

    /// The `n`-th largest of `values` (the smallest when there are fewer).
    static func nthLargest(_ values: [Float], _ n: Int) -> Float { values.sorted(by: >)[Swift.min(n, values.count) - 1] }

    /// The opacities α (current count).
    var opacities: [Float] { logits.map { $0.scalars.map { 1 / (1 + Foundation.exp(-$0)) } } ?? [] }

    /// One Adam step on the logits (their gradient from this step's loss), with the window's
    /// faster rate. At the window's first step, where the pressure is still off, λ comes from
    /// the rendering gradient alone.
    func update(step: Int) {
        guard let logits else { return }
        if step == window.lowerBound, let gradient = logits.grad {
            lambda = Self.matchingLambda(gradient: gradient.scalars, logits: logits.scalars, prior: settings.prior)
            startOpacity = Self.nthLargest(opacities, budget)
        }
        optimizer.learningRate = settings.learningRate * (window.contains(step) ? 4 : 1)
        optimizer.update([("logits", logits)])
        logits.zeroGrad()
    }

    /// Rows (ascending) that stay, and after the final cut their opacities, to fold into colours.
    struct Survivors {
        let rows: [Int]
        let foldedOpacities: [Float]?
    }

    /// After step `step`: adapts λ and returns the rows to keep when Gaussians go (removals, or
    /// the final cut to exactly `budget`), nil when all stay. After the final cut the selector
    /// holds no logits.
    func survivors(after step: Int, using generator: inout RandomGenerator) -> Survivors? {
        guard let logits, step >= window.lowerBound else { return nil }
        let finalCut = step >= window.upperBound
        if !finalCut && (step - window.lowerBound) % settings.interval != 0 { return nil }
        let alphas = opacities, count = alphas.count  // only on adaptation steps: M exponentials
        if !finalCut && lambda > 0 {
            let progress = Float(step - window.lowerBound) / Float(window.count - 1)
            lambda = Self.adaptedLambda(lambda, opacities: alphas, budget: budget, target: startOpacity * (1 - progress))
        }
        // Removal of the faded (the most faded first, never below the budget).
        var kept = Array(0..<count)
        let faded = (0..<count).filter { alphas[$0] < settings.removalOpacity }.sorted { (alphas[$0], $0) < (alphas[$1], $1) }
        let removable = Swift.min(faded.count, count - budget)
        if removable > 0 {
            let removed = Set(faded.prefix(removable))
            kept = kept.filter { !removed.contains($0) }
        }
        if finalCut || Double(kept.count) < 1.05 * Double(budget) {
            self.logits = nil
            let chosen = Self.weightedSample(kept, weights: kept.map { alphas[$0] }, count: budget, using: &generator)
            return Survivors(rows: chosen, foldedOpacities: chosen.map { alphas[$0] })
        }
        guard kept.count < count else { return nil }
        let survivorsLogits = Tensor(shape: [kept.count], scalars: kept.map { logits.scalars[$0] }, requiresGrad: true)
        optimizer.keepRows(kept, ofParameter: "logits")
        self.logits = survivorsLogits
        return Survivors(rows: kept, foldedOpacities: nil)
    }

    /// The final cut now (a fit that ends before the window does): exactly `budget` Gaussians
    /// drawn ∝ α; nil when no longer selecting.
    func cut(using generator: inout RandomGenerator) -> Survivors? {
        guard isSelecting else { return nil }
        let alphas = opacities
        logits = nil
        let chosen = Self.weightedSample(Array(0..<alphas.count), weights: alphas, count: budget, using: &generator)
        return Survivors(rows: chosen, foldedOpacities: chosen.map { alphas[$0] })
    }

    /// `count` of `items` drawn without replacement with probability ∝ `weights` (Efraimidis–
    /// Spirakis: the largest keys log(u)/w), returned in ascending order.
    static func weightedSample(_ items: [Int], weights: [Float], count: Int, using generator: inout RandomGenerator) -> [Int] {
        guard items.count > count else { return items }
        let keys = weights.map { weight -> Double in
            let u = Swift.max(Double(generator.nextUniform()), 1e-300)
            return weight > 0 ? Foundation.log(u) / Double(weight) : -.infinity
        }
        let order = (0..<items.count).sorted { keys[$0] != keys[$1] ? keys[$0] > keys[$1] : $0 < $1 }
        return order.prefix(count).map { items[$0] }.sorted()
    }
}
