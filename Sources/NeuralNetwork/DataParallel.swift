import TensorCore

// Synchronous data parallelism (as PyTorch's DistributedDataParallel), one model replica per
// rank of a job (TensorCore's `Communicator`):
//
//   start (and resume)  parameters and buffers are broadcast from rank 0
//   every step          rank r takes rows share_r of the global batch of B rows (|share_r| = n_r),
//                       computes its mean loss L_r and ∂L_r/∂θ, then
//                         g = Σ_r (n_r / B)·∂L_r/∂θ = ∂(mean loss over the B rows)/∂θ
//                       by MPI_Allreduce over contiguous float buckets of at most `bucketScalars`
//                       (one call per bucket, parameters in creation order), so uneven last
//                       batches are exact; clipping and the optimizer then see the same g on
//                       every rank and apply the same update
//   batch norm          normalises with each rank's own rows (DDP's default, not SyncBatchNorm);
//                       the running statistics are broadcast from rank 0 after every step
//                       (DDP's broadcast_buffers), so every replica holds rank 0's
//   randomness          dropout and sampling draw from a stream per rank and step, derived from
//                       the model's stream, which then advances the same way on every rank
//
// With one process (`SingleProcess`) every operation here returns at once and nothing changes.

/// One model replica's side of data-parallel training.
public struct DataParallel {
    public let communicator: any Communicator
    /// The most scalars one allreduce carries: 4 Mi floats, 16 MiB.
    public var bucketScalars = 1 << 22

    public init(communicator: any Communicator) {
        self.communicator = communicator
    }

    /// Whether more than one process trains.
    public var isDistributed: Bool { communicator.size > 1 }

    /// Copies rank 0's parameters and buffers to every rank (at start and after a resume).
    public func broadcastState(of store: ParameterStore) {
        guard isDistributed else { return }
        broadcast(store.parameters.map(\.tensor) + store.buffers.map(\.tensor))
    }

    /// Copies rank 0's buffers (batch norm's running statistics) to every rank.
    public func broadcastBuffers(of store: ParameterStore) {
        guard isDistributed else { return }
        broadcast(store.buffers.map(\.tensor))
    }

    /// Replaces every rank's gradients by Σ_r weight_r·gradient_r, where `weight` is this
    /// rank's share of the global batch (n_r / B), and returns the sums over ranks of
    /// `values` (e.g. each rank's loss values times its weight: the global batch's mean). A
    /// parameter gets a gradient when any rank's has one (zeros stand in for the others).
    public func averageGradients(of store: ParameterStore, weight: Float, values: [Double] = []) -> [Double] {
        guard isDistributed else { return values }
        let parameters = store.parameters.map(\.tensor)
        // One double call: which parameters have a gradient on some rank, then `values`.
        var flagsAndValues = parameters.map { $0.grad == nil ? 0.0 : 1.0 } + values
        flagsAndValues.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
        let present = parameters.indices.filter { flagsAndValues[$0] > 0 }
        for index in present where parameters[index].grad == nil {
            parameters[index].grad = Tensor.zeros(parameters[index].shape)
        }
        for bucket in buckets(present.map { parameters[$0] }) {
            var scalars = [Float](repeating: 0, count: bucket.reduce(0) { $0 + $1.count })
            var offset = 0
            for tensor in bucket {
                tensor.grad!.scalars.withUnsafeBufferPointer { gradient in
                    for i in 0..<gradient.count { scalars[offset + i] = gradient[i] * weight }
                }
                offset += tensor.count
            }
            scalars.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
            offset = 0
            for tensor in bucket {
                tensor.grad!.scalars = Array(scalars[offset..<(offset + tensor.count)])
                offset += tensor.count
            }
        }
        return Array(flagsAndValues[parameters.count...])
    }

    /// Runs `body` with the model's random stream replaced by one for this rank and this step
    /// (so ranks draw different dropout masks and noise), then advances the shared stream by
    /// one draw on every rank alike. With one process, `body` uses the stream as it is.
    public func withRankStream<Result>(_ random: RandomSource, _ body: () throws -> Result) rethrows -> Result {
        guard isDistributed else { return try body() }
        var shared = random.generator
        let stepSeed = shared.next()
        random.generator = RandomGenerator(seed: stepSeed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(communicator.rank + 1)))
        defer { random.generator = shared }
        return try body()
    }

    /// Throws when the replicas' parameters or buffers differ in any bit (compared through a
    /// 64-bit FNV-1a hash of rank 0's against every rank's): a check that every rank applied
    /// the same updates, run when checkpoints are written. Every rank throws together.
    public func checkReplicasAgree(_ store: ParameterStore, step: Int) throws {
        guard isDistributed else { return }
        let local = Self.fingerprint(store.parameters.map(\.tensor) + store.buffers.map(\.tensor))
        let rootBytes = communicator.broadcast(bytes: withUnsafeBytes(of: local.littleEndian) { Array($0) }, root: 0)
        let root = rootBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        if communicator.any(root != local) {
            throw DataParallelError.replicasDiverged(step: step)
        }
    }

    /// FNV-1a over the bit patterns of `tensors`' scalars.
    static func fingerprint(_ tensors: [Tensor]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for tensor in tensors {
            tensor.scalars.withUnsafeBufferPointer { values in
                for value in values {
                    hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3
                }
            }
        }
        return hash
    }

    /// `tensors` grouped, in order, into runs of at most `bucketScalars` scalars (a larger
    /// tensor is a bucket of its own).
    func buckets(_ tensors: [Tensor]) -> [[Tensor]] {
        var result: [[Tensor]] = [], current: [Tensor] = [], scalars = 0
        for tensor in tensors {
            if !current.isEmpty && scalars + tensor.count > bucketScalars {
                result.append(current)
                current = []
                scalars = 0
            }
            current.append(tensor)
            scalars += tensor.count
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Copies rank 0's values of `tensors` to every rank, bucket by bucket.
    private func broadcast(_ tensors: [Tensor]) {
        for bucket in buckets(tensors) {
            var scalars = bucket.flatMap(\.scalars)
            scalars.withUnsafeMutableBufferPointer { communicator.broadcast($0, root: 0) }
            var offset = 0
            for tensor in bucket {
                tensor.scalars = Array(scalars[offset..<(offset + tensor.count)])
                offset += tensor.count
            }
        }
    }
}

/// Data-parallel training went wrong.
public enum DataParallelError: Error, CustomStringConvertible {
    /// The replicas no longer hold the same parameters.
    case replicasDiverged(step: Int)

    public var description: String {
        switch self {
        case .replicasDiverged(let step):
            return "data-parallel ranks hold different parameters after step \(step) (a rank computed a different update); "
                + "the run stops rather than save a checkpoint only rank 0 agrees with"
        }
    }
}
