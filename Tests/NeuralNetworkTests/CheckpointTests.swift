import Foundation
import NeuralNetwork
import SplatIO
import TensorCore
import TestSupport
import XCTest

// Checkpoints: a bit-exact round trip, exact resumption of a run interrupted mid-epoch,
// readable errors that leave the model untouched, atomic replacement, and h5py as a reader.
//
// The model throughout is Conv1D → BatchNorm1D → ELU → Dropout → GlobalAveragePool1D →
// Linear on (N, 2, 8) inputs, trained with Adam on 16 fixed samples in batches of 4 (4 steps
// per epoch). Every random draw during training — each epoch's shuffling order and the
// dropout masks — comes from the store's `RandomSource`, which the checkpoint saves.

/// The test model; its parameters are under "encoder.conv1", "encoder.norm" and "head".
private struct TinyModel {
    static let kind = "tiny-conv1d"
    let store: ParameterStore
    let network: Sequential

    init(seed: UInt64, inputChannels: Int = 2, headBias: Bool = true) {
        store = ParameterStore(seed: seed)
        let encoder = store.scope("encoder")
        network = Sequential(
            Conv1D(inputChannels: inputChannels, outputChannels: 4, kernelSize: 3, padding: .same,
                   scope: encoder.scope("conv1")),
            BatchNorm1D(featureCount: 4, convention: .pytorch, scope: encoder.scope("norm")),
            ELU(),
            Dropout(rate: 0.25, scope: store.root),
            GlobalAveragePool1D(),
            Linear(4, 1, bias: headBias, scope: store.scope("head")))
    }

    /// Copies of every parameter's and buffer's scalars and the random stream, to compare later.
    var snapshot: (tensors: [String: [UInt32]], random: RandomGenerator) {
        var tensors: [String: [UInt32]] = [:]
        for (name, tensor) in store.parameters + store.buffers { tensors[name] = tensor.scalars.map(\.bitPattern) }
        return (tensors, store.random.generator)
    }
}

/// 16 fixed samples: x (16, C, 8) standard normals from their own seed, y = mean of channel 0
/// minus half the mean of channel 1, plus 0.1.
private struct TinyData {
    static let sampleCount = 16, length = 8
    let channels: Int
    let inputs: [Float]
    let targets: [Float]

    init(channels: Int = 2) {
        self.channels = channels
        var generator = RandomGenerator(seed: 7)
        let sampleSize = channels * TinyData.length
        let x = (0..<(TinyData.sampleCount * sampleSize)).map { _ in generator.nextNormal() }
        inputs = x
        targets = (0..<TinyData.sampleCount).map { i in
            let first = x[(i * sampleSize)..<(i * sampleSize + TinyData.length)].reduce(0, +)
            let second = x[(i * sampleSize + TinyData.length)..<(i * sampleSize + 2 * TinyData.length)].reduce(0, +)
            return (first - 0.5 * second) / Float(TinyData.length) + 0.1
        }
    }

    /// x (B, C, 8) and y (B, 1) for the samples `indices`.
    func batch(_ indices: ArraySlice<Int>) -> (inputs: Tensor, targets: Tensor) {
        let sampleSize = channels * TinyData.length
        let x = indices.flatMap { inputs[($0 * sampleSize)..<(($0 + 1) * sampleSize)] }
        return (Tensor(shape: [indices.count, channels, TinyData.length], scalars: x),
                Tensor(shape: [indices.count, 1], scalars: indices.map { targets[$0] }))
    }
}

/// A training loop whose whole state is checkpointed: the model and optimizer, a plateau
/// schedule (patience 0 and a margin of 10, so every epoch after the first halves the rate),
/// the epoch, this epoch's shuffling order and its running loss sum.
private final class TinyTrainer {
    static let batchSize = 4, stepsPerEpoch = 4
    static let config = "model:\n  kind: tiny-conv1d\n  channels: [2, 4]\ntraining:\n  learning_rate: 0.05  # Adam\n"
    let model: TinyModel
    let data: TinyData
    let optimizer: Optimizer
    var plateau = ReduceLearningRateOnPlateau(initialLearningRate: 0.05, factor: 0.5, patience: 0, minDelta: 10)
    var epoch = 0
    var order: [Int] = []
    var lossSum: Double = 0
    /// The mean loss of every epoch this trainer finished (since it was created or resumed).
    var epochLosses: [Double] = []

