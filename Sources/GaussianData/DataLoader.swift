import Dispatch
import Foundation
import GaussianRasterizer
import TensorCore

// A seeded, epoch-wise shuffling batch loader over Gaussian sets, with one batch of prefetch.
//
// Order: epoch e visits the sets in `RandomGenerator(seed: epochSeed(seed, e)).permutation(count)`
// (or 0..<count without shuffling), so the order depends only on (seed, epoch): a run resumed at
// epoch e, batch b reproduces the batches it would have seen. Batch b holds positions
// b·B ..< min((b+1)·B, count) of that order; the last, shorter batch is kept or dropped.
//
// Prefetch: while the consumer works on batch b, batch b+1 is read on a serial
// background queue. The content of a batch depends only on its indices, never on timing, so
// prefetching yields exactly the batches of a non-prefetching loader. A read error is handed
// to the consumer as the error thrown by `next()`.
//
// Thread safety: a loader is immutable and may be shared; each epoch iterator must be used
// from one thread at a time. The source's `read(indices:)` is called from the background queue
// when prefetching, never concurrently with itself for one iterator (one read in flight at a
// time), but two iterators over the same source may read concurrently: a source used that way
// must tolerate concurrent reads. An iterator waits for its in-flight read when it is
// discarded, so no read outlives the iterator.

/// Random access to a collection of equally sized Gaussian sets.
public protocol GaussianSetSource {
    /// The number of sets.
    var count: Int { get }
    /// The number of Gaussians (rows of 8) in each set.
    var setSize: Int { get }
    /// The sets at `indices`, in that order: (k, setSize, 8) values, flattened.
    func read(indices: [Int]) throws -> [Float]
}

/// Sets held in memory: (count, setSize, 8) values.
public struct InMemoryGaussianSets: GaussianSetSource, Sendable {
    public let count: Int
    public let setSize: Int
    /// All sets, (count, setSize, 8) flattened.
    public let values: [Float]

    public init(values: [Float], setSize: Int) {
        let setLength = setSize * ImageGSColumn.count
        precondition(setSize > 0 && values.count % setLength == 0,
                     "InMemoryGaussianSets: \(values.count) values are not whole sets of \(setSize) × \(ImageGSColumn.count)")
        self.values = values
        self.setSize = setSize
        self.count = values.count / setLength
    }

    /// The sets of a (count, setSize, 8) tensor.
    public init(_ sets: Tensor) {
        precondition(sets.rank == 3 && sets.shape[2] == ImageGSColumn.count,
                     "InMemoryGaussianSets: expected (count, setSize, 8), got \(sets.shape)")
        self.init(values: sets.scalars, setSize: sets.shape[1])
    }

    public func read(indices: [Int]) throws -> [Float] {
        let setLength = setSize * ImageGSColumn.count
        var result: [Float] = []
        result.reserveCapacity(indices.count * setLength)
        for index in indices {
            precondition((0..<count).contains(index), "InMemoryGaussianSets.read: index \(index) outside 0..<\(count)")
            result += values[(index * setLength)..<((index + 1) * setLength)]
        }
        return result
    }
}

/// One batch: the sets (B, G, 8) — normalised if the loader normalises — and where they came from.
public struct GaussianBatch {
    /// (B, G, 8); B is the batch size except possibly for the last batch of an epoch.
    public let sets: Tensor
    /// The dataset index of each set in `sets`.
    public let indices: [Int]
    public let epoch: Int
    /// The position of this batch within its epoch, from 0.
    public let batchIndex: Int
}

/// Batches of Gaussian sets in a seeded order per epoch (see the file comment).
public final class GaussianDataLoader {
    public let source: any GaussianSetSource
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Whether a last batch smaller than `batchSize` is dropped.
    public let dropLast: Bool
    /// Whether the next batch is read on a background queue while this one is used.
    public let prefetch: Bool

    public init(
        source: any GaussianSetSource, batchSize: Int, seed: UInt64, shuffle: Bool = true,
        dropLast: Bool = false, prefetch: Bool = true
    ) {
        precondition(batchSize > 0, "GaussianDataLoader: batch size must be positive, got \(batchSize)")
        self.source = source
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.prefetch = prefetch
    }

    /// The number of batches in each epoch.
    public var batchesPerEpoch: Int {
        dropLast ? source.count / batchSize : (source.count + batchSize - 1) / batchSize
    }

    /// The dataset indices in the order epoch `epoch` visits them (all of them, even those a
    /// dropped last batch skips).
    public func order(epoch: Int) -> [Int] {
        precondition(epoch >= 0, "GaussianDataLoader.order: epoch must be non-negative, got \(epoch)")
        guard shuffle else { return Array(0..<source.count) }
        var generator = RandomGenerator(seed: Self.epochSeed(seed: seed, epoch: epoch))
        return generator.permutation(source.count)
    }

