import TensorCore

// Optimizers in the manner of mlx-swift: each algorithm (SGD, Adam, AdamW) is an `UpdateRule`
// that implements ONE function, `applySingle`, updating a single parameter in place from its
// gradient and its own state slots; the `Optimizer` class loops over the named parameters,
// keeps the per-parameter state, resolves per-group learning rates and counts steps.
//
// State naming (shared with checkpoints). State is keyed by the parameter's dotted name; each
// slot is addressed as "<parameter name>/<slot>":
//
//   encoder.conv1.weight/m       Adam's first moment, shaped like the parameter
//   encoder.conv1.weight/v       Adam's second moment
//   encoder.conv1.weight/momentum  SGD's momentum buffer
//   encoder.conv1.weight/step    this parameter's update count t, a scalar (shape []) float32
//
// The per-parameter count is kept as PyTorch does (`state["step"]`): a parameter skipped at
// some step (it had no gradient) is not advanced, so its bias correction stays exact. The
// optimizer-wide `step` counts calls of `update`. A float32 count is exact up to 2²⁴ updates.
//
// Updates run without recording gradients and write `tensor.scalars` in place through unsafe
// pointers: no per-element closures, no allocation per element.

/// What `applySingle` sees for one parameter: raw pointers to `count` elements each.
public struct ParameterUpdate {
    /// θ, updated in place.
    public let values: UnsafeMutablePointer<Float>
    /// ∂L/∂θ, read only.
    public let gradient: UnsafePointer<Float>
    /// The number of elements of θ, of the gradient and of every slot.
    public let count: Int
    /// The rule's state slots, in the order of its `slotNames`; all zero before the first update.
    public let slots: [UnsafeMutablePointer<Float>]
    /// The learning rate for this parameter (its group's) at this step.
    public let learningRate: Float
    /// t: how many times this parameter has been updated, counting this update (1 on the first).
    public let step: Int
}

/// An optimisation algorithm: its hyperparameters and its single-parameter update.
public protocol UpdateRule {
    /// The names of the per-parameter state slots, each shaped like the parameter
    /// (e.g. ["m", "v"]). They become checkpoint paths "<parameter>/<slot>".
    var slotNames: [String] { get }

    /// Updates one parameter in place from its gradient and its slots.
    func applySingle(_ update: ParameterUpdate)
}

/// Thrown by `Optimizer.loadState` when saved state does not fit the model.
public enum OptimizerStateError: Error, CustomStringConvertible {
    /// A path is not "<parameter>/<slot>".
    case malformedPath(String)
    /// The state names a parameter that the model lacks.
    case unknownParameter(path: String)
    /// The state names a slot the update rule does not use.
    case unknownSlot(path: String, expected: [String])
    /// A parameter's state lacks one of the rule's slots (or its step).
    case missingSlot(parameter: String, slot: String)
    /// A saved tensor's shape differs from its parameter's (or a step is not a scalar).
    case shapeMismatch(path: String, expected: [Int], found: [Int])
    /// A saved step count is negative or not an integer.
    case invalidStep(path: String, value: Float)

    public var description: String {
        switch self {
        case .malformedPath(let path):
            return "optimizer state: path \"\(path)\" is not <parameter>/<slot>"
        case .unknownParameter(let path):
            return "optimizer state: \(path) belongs to no parameter of this model"
        case .unknownSlot(let path, let expected):
            return "optimizer state: \(path) is not a slot of this optimizer (slots: \(expected + ["step"]))"
        case .missingSlot(let parameter, let slot):
            return "optimizer state: \(parameter)/\(slot) is missing"
        case .shapeMismatch(let path, let expected, let found):
            return "optimizer state: \(path) has shape \(found), expected \(expected)"
        case .invalidStep(let path, let value):
            return "optimizer state: \(path) = \(value) is not a step count"
        }
    }
}