    init(model: TinyModel, rule: any UpdateRule = Adam()) {
        self.model = model
        data = TinyData(channels: model.store.parameter(named: "encoder.conv1.weight")!.shape[1])
        optimizer = Optimizer(rule, learningRate: 0.05)
    }

    convenience init(seed: UInt64, rule: any UpdateRule = Adam()) { self.init(model: TinyModel(seed: seed), rule: rule) }

    func train(steps: Int) {
        for _ in 0..<steps {
            var position = optimizer.step - epoch * TinyTrainer.stepsPerEpoch
            if position == 0 {
                order = model.store.random.generator.permutation(TinyData.sampleCount)
                lossSum = 0
            }
            let (x, y) = data.batch(order[(position * TinyTrainer.batchSize)..<((position + 1) * TinyTrainer.batchSize)])
            let loss = meanSquaredError(model.network(x, training: true), y)
            loss.backward()
            optimizer.update(model.store)
            model.store.zeroGradients()
            lossSum += Double(loss.item)
            position += 1
            if position == TinyTrainer.stepsPerEpoch {
                epochLosses.append(lossSum / Double(TinyTrainer.stepsPerEpoch))
                plateau.update(Float(epochLosses.last!), optimizer: optimizer)
                epoch += 1
            }
        }
    }

    var state: TrainingState {
        TrainingState(model: TinyModel.kind, config: TinyTrainer.config, step: optimizer.step, epoch: epoch,
                      schedules: ["plateau": plateau.stateValues, "loop": ["loss_sum": lossSum]],
                      extras: ["data.order": Tensor(order.map { Float($0) })])
    }

    func save(to path: String) throws {
        try Checkpoint.save(to: path, store: model.store, optimizer: optimizer, state: state)
    }

    func resume(from path: String) throws {
        let state = try Checkpoint.load(from: path, into: model.store, optimizer: optimizer, model: TinyModel.kind)
        try plateau.restoreState(from: state.schedules["plateau"] ?? [:])
        lossSum = try XCTUnwrap(state.schedules["loop"]?["loss_sum"])
        epoch = state.epoch
        order = try XCTUnwrap(state.extras["data.order"]).scalars.map { Int($0) }
    }
}

/// Asserts two float arrays are equal bit for bit (stricter than ==, which equates 0 and −0).
private func assertBitEqual(_ actual: [Float], _ expected: [Float], _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern), message, file: file, line: line)
}

