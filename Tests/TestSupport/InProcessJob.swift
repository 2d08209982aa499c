import Foundation
import TensorCore

// A job of several ranks inside one test process: each rank runs on its own thread with an
// `InProcessRank` communicator, and every collective is an exchange through a shared
// `InProcessJob`. Sums are taken in rank order, so every rank gets the same bits, as MPI gives.

/// The shared meeting point of the ranks of an in-process job.
public final class InProcessJob: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var deposits: [Any?]
    private var arrived = 0
    private var generation = 0
    private var published: [Any] = []

    public init(size: Int) {
        precondition(size >= 1, "InProcessJob: size \(size) must be positive")
        self.size = size
        deposits = Array(repeating: nil, count: size)
    }

    /// Runs `body(communicator)` for every rank on its own thread; returns their results in rank order.
    public func run<Result>(_ body: @escaping (InProcessRank) -> Result) -> [Result] {
        // One thread per rank (a dispatch pool may run fewer at once, and the ranks wait for each other).
        let results = ResultSlots<Result>(count: size)
        let threads = (0..<size).map { rank in
            Thread { results.set(rank, body(InProcessRank(rank: rank, job: self))) }
        }
        threads.forEach { $0.start() }
        return results.waitForAll()
    }

    /// Every rank's `value`, in rank order, once every rank has deposited one.
    func exchange<Value>(_ value: Value, rank: Int) -> [Value] {
        condition.lock()
        defer { condition.unlock() }
        let myGeneration = generation
        deposits[rank] = value
        arrived += 1
        if arrived == size {
            published = deposits.map { $0! }
            deposits = Array(repeating: nil, count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        return published.map { $0 as! Value }
    }
}

/// One rank of an `InProcessJob`.
public final class InProcessRank: Communicator {
    public let rank: Int
    private let job: InProcessJob
    public var size: Int { job.size }

    init(rank: Int, job: InProcessJob) {
        self.rank = rank
        self.job = job
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        reduce(values) { $0 + $1 }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        reduce(values) { $0 + $1 }
    }

    public func allreduceMaximum(_ values: UnsafeMutableBufferPointer<Double>) {
        reduce(values) { Swift.max($0, $1) }
    }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) {
        let all = job.exchange(Array(values), rank: rank)
        for i in values.indices { values[i] = all[root][i] }
    }

    public func broadcast(bytes: [UInt8], root: Int) -> [UInt8] { job.exchange(bytes, rank: rank)[root] }

    public func gather(bytes: [UInt8], root: Int) -> [[UInt8]] {
        let all = job.exchange(bytes, rank: rank)
        return rank == root ? all : []
    }

    public func barrier() { _ = job.exchange(0, rank: rank) }

    /// Replaces `values` by the rank-order fold of every rank's values with `combine`.
    private func reduce<Element>(_ values: UnsafeMutableBufferPointer<Element>, _ combine: (Element, Element) -> Element) {
        let all = job.exchange(Array(values), rank: rank)
        for i in values.indices {
            var total = all[0][i]
            for other in all.dropFirst() { total = combine(total, other[i]) }
            values[i] = total
        }
    }
}

/// The ranks' results, filled from their threads.
private final class ResultSlots<Result>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [Result?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result) {
        condition.lock()
        slots[index] = value
        condition.broadcast()
        condition.unlock()
    }

    /// Every slot, once each is filled.
    func waitForAll() -> [Result] {
        condition.lock()
        defer { condition.unlock() }
        while slots.contains(where: { $0 == nil }) { condition.wait() }
        return slots.map { $0! }
    }
}