/// Loops an `UpdateRule` over named parameters, holding per-parameter state and step counts.
///
///     let optimizer = Optimizer(Adam(), learningRate: 1e-3,
///                               groups: [ParameterGroup(prefix: "decoder", learningRate: .scaled(0.1))])
///     loss.backward()
///     optimizer.update(store)      // θ ← rule(θ, ∂L/∂θ) for every parameter with a gradient
///     store.zeroGradients()
public final class Optimizer {
    /// The algorithm and its hyperparameters.
    public let rule: any UpdateRule
    /// The base learning rate; schedules set it between steps. Groups scale or replace it.
    public var learningRate: Float
    /// Parameter groups with their own learning rates; the first group containing a parameter
    /// applies, parameters in no group use `learningRate`.
    public var groups: [ParameterGroup]
    /// The number of `update` calls so far.
    public private(set) var step: Int = 0

    /// One parameter's state: its update count and its slots (shaped like the parameter).
    private final class ParameterState {
        var updates: Int
        let slots: [Tensor]

        init(updates: Int, slots: [Tensor]) {
            self.updates = updates
            self.slots = slots
        }
    }

    private var states: [String: ParameterState] = [:]
    /// Parameter names in the order their state was created (the order of `stateTensors`).
    private var stateOrder: [String] = []

    public init(_ rule: any UpdateRule, learningRate: Float, groups: [ParameterGroup] = []) {
        precondition(learningRate >= 0, "Optimizer: negative learning rate \(learningRate)")
        precondition(!rule.slotNames.contains("step"), "Optimizer: \"step\" is reserved and cannot name a slot")
        self.rule = rule
        self.learningRate = learningRate
        self.groups = groups
    }

    /// The learning rate that the parameter called `name` gets at the current base rate.
    public func learningRate(forParameter name: String) -> Float {
        guard let group = groups.first(where: { $0.contains(name) }) else { return learningRate }
        switch group.learningRate {
        case .scaled(let multiplier): return learningRate * multiplier
        case .fixed(let rate): return rate
        }
    }

    /// Applies one step of the rule to every parameter of `store` that has a gradient.
    public func update(_ store: ParameterStore) { update(store.parameters) }

    /// Applies one step of the rule to every parameter that has a gradient; parameters without
    /// one (`grad == nil`) are skipped and keep their state and count.
    public func update(_ parameters: [(name: String, tensor: Tensor)]) {
        step += 1
        let slotNames = rule.slotNames
        withoutGradients {
            for (name, parameter) in parameters {
                guard let gradient = parameter.grad, parameter.count > 0 else { continue }
                precondition(gradient.shape == parameter.shape,
                             "Optimizer: gradient \(gradient.shape) of \(name) does not match its shape \(parameter.shape)")
                let state = self.state(for: name, shape: parameter.shape, slotNames: slotNames)
                state.updates += 1
                let rate = learningRate(forParameter: name), updates = state.updates
                gradient.scalars.withUnsafeBufferPointer { g in
                    parameter.scalars.withUnsafeMutableBufferPointer { p in
                        withMutablePointers(to: state.slots) { slots in
                            rule.applySingle(ParameterUpdate(
                                values: p.baseAddress!, gradient: g.baseAddress!, count: p.count,
                                slots: slots, learningRate: rate, step: updates))
                        }
                    }
                }
            }
        }
    }

    /// The state of `name`, created with zero slots on first use.
    private func state(for name: String, shape: [Int], slotNames: [String]) -> ParameterState {
        if let existing = states[name] {
            precondition(existing.slots.allSatisfy { $0.shape == shape },
                         "Optimizer: state of \(name) has shape \(existing.slots.first?.shape ?? []), parameter \(shape)")
            return existing
        }
        let created = ParameterState(updates: 0, slots: slotNames.map { _ in Tensor.zeros(shape) })
        states[name] = created
        stateOrder.append(name)
        return created
    }

    // MARK: - Saving and restoring