final class CheckpointTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("CheckpointTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        try super.tearDownWithError()
    }

    private func temporaryPath(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Asserts that every parameter, buffer and optimizer state tensor, the optimizer's step
    /// and learning rate, and the random stream of `a` and `b` are bit-identical.
    private func assertSameTrainingState(_ a: TinyTrainer, _ b: TinyTrainer, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.model.store.parameters.map(\.name), b.model.store.parameters.map(\.name), file: file, line: line)
        for ((name, x), (_, y)) in zip(a.model.store.parameters + a.model.store.buffers,
                                       b.model.store.parameters + b.model.store.buffers) {
            assertBitEqual(y.scalars, x.scalars, name, file: file, line: line)
        }
        let stateA = a.optimizer.stateTensors(), stateB = b.optimizer.stateTensors()
        XCTAssertEqual(stateB.map(\.path), stateA.map(\.path), file: file, line: line)
        for ((path, x), (_, y)) in zip(stateA, stateB) { assertBitEqual(y.scalars, x.scalars, path, file: file, line: line) }
        XCTAssertEqual(b.optimizer.step, a.optimizer.step, file: file, line: line)
        XCTAssertEqual(b.optimizer.learningRate.bitPattern, a.optimizer.learningRate.bitPattern, file: file, line: line)
        XCTAssertEqual(b.model.store.random.generator, a.model.store.random.generator, file: file, line: line)
    }

    // MARK: (a) Round trip

    func testRoundTripIsBitExact() throws {
        let source = TinyTrainer(seed: 1)
        source.train(steps: 6)  // mid-epoch 1: non-trivial moments, running statistics, plateau state
        _ = source.model.store.random.generator.nextNormal()  // leaves a spare normal in the stream
        XCTAssertNotNil(source.model.store.random.generator.spareNormal)
        var stopping = EarlyStopping(patience: 2, restoresBestParameters: true)
        stopping.update(0.5, parameters: source.model.store.parameters)
        var state = source.state
        state.config = "# unicode and newlines survive: σ² ≥ 0\n" + TinyTrainer.config
        state.schedules["early_stopping"] = stopping.stateValues
        state.schedules["edge_cases"] = ["no_best": -.infinity, "tenth": 0.1, "negative_zero": -0.0, "huge": 1e300]
        for (name, tensor) in stopping.bestParameterTensors() { state.extras["best.\(name)"] = tensor }
        state.extras["scalar"] = Tensor(-0.0)
        state.metadata = ["data.order": "hilbert", "note": "σ and unicode survive"]
        let path = temporaryPath("round-trip.h5")
        try Checkpoint.save(to: path, store: source.model.store, optimizer: source.optimizer, state: state)

        let target = TinyTrainer(seed: 2)
        let loaded = try Checkpoint.load(from: path, into: target.model.store, optimizer: target.optimizer,
                                         model: TinyModel.kind)
        assertSameTrainingState(source, target)
        XCTAssertEqual(target.model.store.random.generator.spareNormal, source.model.store.random.generator.spareNormal)
        XCTAssertEqual(loaded.model, TinyModel.kind)
        XCTAssertEqual(loaded.config, state.config)
        XCTAssertEqual(loaded.step, 6)
        XCTAssertEqual(loaded.epoch, 1)
        XCTAssertEqual(loaded.schedules, state.schedules)
        XCTAssertEqual(loaded.schedules["edge_cases"]?["negative_zero"]?.sign, .minus)
        XCTAssertEqual(loaded.schedules["edge_cases"]?["tenth"]?.bitPattern, 0.1.bitPattern)
        XCTAssertEqual(Set(loaded.extras.keys), Set(state.extras.keys))
        for (name, tensor) in state.extras {
            XCTAssertEqual(loaded.extras[name]?.shape, tensor.shape, name)
            assertBitEqual(loaded.extras[name]?.scalars ?? [], tensor.scalars, name)
        }

        // The state alone (no model), and a model-only load that leaves the optimizer alone.
        let header = try Checkpoint.readTrainingState(from: path)
        XCTAssertEqual(header.model, TinyModel.kind)
        XCTAssertEqual(header.config, state.config)
        XCTAssertEqual(header.schedules, state.schedules)
        XCTAssertEqual(header.metadata, state.metadata)
        XCTAssertEqual(loaded.metadata, state.metadata)
        let modelOnly = TinyTrainer(seed: 3)
        try Checkpoint.load(from: path, into: modelOnly.model.store, optimizer: nil, model: TinyModel.kind)
        XCTAssertEqual(modelOnly.model.snapshot.tensors, source.model.snapshot.tensors)
        XCTAssertEqual(modelOnly.optimizer.step, 0)
        XCTAssertTrue(modelOnly.optimizer.stateTensors().isEmpty)
    }

    // MARK: (b) Exact resume

    /// Run A trains 12 steps (3 epochs) straight. Run B trains 5, saves mid-epoch, and a fresh
    /// trainer built from another seed loads the checkpoint and trains the remaining 7. Both
    /// must end bit-identical: shuffling, dropout masks, batch-norm statistics, Adam's moments
    /// and the plateau's learning-rate cuts all resume exactly.
    func testResumedRunMatchesUninterruptedRunBitForBit() throws {
        let straight = TinyTrainer(seed: 11)
        straight.train(steps: 12)

        let interrupted = TinyTrainer(seed: 11)
        interrupted.train(steps: 5)
        let path = temporaryPath("step5.h5")
        try interrupted.save(to: path)
        let resumed = TinyTrainer(seed: 12345)
        try resumed.resume(from: path)
        XCTAssertEqual(resumed.optimizer.step, 5)
        XCTAssertEqual(resumed.epoch, 1)
        resumed.train(steps: 7)

        assertSameTrainingState(straight, resumed)
        XCTAssertEqual(resumed.epoch, 3)
        XCTAssertEqual(resumed.plateau.stateValues, straight.plateau.stateValues)
        // Epoch 1 straddles the checkpoint: its mean needs the restored running loss sum.
        XCTAssertEqual(resumed.epochLosses, Array(straight.epochLosses.suffix(2)))
        // The plateau cut the rate twice (after epochs 1 and 2), so its restored state mattered.
        XCTAssertEqual(straight.optimizer.learningRate, 0.0125)
        XCTAssertTrue(straight.model.store.parameters.allSatisfy { $0.tensor.scalars.allSatisfy(\.isFinite) })
    }

    // MARK: (c) Errors

    /// Saves a checkpoint of a trainer (2 steps trained) built by `makeSource` to `name`.
    private func savedCheckpoint(_ name: String, _ makeSource: () -> TinyTrainer = { TinyTrainer(seed: 1) },
                                 withOptimizer: Bool = true) throws -> String {
        let source = makeSource()
        source.train(steps: 2)
        let path = temporaryPath(name)
        try Checkpoint.save(to: path, store: source.model.store, optimizer: withOptimizer ? source.optimizer : nil,
                            state: source.state)
        return path
    }

    /// Loads `path` into a fresh trainer (seed 99, or `target`), expecting a `FileError` for
    /// `path` whose reason contains every fragment, and checks nothing was modified.
    private func assertLoadFails(_ path: String, model: String = TinyModel.kind, into target: TinyTrainer = TinyTrainer(seed: 99),
                                 reasonContains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        let before = target.model.snapshot
        do {
            try Checkpoint.load(from: path, into: target.model.store, optimizer: target.optimizer, model: model)
            XCTFail("loading \(path) succeeded", file: file, line: line)
        } catch let error as FileError {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path), file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.reason.contains(fragment), "\"\(error.reason)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        } catch {
            XCTFail("expected a FileError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        let after = target.model.snapshot
        XCTAssertEqual(after.tensors, before.tensors, "the model changed", file: file, line: line)
        XCTAssertEqual(after.random, before.random, "the random stream changed", file: file, line: line)
        XCTAssertEqual(target.optimizer.step, 0, file: file, line: line)
        XCTAssertTrue(target.optimizer.stateTensors().isEmpty, "the optimizer changed", file: file, line: line)
    }

    func testTruncatedFileThrows() throws {
        let path = try savedCheckpoint("truncated.h5")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        assertLoadFails(path, reasonContains: ["damaged", "truncated"])
        XCTAssertThrowsError(try Checkpoint.readTrainingState(from: path)) { XCTAssertEqual(($0 as? FileError)?.path, path) }
    }

    func testRandomBytesThrow() throws {
        let path = temporaryPath("random.h5")
        var generator = RandomGenerator(seed: 5)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: URL(fileURLWithPath: path))
        assertLoadFails(path, reasonContains: ["not an HDF5 file"])
    }

    func testWrongFormatAttributeThrows() throws {
        let path = try savedCheckpoint("format.h5")
        let file = try HDF5File(opening: path, mode: .readWrite)
        try file.setAttribute("format", to: "keras-weights")
        try file.close()
        assertLoadFails(path, reasonContains: ["not a SplatKit checkpoint", "\"keras-weights\""])

        let plain = temporaryPath("plain.h5")
        let other = try HDF5File(creating: plain)
        try other.write([Float](repeating: 1, count: 3), shape: [3], to: "weights")
        try other.close()
        assertLoadFails(plain, reasonContains: ["not a SplatKit checkpoint", "no 'format' attribute"])
    }

    func testNewerFormatVersionAsksToUpgrade() throws {
        let path = try savedCheckpoint("version.h5")
        let file = try HDF5File(opening: path, mode: .readWrite)
        try file.setAttribute("format_version", to: Int64(2))
        try file.close()
        assertLoadFails(path, reasonContains: ["format version 2 is newer", "upgrade splatkit"])
    }

    func testWrongModelKindThrows() throws {
        let path = try savedCheckpoint("kind.h5")
        assertLoadFails(path, model: "vae2d", reasonContains: ["model \"tiny-conv1d\", not \"vae2d\""])
    }

    func testMissingAndUnexpectedParametersThrow() throws {
        let withoutBias = try savedCheckpoint("no-bias.h5") { TinyTrainer(model: TinyModel(seed: 1, headBias: false)) }
        assertLoadFails(withoutBias, reasonContains: ["parameter head.bias: missing from checkpoint"])

        let withBias = try savedCheckpoint("bias.h5")
        assertLoadFails(withBias, into: TinyTrainer(model: TinyModel(seed: 99, headBias: false)),
                        reasonContains: ["parameter head.bias: in checkpoint but not in model"])
    }

    func testShapeMismatchNamesParameterAndBothShapes() throws {
        let path = try savedCheckpoint("shape.h5") { TinyTrainer(model: TinyModel(seed: 1, inputChannels: 3)) }
        assertLoadFails(path, reasonContains: ["parameter encoder.conv1.weight: shape [4, 3, 3] in checkpoint, [4, 2, 3] in model"])
    }

    func testOptimizerStateMismatchesThrowWithoutTouchingTheModel() throws {
        // Parameters check out; the optimizer state does not (SGD's momentum into Adam).
        let sgd = try savedCheckpoint("sgd.h5") { TinyTrainer(seed: 1, rule: SGD(momentum: 0.9)) }
        assertLoadFails(sgd, reasonContains: ["optimizer state", "encoder.conv1.weight/momentum"])

        let modelOnly = try savedCheckpoint("model-only.h5", withOptimizer: false)
        assertLoadFails(modelOnly, reasonContains: ["no optimizer state in checkpoint"])
    }

    // MARK: (d) Atomicity

    /// A save that fails part-way (after the parameters are written to the temporary file)
    /// leaves the previous checkpoint byte-for-byte intact and no temporary file behind.
    /// A trainer after 2 steps, saved to last.h5, and the bytes saved.
    private func savedTrainer() throws -> (trainer: TinyTrainer, path: String, original: Data) {
        let trainer = TinyTrainer(seed: 1)
        trainer.train(steps: 2)
        let path = temporaryPath("last.h5")
        try trainer.save(to: path)
        return (trainer, path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func testFailedSaveLeavesPreviousCheckpointIntact() throws {
        let (trainer, path, original) = try savedTrainer()
        trainer.train(steps: 1)

        let badExtras: [([String: Tensor], String)] = [
            (["bad/name": Tensor([1])], "extra tensor \"bad/name\" cannot be saved"),
            (["empty..component": Tensor([1])], "extra tensor \"empty..component\" cannot be saved"),
            (["best.head": Tensor([1]), "best.head.weight": Tensor([2])], "/extra/best/head would be both a dataset and a group"),
        ]
        for (extras, expected) in badExtras {
            var state = trainer.state
            state.extras = extras
            XCTAssertThrowsError(try Checkpoint.save(to: path, store: trainer.model.store, optimizer: trainer.optimizer, state: state)) {
                let error = $0 as? FileError
                XCTAssertEqual(error?.path, path)
                XCTAssertTrue(error?.reason.contains(expected) ?? false, "\(String(describing: error)) lacks \(expected)")
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["last.h5"])
        }
        let reloaded = TinyTrainer(seed: 2)
        try reloaded.resume(from: path)
        XCTAssertEqual(reloaded.optimizer.step, 2)

        // A successful save replaces the file.
        try trainer.save(to: path)
        XCTAssertEqual(try Checkpoint.readTrainingState(from: path).step, 3)
    }

    // MARK: Non-finite values (issue 23)

    /// A diverged run (NaN or ±∞ in a parameter, optimizer state or extra) is never saved: the
    /// save throws, naming the file and the tensor, and the previous checkpoint stays as it was.
    func testNonFiniteValuesAreNeverSavedAndThePreviousFileIsKept() throws {
        let (trainer, path, original) = try savedTrainer()
        let weight = try XCTUnwrap(trainer.model.store.parameter(named: "encoder.conv1.weight"))
        let moment = try XCTUnwrap(trainer.optimizer.stateTensors().first { $0.path == "encoder.conv1.weight/v" }).tensor
        for (tensor, value, name) in [(weight, Float.nan, "parameter encoder.conv1.weight"),
                                      (moment, Float.infinity, "optimizer state encoder.conv1.weight/v")] {
            let kept = tensor.scalars[0]
            tensor.scalars[0] = value
            XCTAssertThrowsError(try trainer.save(to: path)) { error in
                XCTAssertEqual(error as? FileError, FileError(path, "not saved: \(name) holds NaN or infinite values (the "
                                                              + "training diverged; the previous file, if any, is kept)"))
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["last.h5"])
            tensor.scalars[0] = kept
        }
        var state = trainer.state
        state.extras["data.order"] = Tensor([1, -.infinity])
        XCTAssertThrowsError(try Checkpoint.save(to: path, store: trainer.model.store, optimizer: trainer.optimizer, state: state))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)
    }

    /// A checkpoint holding NaN or ±∞ (written by another tool, or an older SplatKit) is refused
    /// at load, naming the file and the tensor, and nothing is loaded.
    func testNonFiniteValuesAreRefusedAtLoad() throws {
        for (dataset, name) in [("parameters/encoder/conv1/weight", "parameter encoder.conv1.weight"),
                                ("optimizer/encoder/conv1/weight/m", "optimizer state encoder.conv1.weight/m")] {
            let path = try savedCheckpoint("nan.h5")
            let file = try HDF5File(opening: path, mode: .readWrite)
            let stored = try file.read(Float.self, from: dataset)
            try file.write([.nan] + stored.values.dropFirst(), shape: stored.shape, to: dataset)
            try file.close()
            assertLoadFails(path, reasonContains: ["\(name) holds NaN or infinite values"])
            try FileManager.default.removeItem(atPath: path)
        }
    }

    // MARK: (e) h5py as a client

    /// Lists every dataset (dtype, shape, exact float64 sum via math.fsum, integer values) and
    /// every attribute of the root and the groups of the file in argv[1], as JSON. Floats are
    /// printed with repr, which round-trips exactly.
    private static let h5pySummaryScript = #"""
    import h5py, json, math, sys
    import numpy as np

    def attributes(obj):
        result = {}
        for name, value in obj.attrs.items():
            if isinstance(value, str):
                result[name] = {"type": "str", "value": value}
            else:
                value = np.asarray(value)
                text = str(int(value)) if value.dtype.kind in "iu" else repr(float(value))
                result[name] = {"type": str(value.dtype), "value": text}
        return result

    summary = {"datasets": {}, "attributes": {}}
    with h5py.File(sys.argv[1], "r") as f:
        summary["attributes"]["/"] = attributes(f)
        def visit(name, obj):
            path = "/" + name
            if isinstance(obj, h5py.Dataset):
                values = np.asarray(obj[()])
                entry = {"dtype": str(obj.dtype), "shape": list(obj.shape),
                         "checksum": repr(math.fsum(values.astype(np.float64).reshape(-1).tolist()))}
                if values.dtype.kind in "iu":
                    entry["integers"] = [str(int(v)) for v in values.reshape(-1)]
                summary["datasets"][path] = entry
            else:
                summary["attributes"][path] = attributes(obj)
        f.visititems(visit)
    print(json.dumps(summary, sort_keys=True))
    """#

    func testH5pyReadsEveryDatasetAndAttribute() throws {
        let probe = try runPython("import h5py, numpy")
        guard probe.status == 0 else {
            throw XCTSkip("h5py is not importable by python3 (\(probe.standardError.trimmingCharacters(in: .whitespacesAndNewlines))); "
                          + "install h5py to run the checkpoint interoperability test")
        }
        let trainer = TinyTrainer(seed: 4)
        trainer.train(steps: 5)
        _ = trainer.model.store.random.generator.nextNormal()
        let path = temporaryPath("h5py.h5")
        try trainer.save(to: path)

        let run = try runPython(CheckpointTests.h5pySummaryScript, arguments: [path])
        XCTAssertEqual(run.status, 0, run.standardError)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
        let datasets = try XCTUnwrap(summary["datasets"] as? [String: [String: Any]])
        let attributes = try XCTUnwrap(summary["attributes"] as? [String: [String: [String: String]]])

        // What SplatKit holds in memory, at the paths the layout promises.
        func hdf5Path(_ name: String) -> String { name.replacingOccurrences(of: ".", with: "/") }
        var expected: [String: Tensor] = [:]
        for (name, tensor) in trainer.model.store.parameters { expected["/parameters/\(hdf5Path(name))"] = tensor }
        for (name, tensor) in trainer.model.store.buffers { expected["/buffers/\(hdf5Path(name))"] = tensor }
        for (statePath, tensor) in trainer.optimizer.stateTensors() {
            let separator = try XCTUnwrap(statePath.lastIndex(of: "/"))
            expected["/optimizer/\(hdf5Path(String(statePath[..<separator])))\(statePath[separator...])"] = tensor
        }
        for (name, tensor) in trainer.state.extras { expected["/extra/\(hdf5Path(name))"] = tensor }
        XCTAssertEqual(Set(datasets.keys), Set(expected.keys).union(["/random/state"]))
        XCTAssertTrue(datasets.keys.contains("/optimizer/encoder/conv1/weight/m"))

        for (path, tensor) in expected {
            let entry = try XCTUnwrap(datasets[path], path)
            XCTAssertEqual(entry["dtype"] as? String, "float32", path)
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape, path)
            let checksum = try XCTUnwrap(Double(try XCTUnwrap(entry["checksum"] as? String)), path)
            let sum = tensor.scalars.reduce(0.0) { $0 + Double($1) }
            let magnitude = tensor.scalars.reduce(0.0) { $0 + Double(abs($1)) }
            XCTAssertEqual(checksum, sum, accuracy: 1e-12 * (magnitude + 1), path)
        }
        let random = try XCTUnwrap(datasets["/random/state"])
        XCTAssertEqual(random["dtype"] as? String, "int64")
        XCTAssertEqual(random["shape"] as? [Int], [4])
        XCTAssertEqual(random["integers"] as? [String],
                       trainer.model.store.random.generator.state.map { String(Int64(bitPattern: $0)) })

        let root = try XCTUnwrap(attributes["/"])
        XCTAssertEqual(root["format"], ["type": "str", "value": "splatkit-checkpoint"])
        XCTAssertEqual(root["format_version"], ["type": "int64", "value": "1"])
        XCTAssertEqual(root["model"], ["type": "str", "value": TinyModel.kind])
        XCTAssertEqual(root["config"], ["type": "str", "value": TinyTrainer.config])
        XCTAssertEqual(root["step"], ["type": "int64", "value": "5"])
        XCTAssertEqual(root["epoch"], ["type": "int64", "value": "1"])
        let optimizer = try XCTUnwrap(attributes["/optimizer"])
        XCTAssertEqual(optimizer["step"], ["type": "int64", "value": "5"])
        XCTAssertEqual(optimizer["learning_rate"]?["type"], "float64")
        XCTAssertEqual(Double(optimizer["learning_rate"]?["value"] ?? ""), Double(trainer.optimizer.learningRate))
        let randomAttributes = try XCTUnwrap(attributes["/random"])
        XCTAssertEqual(randomAttributes["has_spare_normal"]?["value"], "1")
        XCTAssertEqual(Double(randomAttributes["spare_normal"]?["value"] ?? ""),
                       Double(try XCTUnwrap(trainer.model.store.random.generator.spareNormal)))
        for (group, values) in trainer.state.schedules {
            let stored = try XCTUnwrap(attributes["/schedule/\(group)"], group)
            XCTAssertEqual(Set(stored.keys), Set(values.keys), group)
            for (key, value) in values {
                XCTAssertEqual(stored[key]?["type"], "float64", key)
                XCTAssertEqual(Double(stored[key]?["value"] ?? ""), value, key)
            }
        }
    }

}
