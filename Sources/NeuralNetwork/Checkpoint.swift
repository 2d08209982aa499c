import SplatIO
import TensorCore

// Training checkpoints: everything needed to resume a run exactly, in one HDF5 file that h5py
// reads as plainly as SplatKit does. The layout (format version 1; docs/FORMATS.md has the
// full description):
//
//   /                                  attributes: format = "splatkit-checkpoint",
//                                      format_version = 1 (int64), model (the caller's kind
//                                      string), config (YAML text), step, epoch (int64)
//   /parameters/<name as path>         float32, the parameter's shape
//                                      ("encoder.conv1.weight" → /parameters/encoder/conv1/weight)
//   /buffers/<name as path>            float32, the buffer's shape
//   /optimizer                         attributes: step (int64), learning_rate (float64)
//   /optimizer/<name as path>/<slot>   float32: the slots ("m", "v", …) shaped like the
//                                      parameter, and "step" (shape [], the update count)
//   /random/state                      int64 (4): the generator's xoshiro256** words, as bit patterns
//   /random                            attributes: has_spare_normal (int64 0/1), spare_normal (float64)
//   /schedule/<group>                  one float64 attribute per value of `TrainingState.schedules`
//   /metadata                          one string attribute per entry of `TrainingState.metadata`
//                                      (optional: checkpoints from before it have none)
//   /extra/<name as path>              float32: the caller's extra tensors
//
// Saving goes through `writeAtomically`: the file is built under a temporary name in the same
// folder and renamed over the old one only when complete, so a failed save leaves the previous
// checkpoint intact. Loading (Checkpoint+Loading.swift) checks everything before it assigns
// anything, so a failed load leaves the model, optimizer and random stream untouched.

/// The progress of a training run that a checkpoint carries besides the model's tensors.
public struct TrainingState {
    /// The kind of model, chosen by the caller (e.g. "vae1d"); loading into another kind fails.
    public var model: String
    /// The run's configuration as YAML text, saved verbatim so a resumed run can rebuild the
    /// model and trainer before loading the tensors.
    public var config: String
    /// The caller's step count (often `optimizer.step`).
    public var step: Int
    /// The caller's epoch count.
    public var epoch: Int
    /// Named groups of numbers: a `ResumableState`'s `stateValues` (plateau, early stopping)
    /// or the training loop's own counters, e.g. `["plateau": plateau.stateValues]`.
    public var schedules: [String: [String: Double]]
    /// Extra float tensors by dotted name (e.g. early stopping's best parameters, or the
    /// current epoch's shuffling order).
    public var extras: [String: Tensor]
    /// Named strings that describe the run (e.g. the spatial order and recipe of its training
    /// data, for inference); empty in checkpoints written before they existed.
    public var metadata: [String: String]

    public init(model: String, config: String = "", step: Int = 0, epoch: Int = 0,
                schedules: [String: [String: Double]] = [:], extras: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.model = model
        self.config = config
        self.step = step
        self.epoch = epoch
        self.schedules = schedules
        self.extras = extras
        self.metadata = metadata
    }
}

/// Saves and loads training checkpoints (see the layout at the top of Checkpoint.swift).
///
///     try Checkpoint.save(to: "run/last.h5", store: store, optimizer: optimizer,
///                         state: TrainingState(model: "vae1d", config: yaml, step: optimizer.step,
///                                              epoch: epoch, schedules: ["plateau": plateau.stateValues]))
///     // later, in a fresh process, after building the model from the saved config:
///     let state = try Checkpoint.load(from: "run/last.h5", into: store, optimizer: optimizer, model: "vae1d")
///     try plateau.restoreState(from: state.schedules["plateau"] ?? [:])
public enum Checkpoint {
    /// The root `format` attribute of every checkpoint.
    public static let format = "splatkit-checkpoint"
    /// The layout version this SplatKit writes; it reads this version and older ones.
    public static let formatVersion: Int64 = 1