    /// The generator seed of an epoch: SplitMix64 finalisers of the seed and the epoch combined,
    /// so nearby (seed, epoch) pairs give unrelated streams.
    public static func epochSeed(seed: UInt64, epoch: Int) -> UInt64 {
        func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return mix(mix(seed) ^ UInt64(epoch))
    }

    /// An iterator over the batches of `epoch`, starting at batch `startBatch` (to resume).
    public func batches(epoch: Int, startingAt startBatch: Int = 0) -> GaussianBatchIterator {
        precondition(startBatch >= 0, "GaussianDataLoader.batches: start batch must be non-negative, got \(startBatch)")
        return GaussianBatchIterator(loader: self, epoch: epoch, order: order(epoch: epoch), nextBatch: startBatch)
    }

    /// The dataset indices of batch `batch` of an epoch whose order is `order`.
    fileprivate func indices(ofBatch batch: Int, order: [Int]) -> [Int] {
        Array(order[(batch * batchSize)..<min((batch + 1) * batchSize, order.count)])
    }

    /// Reads the sets at `indices`: (k, G, 8) values (models normalise them in their own
    /// representation, e.g. GaussianVAE's `ColumnNormalization.modelInput`).
    fileprivate func load(_ indices: [Int]) throws -> [Float] {
        let values = try source.read(indices: indices)
        let expected = indices.count * source.setSize * ImageGSColumn.count
        guard values.count == expected else {
            throw GaussianDataLoaderError.wrongSize(indices: indices, expected: expected, got: values.count)
        }
        return values
    }
}

/// A source returned the wrong amount of data.
public enum GaussianDataLoaderError: Error, Equatable, CustomStringConvertible {
    case wrongSize(indices: [Int], expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .wrongSize(indices, expected, got):
            return "the Gaussian set source returned \(got) values for sets \(indices), expected \(expected)"
        }
    }
}

/// The batches of one epoch: `while let batch = try iterator.next() { … }`. Use it from one
/// thread at a time. After an error, every later `next()` throws the same error.
public final class GaussianBatchIterator {
    private let loader: GaussianDataLoader
    public let epoch: Int
    /// The dataset indices in this epoch's order.
    public let order: [Int]
    /// The index of the batch the next call returns.
    public private(set) var nextBatch: Int
    private var pending: PendingRead?
    private var failure: Error?

    /// One background read: written by the queue before `done` is signalled, read by the
    /// consumer only after waiting on `done` (the semaphore orders the accesses).
    private final class PendingRead: @unchecked Sendable {
        let batch: Int
        let done = DispatchSemaphore(value: 0)
        var result: Result<[Float], Error>?

        init(batch: Int) { self.batch = batch }
    }

    /// A serial queue per iterator: at most one read in flight.
    private let queue = DispatchQueue(label: "SplatKit.GaussianDataLoader.prefetch", qos: .userInitiated)

    fileprivate init(loader: GaussianDataLoader, epoch: Int, order: [Int], nextBatch: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = order
        self.nextBatch = nextBatch
        if loader.prefetch && nextBatch < loader.batchesPerEpoch { pending = startRead(batch: nextBatch) }
    }

    deinit {
        pending?.done.wait()
    }

    /// Starts reading batch `batch` on the background queue.
    private func startRead(batch: Int) -> PendingRead {
        let read = PendingRead(batch: batch)
        let indices = loader.indices(ofBatch: batch, order: order)
        let loader = UncheckedSendable(loader)
        queue.async {
            read.result = Result { try loader.value.load(indices) }
            read.done.signal()
        }
        return read
    }

    /// The next batch, or nil after the last one. Throws the source's error for a failed read.
    public func next() throws -> GaussianBatch? {
        if let failure { throw failure }
        guard nextBatch < loader.batchesPerEpoch else { return nil }
        let batch = nextBatch
        let indices = loader.indices(ofBatch: batch, order: order)
        let result: Result<[Float], Error>
        if let read = pending {
            precondition(read.batch == batch, "GaussianBatchIterator: prefetched batch \(read.batch), expected \(batch)")
            read.done.wait()
            result = read.result!
            pending = nil
        } else {
            result = Result { try loader.load(indices) }
        }
        nextBatch += 1
        let values: [Float]
        do {
            values = try result.get()
        } catch {
            failure = error  // sticky; nothing more is read
            throw error
        }
        if loader.prefetch && nextBatch < loader.batchesPerEpoch { pending = startRead(batch: nextBatch) }
        let sets = Tensor(shape: [indices.count, loader.source.setSize, ImageGSColumn.count], scalars: values)
        return GaussianBatch(sets: sets, indices: indices, epoch: epoch, batchIndex: batch)
    }
}

/// Hands a value to the prefetch queue. Safe here because the loader is immutable and the
/// source's thread requirements are documented on `GaussianDataLoader`.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
