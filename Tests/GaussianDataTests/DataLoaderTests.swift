import Foundation
import GaussianData
import TensorCore
import XCTest

final class DataLoaderTests: XCTestCase {
    /// 10 sets of 3 Gaussians; every value of set i encodes i, so a batch reveals its indices.
    private let setCount = 10, setSize = 3
    private var source: InMemoryGaussianSets {
        InMemoryGaussianSets(values: (0..<(setCount * setSize * 8)).map { Float($0 / (setSize * 8)) * 10 + Float($0 % 8) },
                             setSize: setSize)
    }

    private func collect(_ loader: GaussianDataLoader, epoch: Int, startingAt start: Int = 0) throws -> [GaussianBatch] {
        let iterator = loader.batches(epoch: epoch, startingAt: start)
        var batches: [GaussianBatch] = []
        while let batch = try iterator.next() { batches.append(batch) }
        return batches
    }

    func testEveryIndexExactlyOncePerEpochAndContentMatchesIndices() throws {
        let loader = GaussianDataLoader(source: source, batchSize: 4, seed: 5)
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        for epoch in 0..<3 {
            let batches = try collect(loader, epoch: epoch)
            XCTAssertEqual(batches.map { $0.indices.count }, [4, 4, 2], "last partial batch kept")
            XCTAssertEqual(batches.flatMap(\.indices).sorted(), Array(0..<setCount), "epoch \(epoch)")
            XCTAssertEqual(batches.flatMap(\.indices), loader.order(epoch: epoch))
            for (position, batch) in batches.enumerated() {
                XCTAssertEqual(batch.batchIndex, position)
                XCTAssertEqual(batch.epoch, epoch)
                XCTAssertEqual(batch.sets.shape, [batch.indices.count, setSize, 8])
                for (row, index) in batch.indices.enumerated() {
                    let expected = try source.read(indices: [index])
                    let start = row * setSize * 8
                    XCTAssertEqual(Array(batch.sets.scalars[start..<(start + setSize * 8)]), expected)
                }
            }
        }
        let dropping = GaussianDataLoader(source: source, batchSize: 4, seed: 5, dropLast: true)
        XCTAssertEqual(dropping.batchesPerEpoch, 2)
        let dropped = try collect(dropping, epoch: 0)
        XCTAssertEqual(dropped.map { $0.indices.count }, [4, 4])
        XCTAssertEqual(dropped.flatMap(\.indices), Array(loader.order(epoch: 0).prefix(8)))
    }

    func testOrderIsDeterministicPerSeedAndEpochAndResumable() throws {
        let a = GaussianDataLoader(source: source, batchSize: 3, seed: 42)
        let b = GaussianDataLoader(source: source, batchSize: 3, seed: 42, prefetch: false)
        let otherSeed = GaussianDataLoader(source: source, batchSize: 3, seed: 43)
        XCTAssertEqual(a.order(epoch: 0), b.order(epoch: 0))
        XCTAssertEqual(a.order(epoch: 7), b.order(epoch: 7))
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1), "each epoch reshuffles")
        XCTAssertNotEqual(a.order(epoch: 0), otherSeed.order(epoch: 0))
        // The documented derivation.
        var generator = RandomGenerator(seed: GaussianDataLoader.epochSeed(seed: 42, epoch: 2))
        XCTAssertEqual(a.order(epoch: 2), generator.permutation(setCount))
        // Resuming at batch 2 of epoch 2 gives the tail of the full epoch.
        let full = try collect(a, epoch: 2)
        let resumed = try collect(b, epoch: 2, startingAt: 2)
        XCTAssertEqual(resumed.map(\.indices), full.dropFirst(2).map(\.indices))
        XCTAssertEqual(resumed.map(\.batchIndex), [2, 3])
        XCTAssertEqual(resumed.map(\.sets.scalars), full.dropFirst(2).map(\.sets.scalars))
        let unshuffled = GaussianDataLoader(source: source, batchSize: 3, seed: 42, shuffle: false)
        XCTAssertEqual(try collect(unshuffled, epoch: 4).flatMap(\.indices), Array(0..<setCount))
    }

    func testPrefetchGivesIdenticalBatches() throws {
        let prefetching = GaussianDataLoader(source: SlowSource(base: source), batchSize: 4, seed: 9)
        let direct = GaussianDataLoader(source: source, batchSize: 4, seed: 9, prefetch: false)
        for epoch in 0..<2 {
            let fast = try collect(direct, epoch: epoch), slow = try collect(prefetching, epoch: epoch)
            XCTAssertEqual(slow.map(\.indices), fast.map(\.indices))
            XCTAssertEqual(slow.map(\.sets.scalars), fast.map(\.sets.scalars))
            for batch in fast { XCTAssertEqual(batch.sets.scalars, try source.read(indices: batch.indices)) }
        }
    }

    func testSourceErrorsPropagateToTheConsumer() throws {
        for prefetch in [true, false] {
            let failing = FailingSource(base: source, failingIndex: 6)
            let loader = GaussianDataLoader(source: failing, batchSize: 2, seed: 1, shuffle: false, prefetch: prefetch)
            let iterator = loader.batches(epoch: 0)
            XCTAssertEqual(try iterator.next()?.indices, [0, 1])
            XCTAssertEqual(try iterator.next()?.indices, [2, 3])
            XCTAssertEqual(try iterator.next()?.indices, [4, 5])
            XCTAssertThrowsError(try iterator.next()) { error in
                XCTAssertEqual(error as? FailingSource.Failure, FailingSource.Failure(index: 6), "prefetch \(prefetch)")
            }
            XCTAssertThrowsError(try iterator.next(), "the failure is sticky") { error in
                XCTAssertEqual(error as? FailingSource.Failure, FailingSource.Failure(index: 6))
            }
        }
        // A source returning the wrong amount of data is reported, not trusted.
        let short = GaussianDataLoader(source: ShortSource(), batchSize: 1, seed: 0)
        XCTAssertThrowsError(try short.batches(epoch: 0).next()) { error in
            XCTAssertEqual(error as? GaussianDataLoaderError, .wrongSize(indices: [0], expected: 8, got: 7))
        }
    }
}

/// Delays every read so the consumer really waits on the prefetch queue.
private struct SlowSource: GaussianSetSource {
    let base: InMemoryGaussianSets
    var count: Int { base.count }
    var setSize: Int { base.setSize }
    func read(indices: [Int]) throws -> [Float] {
        Thread.sleep(forTimeInterval: 0.002)
        return try base.read(indices: indices)
    }
}

private struct FailingSource: GaussianSetSource {
    struct Failure: Error, Equatable { let index: Int }
    let base: InMemoryGaussianSets
    let failingIndex: Int
    var count: Int { base.count }
    var setSize: Int { base.setSize }
    func read(indices: [Int]) throws -> [Float] {
        if indices.contains(failingIndex) { throw Failure(index: failingIndex) }
        return try base.read(indices: indices)
    }
}

private struct ShortSource: GaussianSetSource {
    var count: Int { 1 }
    var setSize: Int { 1 }
    func read(indices: [Int]) throws -> [Float] { [Float](repeating: 0, count: 7) }
}
