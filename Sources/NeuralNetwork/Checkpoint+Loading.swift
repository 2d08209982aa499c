import SplatIO
import TensorCore

// Loading checkpoints: validate everything, then assign.
//
// Checks run in this order and the first failure throws a `FileError` naming the file:
//   1. the file opens as HDF5 (a truncated or foreign file fails here, in SplatIO's wrapper);
//   2. root `format` is "splatkit-checkpoint"; `format_version` is not newer than this
//      SplatKit's (a newer one asks the user to upgrade); `step` and `epoch` are counts;
//   3. `model` equals the kind the caller expects;
//   4. parameters, then buffers: every name of the model is in the file as float32 with the
//      model's shape (in the model's creation order), then no name in the file is missing from
//      the model — "parameter encoder.conv1.weight: shape [32, 8, 5] in checkpoint,
//      [32, 16, 5] in model";
//   5. optimizer state (when an optimizer is given), the random stream, schedules, extras;
//   6. every tensor read (parameters, buffers, optimizer state, extras) is finite.
// Only then are values assigned. The optimizer goes first because `Optimizer.loadState` does
// its own path and shape checks and changes nothing when it throws; after it nothing can fail.

extension Checkpoint {
    /// Reads a checkpoint's training state (model kind, config, counters, schedules, extras)
    /// without loading it into a model: for rebuilding the model from the saved config first.
    public static func readTrainingState(from path: String) throws -> TrainingState {
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        var state = try readHeader(file)
        try readProgress(file, into: &state)
        return state
    }

    /// Loads the checkpoint at `path` into `store` (parameters, buffers, random stream) and,
    /// when given, `optimizer` (per-parameter state, step, base learning rate), and returns the
    /// saved training state.
    ///
    /// - Parameter model: the model kind the store belongs to; the checkpoint's must be equal.
    /// - Throws: `FileError` naming `path` and the first problem found (see the list at the top
    ///   of Checkpoint+Loading.swift). Nothing is modified unless the whole checkpoint fits.
    @discardableResult
    public static func load(from path: String, into store: ParameterStore, optimizer: Optimizer?,
                            model: String) throws -> TrainingState {
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        var state = try readHeader(file)
        guard state.model == model else {
            throw FileError(path, "checkpoint is for model \"\(state.model)\", not \"\(model)\"")
        }
        let parameters = try readMatching(store.parameters, under: "parameters", kind: "parameter", from: file)
        let buffers = try readMatching(store.buffers, under: "buffers", kind: "buffer", from: file)
        let optimizerState = try optimizer.map { _ in try readOptimizer(from: file, parameterOrder: store.parameters) }
        let generator = try readRandom(from: file)
        try readProgress(file, into: &state)

        if let optimizer, let optimizerState {
            do {
                try optimizer.loadState(optimizerState.tensors, step: optimizerState.step, parameters: store.parameters)
            } catch let error as OptimizerStateError {
                throw FileError(path, error.description)
            }
            optimizer.learningRate = optimizerState.learningRate
        }
        for (tensor, values) in parameters + buffers { tensor.scalars = values }
        store.random.generator = generator
        return state
    }

    // MARK: - Sections

    /// Checks format and version and reads the root attributes (schedules and extras empty).
    private static func readHeader(_ file: HDF5File) throws -> TrainingState {
        let path = file.path
        try file.checkFormat(format, newestVersion: formatVersion, kind: "checkpoint")
        let step = try file.int64Attribute("step"), epoch = try file.int64Attribute("epoch")
        guard step >= 0, epoch >= 0 else { throw FileError(path, "invalid step \(step) or epoch \(epoch) in checkpoint") }
        return TrainingState(model: try file.stringAttribute("model"), config: try file.stringAttribute("config"),
                             step: Int(step), epoch: Int(epoch))
    }