    /// Writes a checkpoint of `store` (parameters, buffers, its random stream), `optimizer`
    /// (its per-parameter state, step and base learning rate; nil saves none) and `state`,
    /// atomically replacing any file at `path`.
    ///
    /// Throws `FileError` naming `path` when a name cannot be stored (a name with '/' or an
    /// empty component, or two names where one is a scope of the other, such as "a.b" and
    /// "a.b.c") or when writing fails; any previous file at `path` is then left as it was.
    public static func save(to path: String, store: ParameterStore, optimizer: Optimizer?, state: TrainingState) throws {
        precondition(state.step >= 0 && state.epoch >= 0,
                     "Checkpoint.save: negative step \(state.step) or epoch \(state.epoch)")
        // A diverged run must not replace a good checkpoint: check before anything is written.
        let optimizerState = optimizer?.stateTensors() ?? []
        try requireFinite(store.parameters, kind: "parameter", path: path, saving: true)
        try requireFinite(store.buffers, kind: "buffer", path: path, saving: true)
        try requireFinite(optimizerState.map { (name: $0.path, tensor: $0.tensor) }, kind: "optimizer state", path: path, saving: true)
        try requireFinite(state.extras.map { (name: $0.key, tensor: $0.value) }, kind: "extra tensor", path: path, saving: true)
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try writeHeader(state, to: file)
            try writeTensors(store.parameters, under: "parameters", kind: "parameter", to: file, reportingAs: path)
            try writeTensors(store.buffers, under: "buffers", kind: "buffer", to: file, reportingAs: path)
            if let optimizer { try writeOptimizer(optimizer, to: file, reportingAs: path) }
            try writeRandom(store.random.generator, to: file)
            try writeSchedules(state.schedules, to: file, reportingAs: path)
            try file.createGroup("metadata")
            for (key, value) in state.metadata.sorted(by: { $0.key < $1.key }) {
                guard !key.isEmpty, !key.contains("/") else { throw FileError(path, "metadata name \"\(key)\" cannot be saved") }
                try file.setAttribute(key, to: value, at: "metadata")
            }
            let extras = state.extras.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }
            try writeTensors(extras, under: "extra", kind: "extra tensor", to: file, reportingAs: path)
            try file.close()
        }
    }

    /// Throws a `FileError` naming `path` and the first tensor holding NaN or ±∞: at save
    /// ("not saved: …"), or at load ("… holds NaN or infinite values").
    static func requireFinite(_ tensors: [(name: String, tensor: Tensor)], kind: String, path: String, saving: Bool) throws {
        guard let bad = tensors.first(where: { !$0.tensor.scalars.allSatisfy(\.isFinite) }) else { return }
        throw FileError(path, saving
                        ? "not saved: \(kind) \(bad.name) holds NaN or infinite values (the training diverged; the previous "
                            + "file, if any, is kept)"
                        : "\(kind) \(bad.name) holds NaN or infinite values (a diverged run or a damaged file)")
    }

    // MARK: - Writing the sections

    private static func writeHeader(_ state: TrainingState, to file: HDF5File) throws {
        try file.setFormat(format, version: formatVersion)
        try file.setAttribute("model", to: state.model)
        try file.setAttribute("config", to: state.config)
        try file.setAttribute("step", to: Int64(state.step))
        try file.setAttribute("epoch", to: Int64(state.epoch))
    }

    /// Writes each tensor at `/<group>/<name as path>`, after checking that the names map to
    /// distinct datasets. The group is created even when empty, so readers find it.
    private static func writeTensors(_ tensors: [(name: String, tensor: Tensor)], under group: String, kind: String,
                                     to file: HDF5File, reportingAs path: String) throws {
        try checkNamesFormATree(tensors.map(\.name), group: group, kind: kind, reportingAs: path)
        try file.createGroup(group)
        for (name, tensor) in tensors {
            try file.write(tensor, to: "\(group)/\(datasetPath(forName: name))")
        }
    }

    /// Writes `/optimizer/<parameter path>/<slot>` for every state tensor, and the step and base
    /// learning rate as attributes of `/optimizer`.
    private static func writeOptimizer(_ optimizer: Optimizer, to file: HDF5File, reportingAs path: String) throws {
        try file.createGroup("optimizer")
        try file.setAttribute("step", to: Int64(optimizer.step), at: "optimizer")
        try file.setAttribute("learning_rate", to: Double(optimizer.learningRate), at: "optimizer")
        let tensors = optimizer.stateTensors()
        var parameterNames: [String] = []
        for (statePath, _) in tensors {
            let (name, slot) = splitStatePath(statePath)
            guard isStorableComponent(slot) else {
                throw FileError(path, "optimizer state \"\(statePath)\" cannot be saved: slot \"\(slot)\" is not a valid HDF5 name")
            }
            if parameterNames.last != name { parameterNames.append(name) }
        }
        try checkNamesFormATree(parameterNames, group: "optimizer", kind: "optimizer state of parameter", reportingAs: path)
        for (statePath, tensor) in tensors {
            let (name, slot) = splitStatePath(statePath)
            try file.write(tensor, to: "optimizer/\(datasetPath(forName: name))/\(slot)")
        }
    }

    /// The generator's four words as int64 bit patterns (HDF5 wrappers and h5py both handle
    /// int64 everywhere), and its spare normal as an attribute with a presence flag.
    private static func writeRandom(_ generator: RandomGenerator, to file: HDF5File) throws {
        let words = generator.state.map { Int64(bitPattern: $0) }
        try file.write(words, shape: [words.count], to: "random/state")
        try file.setAttribute("has_spare_normal", to: Int64(generator.spareNormal == nil ? 0 : 1), at: "random")
        try file.setAttribute("spare_normal", to: Double(generator.spareNormal ?? 0), at: "random")
    }

    private static func writeSchedules(_ schedules: [String: [String: Double]], to file: HDF5File,
                                       reportingAs path: String) throws {
        try file.createGroup("schedule")
        for (group, values) in schedules.sorted(by: { $0.key < $1.key }) {
            guard isStorableComponent(group) else {
                throw FileError(path, "schedule group \"\(group)\" cannot be saved: it must be non-empty, without '/'")
            }
            try file.createGroup("schedule/\(group)")
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                guard !key.isEmpty else { throw FileError(path, "schedule group \"\(group)\" has an empty value name") }
                try file.setAttribute(key, to: value, at: "schedule/\(group)")
            }
        }
    }

    // MARK: - Names and paths

    /// "encoder.conv1.weight" → "encoder/conv1/weight" (for a name that passed `isStorableName`).
    static func datasetPath(forName name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/")
    }

    /// "encoder/conv1/weight" (relative to its section) → "encoder.conv1.weight".
    static func name(forDatasetPath relativePath: String) -> String {
        relativePath.split(separator: "/", omittingEmptySubsequences: true).joined(separator: ".")
    }

    /// Whether a dotted name maps to an HDF5 path and back: non-empty components, no '/'.
    static func isStorableName(_ name: String) -> Bool {
        name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isStorableComponent(String($0)) }
    }

    /// Whether `component` can be one HDF5 link name that survives the round trip.
    static func isStorableComponent(_ component: String) -> Bool {
        !component.isEmpty && !component.contains("/") && component != "." && component != ".."
    }

    /// "encoder.conv1.weight/m" → ("encoder.conv1.weight", "m"), as `Optimizer.stateTensors` names them.
    static func splitStatePath(_ statePath: String) -> (name: String, slot: String) {
        guard let separator = statePath.lastIndex(of: "/") else { return (statePath, "") }
        return (String(statePath[..<separator]), String(statePath[statePath.index(after: separator)...]))
    }

    /// Throws unless every name is storable and none is a scope of another ("a.b" and "a.b.c"
    /// would need /<group>/a/b to be both a dataset and a group).
    private static func checkNamesFormATree(_ names: [String], group: String, kind: String,
                                            reportingAs path: String) throws {
        let all = Set(names)
        for name in names {
            guard isStorableName(name) else {
                throw FileError(path, "\(kind) \"\(name)\" cannot be saved: names must be dot-separated, "
                                + "non-empty components without '/'")
            }
            let components = name.split(separator: ".")
            for length in stride(from: 1, to: components.count, by: 1) {
                let scope = components[..<length].joined(separator: ".")
                if all.contains(scope) {
                    throw FileError(path, "\(kind) names \"\(scope)\" and \"\(name)\" cannot both be saved: "
                                    + "/\(group)/\(datasetPath(forName: scope)) would be both a dataset and a group")
                }
            }
        }
    }
}