    /// Every parameter's state as (path, tensor) pairs: per parameter (in the order first
    /// updated) its "<name>/step" (a new scalar tensor) then each "<name>/<slot>" (the
    /// optimizer's own slot tensors, not copies: do not modify them).
    public func stateTensors() -> [(path: String, tensor: Tensor)] {
        var result: [(path: String, tensor: Tensor)] = []
        let slotNames = rule.slotNames
        for name in stateOrder {
            let state = states[name]!
            result.append(("\(name)/step", Tensor(Float(state.updates))))
            for (slot, tensor) in zip(slotNames, state.slots) { result.append(("\(name)/\(slot)", tensor)) }
        }
        return result
    }

    /// The state of one parameter by slot name ("step" as a new scalar tensor, the slots as the
    /// optimizer's own tensors), or nil before its first update.
    public func state(ofParameter name: String) -> [String: Tensor]? {
        guard let state = states[name] else { return nil }
        var result = ["step": Tensor(Float(state.updates))]
        for (slot, tensor) in zip(rule.slotNames, state.slots) { result[slot] = tensor }
        return result
    }

    /// Replaces all state with saved `tensors` (as written by `stateTensors`) and the
    /// optimizer-wide `step`, checking every path and shape against `parameters`. Values are
    /// copied. On error the optimizer is left unchanged.
    public func loadState(_ tensors: [(path: String, tensor: Tensor)], step: Int,
                          parameters: [(name: String, tensor: Tensor)]) throws {
        precondition(step >= 0, "Optimizer.loadState: negative step \(step)")
        let slotNames = rule.slotNames
        var shapes: [String: [Int]] = [:]
        for (name, tensor) in parameters { shapes[name] = tensor.shape }

        var found: [String: [String: Tensor]] = [:]
        var order: [String] = []
        for (path, tensor) in tensors {
            guard let separator = path.lastIndex(of: "/") else { throw OptimizerStateError.malformedPath(path) }
            let name = String(path[..<separator]), slot = String(path[path.index(after: separator)...])
            guard !name.isEmpty, !slot.isEmpty else { throw OptimizerStateError.malformedPath(path) }
            guard let shape = shapes[name] else { throw OptimizerStateError.unknownParameter(path: path) }
            guard slot == "step" || slotNames.contains(slot) else {
                throw OptimizerStateError.unknownSlot(path: path, expected: slotNames)
            }
            let expected = slot == "step" ? [] : shape
            guard tensor.shape == expected else {
                throw OptimizerStateError.shapeMismatch(path: path, expected: expected, found: tensor.shape)
            }
            if found[name] == nil { order.append(name) }
            found[name, default: [:]][slot] = tensor
        }

        var loaded: [String: ParameterState] = [:]
        for name in order {
            let saved = found[name]!
            guard let stepTensor = saved["step"] else { throw OptimizerStateError.missingSlot(parameter: name, slot: "step") }
            let count = stepTensor.scalars[0]
            guard count >= 0, count == count.rounded(), count <= 16_777_216 else {
                throw OptimizerStateError.invalidStep(path: "\(name)/step", value: count)
            }
            var slots: [Tensor] = []
            for slot in slotNames {
                guard let tensor = saved[slot] else { throw OptimizerStateError.missingSlot(parameter: name, slot: slot) }
                slots.append(Tensor(shape: tensor.shape, scalars: tensor.scalars))
            }
            loaded[name] = ParameterState(updates: Int(count), slots: slots)
        }
        states = loaded
        stateOrder = order
        self.step = step
    }