    /// Reads `/schedule`, `/metadata` and `/extra` into `state`.
    private static func readProgress(_ file: HDF5File, into state: inout TrainingState) throws {
        if try file.kind(of: "metadata") != nil {
            for key in try file.attributeNames(at: "metadata") { state.metadata[key] = try file.stringAttribute(key, at: "metadata") }
        }
        if try file.kind(of: "schedule") != nil {
            for child in try file.children(of: "schedule") where child.kind == .group {
                let group = "schedule/\(child.name)"
                var values: [String: Double] = [:]
                for key in try file.attributeNames(at: group) { values[key] = try file.doubleAttribute(key, at: group) }
                state.schedules[child.name] = values
            }
        }
        for (name, datasetPath) in try storedNames(under: "extra", in: file) {
            state.extras[name] = try file.readTensor(from: datasetPath)
        }
        try Checkpoint.requireFinite(state.extras.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) },
                                     kind: "extra tensor", path: file.path, saving: false)
    }

    /// Checks that `/<group>` holds exactly the names of `tensors`, each float32 with the same
    /// shape, then reads the values (paired with the tensors they are for).
    private static func readMatching(_ tensors: [(name: String, tensor: Tensor)], under group: String, kind: String,
                                     from file: HDF5File) throws -> [(tensor: Tensor, values: [Float])] {
        let path = file.path
        let stored = try storedNames(under: group, in: file)
        for (name, tensor) in tensors {
            guard let datasetPath = stored[name] else {
                throw FileError(path, "\(kind) \(name): missing from checkpoint (no dataset /\(group)/\(datasetPath(forName: name)))")
            }
            let info = try file.datasetInfo(datasetPath)
            guard info.elementType == .float32 else {
                throw FileError(path, "\(kind) \(name): stored as \(info.elementType), expected float32")
            }
            guard info.shape == tensor.shape else {
                throw FileError(path, "\(kind) \(name): shape \(info.shape) in checkpoint, \(tensor.shape) in model")
            }
        }
        let modelNames = Set(tensors.map(\.name))
        if let unknown = stored.keys.sorted().first(where: { !modelNames.contains($0) }) {
            throw FileError(path, "\(kind) \(unknown): in checkpoint but not in model")
        }
        return try tensors.map { name, tensor in
            let values = try file.read(Float.self, from: stored[name]!).values
            guard values.allSatisfy(\.isFinite) else {
                throw FileError(path, "\(kind) \(name) holds NaN or infinite values (a diverged run or a damaged file)")
            }
            return (tensor, values)
        }
    }

    /// The optimizer's state tensors ("<name>/<slot>", ordered as the store's parameters), its
    /// step and its base learning rate.
    private static func readOptimizer(from file: HDF5File, parameterOrder: [(name: String, tensor: Tensor)]) throws
        -> (tensors: [(path: String, tensor: Tensor)], step: Int, learningRate: Float) {
        let path = file.path
        guard try file.kind(of: "optimizer") == .group else {
            throw FileError(path, "no optimizer state in checkpoint (it was saved without an optimizer); "
                            + "load with optimizer: nil to restore only the model")
        }
        let step = try file.int64Attribute("step", at: "optimizer")
        let learningRate = try file.doubleAttribute("learning_rate", at: "optimizer")
        guard step >= 0 else { throw FileError(path, "invalid optimizer step \(step) in checkpoint") }
        guard learningRate >= 0, learningRate.isFinite else {
            throw FileError(path, "invalid optimizer learning rate \(learningRate) in checkpoint")
        }
        var position: [String: Int] = [:]
        for (index, parameter) in parameterOrder.enumerated() { position[parameter.name] = index }
        var tensors: [(path: String, tensor: Tensor)] = []
        for datasetPath in try storedNames(under: "optimizer", in: file).values {
            // "/optimizer/encoder/conv1/weight/m" → "encoder.conv1.weight/m" (a dataset directly
            // under /optimizer has no parameter part; `Optimizer.loadState` rejects its path).
            let (parameterPath, slot) = splitStatePath(String(datasetPath.dropFirst("/optimizer/".count)))
            let statePath = slot.isEmpty ? parameterPath : "\(name(forDatasetPath: parameterPath))/\(slot)"
            tensors.append((statePath, try file.readTensor(from: datasetPath)))
        }
        try Checkpoint.requireFinite(tensors.map { (name: $0.path, tensor: $0.tensor) }, kind: "optimizer state", path: path,
                                     saving: false)
        // Unknown names sort last; `Optimizer.loadState` reports them.
        tensors.sort { a, b in
            let nameA = splitStatePath(a.path).name, nameB = splitStatePath(b.path).name
            let indexA = position[nameA] ?? Int.max, indexB = position[nameB] ?? Int.max
            return indexA != indexB ? indexA < indexB : a.path < b.path
        }
        return (tensors, Int(step), Float(learningRate))
    }

    /// The generator saved in `/random`.
    private static func readRandom(from file: HDF5File) throws -> RandomGenerator {
        let path = file.path
        let (words, shape) = try file.read(Int64.self, from: "random/state")
        guard shape == [4] else { throw FileError(path, "random/state has shape \(shape), expected [4]") }
        let hasSpare = try file.int64Attribute("has_spare_normal", at: "random")
        let spare = try file.doubleAttribute("spare_normal", at: "random")
        guard hasSpare == 0 || hasSpare == 1, spare.isFinite else {
            throw FileError(path, "invalid spare normal in /random (has_spare_normal \(hasSpare), spare_normal \(spare))")
        }
        return RandomGenerator(state: words.map { UInt64(bitPattern: $0) }, spareNormal: hasSpare == 1 ? Float(spare) : nil)
    }

    /// The datasets under `/<group>` by dotted name ("/parameters/a/b" → "a.b"), with their
    /// absolute paths; empty when the group is absent.
    private static func storedNames(under group: String, in file: HDF5File) throws -> [String: String] {
        switch try file.kind(of: group) {
        case nil: return [:]
        case .group?: break
        case .some: throw FileError(file.path, "/\(group) is not a group")
        }
        var result: [String: String] = [:]
        let prefix = "/\(group)/"
        for datasetPath in try file.datasetPaths(under: group) where datasetPath.hasPrefix(prefix) {
            result[name(forDatasetPath: String(datasetPath.dropFirst(prefix.count)))] = datasetPath
        }
        return result
    }
}
