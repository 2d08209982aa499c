import TensorCore

// Stop training when a monitored metric stops improving, with the semantics of Keras's
// EarlyStopping callback (called once per epoch, epochs numbered from 0):
//
//   improvement:  current < best − δ  (minimise)   or   current > best + δ  (maximise);
//                 the first metric always improves (there is no best yet)
//   per epoch e:
//     wait += 1
//     if improvement:  best = current, bestEpoch = e, wait = 0 (and snapshot the parameters)
//     else if wait ≥ patience and e > 0:  stop (stoppedEpoch = e)
//
// So with patience p, training stops after p epochs in a row without improvement (and never
// after the first epoch, even with p = 0). Keras's defaults: min_delta 0, patience 0.
//
// Restoring the best parameters: with `restoresBestParameters`, every improvement copies the
// parameters' scalars (and the first epoch does even without one, as Keras); after stopping,
// `restoreBestParameters(into:)` writes them back. Unlike Keras, nothing is restored
// automatically: the caller decides when.
//
// State (`stateValues`): "best" (±∞ before the first metric), "wait", "epoch" (metrics seen),
// "bestEpoch", "stoppedEpoch" (−1 while running). The snapshot is tensors, not numbers: a
// checkpoint saves it through `bestParameterTensors()` and restores it with
// `loadBestParameters(_:)`.

/// Decides when to stop training, and remembers the best parameters.
public struct EarlyStopping: ResumableState {
    /// Whether the metric should fall or rise.
    public let mode: MetricMode
    /// Epochs without improvement tolerated before stopping.
    public let patience: Int
    /// δ, the absolute margin a metric must beat the best by.
    public let minDelta: Double
    /// Whether to keep a copy of the parameters at the best epoch.
    public let restoresBestParameters: Bool

    /// The best metric so far (±∞ before the first).
    public private(set) var best: Double
    /// Epochs since the last improvement.
    public private(set) var wait = 0
    /// The number of metrics recorded (the next epoch's index).
    public private(set) var epoch = 0
    /// The epoch of the best metric.
    public private(set) var bestEpoch = 0
    /// The epoch at which stopping was decided, if it was.
    public private(set) var stoppedEpoch: Int?
    /// Copies of the parameters' scalars at the best epoch, by name, in parameter order.
    private var bestParameters: [(name: String, shape: [Int], scalars: [Float])]?

    public init(mode: MetricMode = .minimize, patience: Int = 0, minDelta: Double = 0, restoresBestParameters: Bool = false) {
        precondition(patience >= 0 && minDelta >= 0, "EarlyStopping: negative patience \(patience) or minDelta \(minDelta)")
        self.mode = mode
        self.patience = patience
        self.minDelta = minDelta
        self.restoresBestParameters = restoresBestParameters
        self.best = mode.worstValue
    }

    /// Whether stopping has been decided.
    public var shouldStop: Bool { stoppedEpoch != nil }

    /// Records the metric of one epoch; returns true when training should stop.
    ///
    /// - Parameter parameters: the model's parameters, copied when the metric improves (only
    ///   read when `restoresBestParameters`).
    @discardableResult
    public mutating func update(_ metric: Float, parameters: [(name: String, tensor: Tensor)] = []) -> Bool {
        precondition(!restoresBestParameters || !parameters.isEmpty,
                     "EarlyStopping: restoresBestParameters needs the parameters passed to update")
        let current = Double(metric)
        let index = epoch
        epoch += 1
        if restoresBestParameters && bestParameters == nil { bestParameters = EarlyStopping.snapshot(parameters) }
        wait += 1
        if index == 0 || mode.isImprovement(current, over: best, minDelta: minDelta) {
            best = current
            bestEpoch = index
            wait = 0
            if restoresBestParameters { bestParameters = EarlyStopping.snapshot(parameters) }
            return false
        }
        if wait >= patience && index > 0 {
            stoppedEpoch = index
            return true
        }
        return false
    }

    /// Writes the snapshot of the best epoch back into `parameters` (matched by name). Returns
    /// false when there is no snapshot (restoring was off, or no epoch was recorded).
    @discardableResult
    public func restoreBestParameters(into parameters: [(name: String, tensor: Tensor)]) -> Bool {
        guard let bestParameters else { return false }
        var byName: [String: Tensor] = [:]
        for (name, tensor) in parameters { byName[name] = tensor }
        for saved in bestParameters {
            guard let tensor = byName[saved.name] else {
                preconditionFailure("EarlyStopping: the snapshot's parameter \(saved.name) is not among those given")
            }
            precondition(tensor.shape == saved.shape,
                         "EarlyStopping: \(saved.name) has shape \(tensor.shape), the snapshot \(saved.shape)")
            tensor.scalars = saved.scalars
        }
        return true
    }

    /// The snapshot as (name, tensor) pairs (new tensors), for a checkpoint; empty if none.
    public func bestParameterTensors() -> [(path: String, tensor: Tensor)] {
        (bestParameters ?? []).map { ($0.name, Tensor(shape: $0.shape, scalars: $0.scalars)) }
    }

    /// Replaces the snapshot with saved tensors (as written by `bestParameterTensors`).
    public mutating func loadBestParameters(_ tensors: [(path: String, tensor: Tensor)]) {
        bestParameters = tensors.isEmpty ? nil : tensors.map { ($0.path, $0.tensor.shape, $0.tensor.scalars) }
    }

    public var stateValues: [String: Double] {
        ["best": best, "wait": Double(wait), "epoch": Double(epoch), "bestEpoch": Double(bestEpoch),
         "stoppedEpoch": Double(stoppedEpoch ?? -1)]
    }

    public mutating func restoreState(from values: [String: Double]) throws {
        let savedBest = try values.stateValue("best")
        let savedWait = try values.stateCount("wait")
        let savedEpoch = try values.stateCount("epoch")
        let savedBestEpoch = try values.stateCount("bestEpoch")
        let savedStopped = try values.stateValue("stoppedEpoch") { $0 >= -1 && $0 == $0.rounded() && $0 < 9.0e15 }
        best = savedBest
        wait = savedWait
        epoch = savedEpoch
        bestEpoch = savedBestEpoch
        stoppedEpoch = savedStopped < 0 ? nil : Int(savedStopped)
    }

    private static func snapshot(_ parameters: [(name: String, tensor: Tensor)]) -> [(name: String, shape: [Int], scalars: [Float])] {
        parameters.map { ($0.name, $0.tensor.shape, $0.tensor.scalars) }
    }
}