    /// Keeps only rows `rows` (indices along the first axis, in the order given) of the state of
    /// the parameter called `name`, for a parameter that keeps only those rows (pruning); its
    /// update count stays. Nothing happens before its first update.
    public func keepRows(_ rows: [Int], ofParameter name: String) {
        guard let state = states[name] else { return }
        let slots = state.slots.map { slot -> Tensor in
            let rowSize = slot.shape.dropFirst().reduce(1, *), count = slot.shape.first ?? 0
            var values = [Float]()
            values.reserveCapacity(rows.count * rowSize)
            slot.scalars.withUnsafeBufferPointer { old in
                for row in rows {
                    precondition(row >= 0 && row < count, "Optimizer.keepRows: row \(row) of \(name), which has \(count)")
                    values.append(contentsOf: old[(row * rowSize)..<((row + 1) * rowSize)])
                }
            }
            return Tensor(shape: [rows.count] + slot.shape.dropFirst(), scalars: values)
        }
        states[name] = ParameterState(updates: state.updates, slots: slots)
    }

    /// Forgets all per-parameter state and sets `step` to 0 (a fresh start with the same rule).
    public func resetState() {
        states = [:]
        stateOrder = []
        step = 0
    }
}

/// Calls `body` with mutable pointers to the scalars of every tensor in `tensors` (distinct
/// objects), nesting one `withUnsafeMutableBufferPointer` per tensor so all stay valid.
private func withMutablePointers(to tensors: [Tensor], _ body: ([UnsafeMutablePointer<Float>]) -> Void) {
    var pointers: [UnsafeMutablePointer<Float>] = []
    pointers.reserveCapacity(tensors.count)
    func nest(_ index: Int) {
        if index == tensors.count {
            body(pointers)
            return
        }
        tensors[index].scalars.withUnsafeMutableBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            nest(index + 1)
        }
    }
    nest(0)
}

// MARK: - Parameter groups

// Parameter groups: subsets of the parameters, chosen by dotted-name prefix or by a predicate,
// that train at their own learning rate (PyTorch's param_groups, keyed by name).
//
// With base rate η (the optimizer's `learningRate`, which a schedule may change):
//   .scaled(m)  the group trains at m·η, so it follows the schedule;
//   .fixed(r)   the group trains at r whatever η is (r = 0 freezes it, though stateful rules
//               still accumulate their moments, as PyTorch does with lr = 0).

/// A set of parameters, by name, with its own learning rate.
public struct ParameterGroup {
    /// How a group's learning rate relates to the optimizer's base rate η.
    public enum LearningRate: Sendable, Equatable {
        /// m·η: a multiplier on the (possibly scheduled) base rate.
        case scaled(Float)
        /// A constant rate, independent of the base rate.
        case fixed(Float)
    }

    /// A label for diagnostics (the prefix, for prefix groups).
    public let name: String
    /// This group's rate.
    public let learningRate: LearningRate
    private let predicate: (String) -> Bool

    /// The parameters under the scope `prefix`: the name equals `prefix` or starts with
    /// `prefix + "."` ("encoder" holds "encoder.conv1.weight" but not "encoder2.bias").
    public init(prefix: String, learningRate: LearningRate) {
        precondition(!prefix.isEmpty, "ParameterGroup: empty prefix (parameters in no group already use the base rate)")
        ParameterGroup.checkRate(learningRate)
        self.name = prefix
        self.learningRate = learningRate
        let scoped = prefix + "."
        self.predicate = { $0 == prefix || $0.hasPrefix(scoped) }
    }

    /// The parameters whose names satisfy `predicate` (e.g. `{ $0.hasSuffix(".bias") }`).
    public init(name: String, learningRate: LearningRate, where predicate: @escaping (String) -> Bool) {
        ParameterGroup.checkRate(learningRate)
        self.name = name
        self.learningRate = learningRate
        self.predicate = predicate
    }

    /// Whether the parameter called `parameterName` belongs to this group.
    public func contains(_ parameterName: String) -> Bool { predicate(parameterName) }

    private static func checkRate(_ rate: LearningRate) {
        switch rate {
        case .scaled(let multiplier):
            precondition(multiplier >= 0 && multiplier.isFinite, "ParameterGroup: invalid multiplier \(multiplier)")
        case .fixed(let value):
            precondition(value >= 0 && value.isFinite, "ParameterGroup: invalid learning rate \(value)")
        }
    }
}
