import XCTest
import TensorCore
import TestSupport
@testable import NeuralNetwork

// Data parallelism (DataParallel.swift) with ranks as threads of this process (InProcessJob):
// 2 ranks × 16 rows take the steps of 1 process × 32 rows on a model without batch norm or
// dropout; with batch norm, each rank normalises its own rows (DDP's default), which is the
// single-process step whose loss is the mean of the two halves' losses, each half normalised
// by itself; and every rank ends with the same bits.

/// A tiny regression model: x (B, 4) → Linear(4, 8) → [BatchNorm1D(8)] → tanh → Linear(8, 2).
private struct TinyModel {
    let store: ParameterStore
    let network: Sequential

    init(batchNorm: Bool) {
        store = ParameterStore(seed: 11)
        let root = store.root
        var layers: [Layer] = [Linear(4, 8, scope: root.scope("hidden"))]
        if batchNorm { layers.append(BatchNorm1D(featureCount: 8, convention: .pytorch, scope: root.scope("bn"))) }
        layers += [Tanh(), Linear(8, 2, scope: root.scope("output"))]
        network = Sequential(layers)
    }

    /// The mean squared error of rows `rows` of (inputs, targets).
    func loss(_ inputs: Tensor, _ targets: Tensor, rows: Range<Int>) -> Tensor {
        let x = inputs.sliced(rows, alongAxis: 0), y = targets.sliced(rows, alongAxis: 0)
        return meanSquaredError(network(x, training: true), y)
    }
}

/// Fixed data: `steps` batches of 32 rows, inputs (32, 4) and targets (32, 2).
private func batches(steps: Int) -> [(inputs: Tensor, targets: Tensor)] {
    var generator = RandomGenerator(seed: 3)
    return (0..<steps).map { _ in
        (Tensor.normal([32, 4], using: &generator), Tensor.normal([32, 2], using: &generator))
    }
}

private func parameterValues(_ store: ParameterStore) -> [[Float]] { store.parameters.map(\.tensor.scalars) }

final class DataParallelTests: XCTestCase {
    private let steps = 4

    /// Trains with `ranks` in-process ranks, each taking its share of every batch of 32; returns
    /// every rank's parameters and buffers at the end.
    private func trainDataParallel(ranks: Int, batchNorm: Bool, bucketScalars: Int = 1 << 22) -> [[[Float]]] {
        let data = batches(steps: steps)
        return InProcessJob(size: ranks).run { communicator in
            let model = TinyModel(batchNorm: batchNorm)
            let optimizer = Optimizer(SGD(momentum: 0.9), learningRate: 0.05)
            var parallel = DataParallel(communicator: communicator)
            parallel.bucketScalars = bucketScalars
            parallel.broadcastState(of: model.store)
            for (inputs, targets) in data {
                let rows = communicator.share(of: 32)
                model.loss(inputs, targets, rows: rows).backward()
                _ = parallel.averageGradients(of: model.store, weight: Float(rows.count) / 32)
                clipGradientsByGlobalNorm(model.store, maxNorm: 10)
                optimizer.update(model.store)
                model.store.zeroGradients()
                parallel.broadcastBuffers(of: model.store)
            }
            do { try parallel.checkReplicasAgree(model.store, step: optimizer.step) } catch { XCTFail("\(error)") }
            return parameterValues(model.store) + model.store.buffers.map(\.tensor.scalars)
        }
    }

    func testTwoRanksOfSixteenTakeTheStepsOfOneProcessOfThirtyTwo() {
        let model = TinyModel(batchNorm: false)
        let optimizer = Optimizer(SGD(momentum: 0.9), learningRate: 0.05)
        for (inputs, targets) in batches(steps: steps) {
            model.loss(inputs, targets, rows: 0..<32).backward()
            clipGradientsByGlobalNorm(model.store, maxNorm: 10)
            optimizer.update(model.store)
            model.store.zeroGradients()
        }
        let single = parameterValues(model.store)
        // Buckets of 20 scalars: the 58 parameters' scalars in several allreduce calls.
        let ranks = trainDataParallel(ranks: 2, batchNorm: false, bucketScalars: 20)
        XCTAssertEqual(ranks[0], ranks[1], "the ranks' parameters differ")
        for (index, (parallel, reference)) in zip(ranks[0], single).enumerated() {
            // Float summation order differs (two half-batch means vs one mean): a few ulps after 4 steps (SGD with momentum: a wrongly weighted gradient would show).
            for (a, b) in zip(parallel, reference) { XCTAssertEqual(a, b, accuracy: 1e-5, "parameter \(index)") }
        }
        XCTAssertNotEqual(single, parameterValues(TinyModel(batchNorm: false).store), "training should move the parameters")
    }

