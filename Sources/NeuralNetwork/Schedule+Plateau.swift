// Reduce the learning rate when a monitored metric stops improving, with the semantics of
// Keras's ReduceLROnPlateau callback (called once per epoch with the metric, e.g. val_loss):
//
//   improvement:  current < best − δ  (minimise)   or   current > best + δ  (maximise)
//                 — an absolute margin δ = `minDelta` (Keras's min_delta, default 1e-4), not
//                 PyTorch's relative threshold
//   per epoch:
//     if in cooldown (counter > 0): counter −= 1, wait = 0
//     if improvement:               best = current, wait = 0
//     else if not in cooldown:      wait += 1
//        if wait ≥ patience and η > η_min:
//            η = max(η · factor, η_min), counter = cooldown, wait = 0
//
// Note that, as in Keras, `wait` is not reset when η is already at η_min, and the first epoch
// always improves on the initial best (±∞). Keras's defaults: factor 0.1, patience 10,
// min_delta 1e-4, cooldown 0, min_lr 0.
//
// State (`stateValues`): "learningRate", "best" (±∞ before the first metric), "wait",
// "cooldownCounter".

/// Lowers the learning rate by `factor` when the metric has not improved for `patience` epochs.
public struct ReduceLearningRateOnPlateau: ResumableState {
    /// Whether the metric should fall or rise.
    public let mode: MetricMode
    /// The factor (0 < factor < 1) applied to the learning rate on a plateau.
    public let factor: Float
    /// Epochs without improvement before the rate is reduced.
    public let patience: Int
    /// δ, the absolute margin a metric must beat the best by.
    public let minDelta: Double
    /// Epochs after a reduction during which no new plateau is counted.
    public let cooldown: Int
    /// η_min, the floor of the learning rate.
    public let minimumLearningRate: Float

    /// The current learning rate, to set on the optimizer.
    public private(set) var learningRate: Float
    /// The best metric so far (±∞ before the first).
    public private(set) var best: Double
    /// Epochs since the last improvement (or reduction).
    public private(set) var wait = 0
    /// Epochs of cooldown left.
    public private(set) var cooldownCounter = 0

    public init(initialLearningRate: Float, mode: MetricMode = .minimize, factor: Float = 0.1, patience: Int = 10,
                minDelta: Double = 1e-4, cooldown: Int = 0, minimumLearningRate: Float = 0) {
        precondition(factor > 0 && factor < 1, "ReduceLearningRateOnPlateau: factor \(factor) must lie in (0, 1)")
        precondition(patience >= 0 && cooldown >= 0 && minDelta >= 0 && minimumLearningRate >= 0 && initialLearningRate >= 0,
                     "ReduceLearningRateOnPlateau: negative patience, cooldown, minDelta or learning rate")
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minimumLearningRate = minimumLearningRate
        self.learningRate = initialLearningRate
        self.best = mode.worstValue
    }

    /// Records the metric of one epoch and returns the learning rate for the next.
    @discardableResult
    public mutating func update(_ metric: Float) -> Float {
        let current = Double(metric)
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if mode.isImprovement(current, over: best, minDelta: minDelta) {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {
            wait += 1
            if wait >= patience && learningRate > minimumLearningRate {
                learningRate = Swift.max(learningRate * factor, minimumLearningRate)
                cooldownCounter = cooldown
                wait = 0
            }
        }
        return learningRate
    }

    /// Records the metric of one epoch and sets the optimizer's base learning rate.
    public mutating func update(_ metric: Float, optimizer: Optimizer) {
        optimizer.learningRate = update(metric)
    }

    public var stateValues: [String: Double] {
        ["learningRate": Double(learningRate), "best": best, "wait": Double(wait), "cooldownCounter": Double(cooldownCounter)]
    }

    public mutating func restoreState(from values: [String: Double]) throws {
        let rate = try values.stateValue("learningRate") { $0 >= 0 && $0.isFinite }
        let savedBest = try values.stateValue("best")
        let savedWait = try values.stateCount("wait")
        let savedCooldown = try values.stateCount("cooldownCounter")
        learningRate = Float(rate)
        best = savedBest
        wait = savedWait
        cooldownCounter = savedCooldown
    }
}
