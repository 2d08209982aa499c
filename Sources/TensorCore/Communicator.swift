import Foundation

// The processes of one job, as the training and dataset code sees them. A job is `size`
// processes (ranks 0..<size) running the same command; rank 0 alone writes files and prints.
// `SingleProcess` is the job of one, which every command uses unless it was launched by
// `mpirun` (the MessagePassing module implements the protocol over MPI). The protocol lives
// here, below every module that trains or builds, so that those modules take a communicator as
// a value and none of them depends on MPI.
//
// Every operation is collective: every rank calls it, in the same order, with buffers of the
// same length (except `gather`'s byte arrays); a rank that skips one makes the others wait.

/// The processes of one job and the collective operations between them.
public protocol Communicator: AnyObject {
    /// This process's index in the job, 0..<size.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Replaces `values` on every rank by the element-wise sum over all ranks (the same bytes on every rank).
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every rank by the element-wise sum over all ranks.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces `values` on every rank by the element-wise maximum over all ranks.
    func allreduceMaximum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Copies `values` of rank `root` to every other rank.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int)
    /// Rank `root`'s `bytes` (of any length) on every rank.
    func broadcast(bytes: [UInt8], root: Int) -> [UInt8]
    /// Every rank's `bytes` (of any length), in rank order, on rank `root`; `[]` on the others.
    func gather(bytes: [UInt8], root: Int) -> [[UInt8]]
    /// Returns when every rank has called it.
    func barrier()
}

extension Communicator {
    /// Whether this process writes the job's files and prints its progress.
    public var isRoot: Bool { rank == 0 }

    /// The sum over all ranks of each of `values`.
    public func sum(_ values: [Double]) -> [Double] {
        var result = values
        result.withUnsafeMutableBufferPointer { allreduceSum($0) }
        return result
    }

    /// Whether `flag` is true on any rank (for decisions every rank must take together, such
    /// as stopping after Ctrl-C reached some ranks first).
    public func any(_ flag: Bool) -> Bool {
        var value = [flag ? 1.0 : 0.0]
        value.withUnsafeMutableBufferPointer { allreduceMaximum($0) }
        return value[0] > 0
    }

    /// This rank's contiguous share of `count` items (a batch's rows, a window's items): the
    /// first `count % size` ranks take one more. Every item belongs to exactly one rank.
    public func share(of count: Int) -> Range<Int> {
        precondition(count >= 0, "Communicator.share: negative count \(count)")
        let base = count / size, extra = count % size
        let start = rank * base + Swift.min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// The job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func allreduceMaximum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) {}
    public func broadcast(bytes: [UInt8], root: Int) -> [UInt8] { bytes }
    public func gather(bytes: [UInt8], root: Int) -> [[UInt8]] { [bytes] }
    public func barrier() {}
}
