import Foundation

// Learning-rate schedules that are pure functions of a step count t (0 for the first update):
//
//   constant       η(t) = η₀
//   step decay     η(t) = η₀ · γ^⌊t / k⌋                        (PyTorch's StepLR)
//   exponential    η(t) = η₀ · r^(t / T)   (⌊t / T⌋ if staircase) (Keras's ExponentialDecay;
//                                                                 T = 1 is PyTorch's ExponentialLR)
//   cosine with linear warm-up (optax's warmup_cosine_decay_schedule), W warm-up steps,
//   S total steps, rates η_init → η_peak → η_min:
//       t < W:       η(t) = η_init + (η_peak − η_init) · t / W
//       W ≤ t < S:   η(t) = η_min + (η_peak − η_min) · ½ (1 + cos(π (t − W) / (S − W)))
//       t ≥ S:       η(t) = η_min
//
// t counts whatever unit the caller chooses: updates (pass `optimizer.step` before updating)
// or epochs. These schedules hold no state of their own, so resuming them exactly needs only
// that count, which the checkpoint saves with the optimizer (`Optimizer.step`) or the trainer
// (the epoch). Schedules that react to metrics (ReduceLearningRateOnPlateau, EarlyStopping)
// do hold state; they conform to `ResumableState`, whose `stateValues` is a small dictionary
// of numbers that `restoreState` takes back exactly.
//
// Rates are computed in double and returned as float.

/// A learning rate as a function of the step (or epoch) count.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step` (0 for the first).
    func learningRate(at step: Int) -> Float
}

/// Progress that saves as a few named numbers and restores exactly.
public protocol ResumableState {
    /// The state as named numbers (integers are stored exactly; ±∞ marks "no best yet").
    var stateValues: [String: Double] { get }
    /// Restores the state saved by `stateValues`; throws if a value is missing or invalid.
    mutating func restoreState(from values: [String: Double]) throws
}

/// Thrown by `restoreState` when saved values do not describe a valid state.
public enum ScheduleStateError: Error, CustomStringConvertible {
    case missingValue(String)
    case invalidValue(String, Double)

    public var description: String {
        switch self {
        case .missingValue(let key): return "schedule state: value \"\(key)\" is missing"
        case .invalidValue(let key, let value): return "schedule state: \"\(key)\" = \(value) is invalid"
        }
    }
}

extension Dictionary where Key == String, Value == Double {
    /// The value at `key`, which must exist and satisfy `isValid`.
    func stateValue(_ key: String, _ isValid: (Double) -> Bool = { !$0.isNaN }) throws -> Double {
        guard let value = self[key] else { throw ScheduleStateError.missingValue(key) }
        guard isValid(value) else { throw ScheduleStateError.invalidValue(key, value) }
        return value
    }

    /// The non-negative integer at `key`.
    func stateCount(_ key: String) throws -> Int {
        Int(try stateValue(key) { $0 >= 0 && $0 == $0.rounded() && $0 < 9.0e15 })
    }
}

/// Whether a monitored metric should fall (a loss) or rise (an accuracy, PSNR).
public enum MetricMode: Sendable {
    case minimize
    case maximize

    /// Whether `current` beats `best` by more than `minDelta` (Keras: current < best − δ when
    /// minimising, current > best + δ when maximising).
    func isImprovement(_ current: Double, over best: Double, minDelta: Double) -> Bool {
        switch self {
        case .minimize: return current < best - minDelta
        case .maximize: return current > best + minDelta
        }
    }

    /// The starting "best": +∞ when minimising, −∞ when maximising.
    var worstValue: Double { self == .minimize ? .infinity : -.infinity }
}

/// η(t) = η₀.
public struct ConstantSchedule: LearningRateSchedule {
    public let learningRate: Float

    public init(learningRate: Float) {
        precondition(learningRate >= 0, "ConstantSchedule: negative learning rate \(learningRate)")
        self.learningRate = learningRate
    }

    public func learningRate(at step: Int) -> Float { learningRate }
}