    func testWithBatchNormEachRankNormalisesItsOwnRows() {
        // One process, DDP's per-rank batch norm written out: loss = ½·(L(rows 0..<16) + L(rows 16..<32)),
        // each half normalised with its own mean and variance.
        let model = TinyModel(batchNorm: true)
        let optimizer = Optimizer(SGD(momentum: 0.9), learningRate: 0.05)
        for (inputs, targets) in batches(steps: steps) {
            let loss = (model.loss(inputs, targets, rows: 0..<16) + model.loss(inputs, targets, rows: 16..<32)) * 0.5
            loss.backward()
            clipGradientsByGlobalNorm(model.store, maxNorm: 10)
            optimizer.update(model.store)
            model.store.zeroGradients()
        }
        let ranks = trainDataParallel(ranks: 2, batchNorm: true)
        XCTAssertEqual(ranks[0], ranks[1], "the ranks' parameters or running statistics differ")
        for (index, (parallel, reference)) in zip(ranks[0], parameterValues(model.store)).enumerated() {
            for (a, b) in zip(parallel, reference) { XCTAssertEqual(a, b, accuracy: 1e-5, "parameter \(index)") }
        }
    }

    func testUnevenSharesWeightTheirRows() {
        // 3 ranks share 32 rows as 11, 11, 10: the weights n_r/32 make the mean over all rows.
        let model = TinyModel(batchNorm: false)
        let (inputs, targets) = batches(steps: 1)[0]
        model.loss(inputs, targets, rows: 0..<32).backward()
        let reference = model.store.parameters.map { $0.tensor.grad!.scalars }
        let gradients = InProcessJob(size: 3).run { communicator -> [[Float]] in
            let replica = TinyModel(batchNorm: false)
            let rows = communicator.share(of: 32)
            replica.loss(inputs, targets, rows: rows).backward()
            let sums = DataParallel(communicator: communicator)
                .averageGradients(of: replica.store, weight: Float(rows.count) / 32, values: [Double(rows.count)])
            XCTAssertEqual(sums, [32])
            return replica.store.parameters.map { $0.tensor.grad!.scalars }
        }
        XCTAssertEqual(gradients[0], gradients[2])
        for (parallel, single) in zip(gradients[0].joined(), reference.joined()) { XCTAssertEqual(parallel, single, accuracy: 1e-6) }
    }

    func testReplicasThatDifferAreReported() {
        let outcomes = InProcessJob(size: 2).run { communicator -> Bool in
            let model = TinyModel(batchNorm: false)
            if communicator.rank == 1 { model.store.parameters[0].tensor.scalars[0] += 1 }
            do {
                try DataParallel(communicator: communicator).checkReplicasAgree(model.store, step: 7)
                return false
            } catch {
                return "\(error)".contains("after step 7")
            }
        }
        XCTAssertEqual(outcomes, [true, true], "every rank should throw")
    }

    func testOneProcessLeavesEverythingAsItIs() {
        let model = TinyModel(batchNorm: false)
        let (inputs, targets) = batches(steps: 1)[0]
        model.loss(inputs, targets, rows: 0..<32).backward()
        let before = model.store.parameters.map { $0.tensor.grad!.scalars }
        let values = DataParallel(communicator: SingleProcess()).averageGradients(of: model.store, weight: 0.5, values: [2])
        XCTAssertEqual(values, [2])
        XCTAssertEqual(model.store.parameters.map { $0.tensor.grad!.scalars }, before)
    }
}