/// η(t) = η₀ · γ^⌊t / k⌋: multiplied by γ every k steps (PyTorch's StepLR).
public struct StepDecaySchedule: LearningRateSchedule {
    /// η₀.
    public let initialLearningRate: Float
    /// k, the steps (or epochs) between decays.
    public let stepSize: Int
    /// γ, the factor applied every k steps.
    public let gamma: Float

    public init(initialLearningRate: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(initialLearningRate >= 0 && stepSize >= 1 && gamma > 0,
                     "StepDecaySchedule: needs η₀ ≥ 0, stepSize ≥ 1, γ > 0 (got \(initialLearningRate), \(stepSize), \(gamma))")
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "StepDecaySchedule: negative step \(step)")
        return Float(Double(initialLearningRate) * Foundation.pow(Double(gamma), Double(step / stepSize)))
    }
}

/// η(t) = η₀ · r^(t / T), or r^⌊t / T⌋ when `staircase` (Keras's ExponentialDecay).
public struct ExponentialDecaySchedule: LearningRateSchedule {
    /// η₀.
    public let initialLearningRate: Float
    /// r, the factor per T steps.
    public let decayRate: Float
    /// T, the steps over which the rate falls by r (1: PyTorch's ExponentialLR with γ = r).
    public let decaySteps: Int
    /// Whether the exponent is rounded down (a step function).
    public let staircase: Bool

    public init(initialLearningRate: Float, decayRate: Float, decaySteps: Int = 1, staircase: Bool = false) {
        precondition(initialLearningRate >= 0 && decayRate > 0 && decaySteps >= 1,
                     "ExponentialDecaySchedule: needs η₀ ≥ 0, r > 0, T ≥ 1 (got \(initialLearningRate), \(decayRate), \(decaySteps))")
        self.initialLearningRate = initialLearningRate
        self.decayRate = decayRate
        self.decaySteps = decaySteps
        self.staircase = staircase
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "ExponentialDecaySchedule: negative step \(step)")
        let exponent = staircase ? Double(step / decaySteps) : Double(step) / Double(decaySteps)
        return Float(Double(initialLearningRate) * Foundation.pow(Double(decayRate), exponent))
    }
}

/// Linear warm-up from η_init to η_peak over W steps, then cosine decay to η_min at step S
/// (optax's warmup_cosine_decay_schedule); η_min after S.
public struct CosineWarmupSchedule: LearningRateSchedule {
    /// η_peak, reached at step W.
    public let peakLearningRate: Float
    /// W, the warm-up steps (0: start at the peak).
    public let warmupSteps: Int
    /// S, the step at which the decay reaches η_min (S > W).
    public let totalSteps: Int
    /// η_min, the floor of the decay.
    public let minimumLearningRate: Float
    /// η_init, the rate at step 0 of the warm-up (default 0).
    public let initialLearningRate: Float

    public init(peakLearningRate: Float, warmupSteps: Int, totalSteps: Int, minimumLearningRate: Float = 0,
                initialLearningRate: Float = 0) {
        precondition(warmupSteps >= 0 && totalSteps > warmupSteps,
                     "CosineWarmupSchedule: needs 0 ≤ warmupSteps < totalSteps (got \(warmupSteps), \(totalSteps))")
        precondition(peakLearningRate >= 0 && minimumLearningRate >= 0 && initialLearningRate >= 0,
                     "CosineWarmupSchedule: negative learning rate")
        self.peakLearningRate = peakLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
        self.initialLearningRate = initialLearningRate
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "CosineWarmupSchedule: negative step \(step)")
        let peak = Double(peakLearningRate), minimum = Double(minimumLearningRate)
        if step < warmupSteps {
            let initial = Double(initialLearningRate)
            return Float(initial + (peak - initial) * Double(step) / Double(warmupSteps))
        }
        if step >= totalSteps { return minimumLearningRate }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        return Float(minimum + (peak - minimum) * 0.5 * (1 + Foundation.cos(Double.pi * progress)))
    }
}
