import CMPI
import Foundation
import TensorCore

// The job's communicator over Open MPI (MPI_COMM_WORLD). Only the main thread calls MPI
// (MPI_THREAD_FUNNELED); every call's return code goes through `check`, although with MPI's
// default error handler (MPI_ERRORS_ARE_FATAL) a failing call aborts the whole job first.
//
// MPI counts are 32-bit: buffers longer than `maximumCount` elements are sent in pieces.

/// A `Communicator` over MPI_COMM_WORLD.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world = cmpi_comm_world()
    /// The most elements one MPI call carries.
    static let maximumCount = 1 << 30

    /// Initialises MPI (once per process). Called by `MPIJob.start()` when mpirun launched us.
    init() {
        var provided: Int32 = 0
        Self.check(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        Self.check(MPI_Comm_rank(cmpi_comm_world(), &rank), "MPI_Comm_rank")
        Self.check(MPI_Comm_size(cmpi_comm_world(), &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        pieces(values.count) { start, count in
            Self.check(MPI_Allreduce(cmpi_in_place(), values.baseAddress! + start, count, cmpi_float(), cmpi_sum(), world), "MPI_Allreduce")
        }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        pieces(values.count) { start, count in
            Self.check(MPI_Allreduce(cmpi_in_place(), values.baseAddress! + start, count, cmpi_double(), cmpi_sum(), world), "MPI_Allreduce")
        }
    }

    public func allreduceMaximum(_ values: UnsafeMutableBufferPointer<Double>) {
        pieces(values.count) { start, count in
            Self.check(MPI_Allreduce(cmpi_in_place(), values.baseAddress! + start, count, cmpi_double(), cmpi_max(), world), "MPI_Allreduce")
        }
    }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) {
        pieces(values.count) { start, count in
            Self.check(MPI_Bcast(values.baseAddress! + start, count, cmpi_float(), Int32(root), world), "MPI_Bcast")
        }
    }

    public func broadcast(bytes: [UInt8], root: Int) -> [UInt8] {
        var length = [Int64(rank == root ? bytes.count : 0)]
        Self.check(MPI_Bcast(&length, 1, cmpi_int64(), Int32(root), world), "MPI_Bcast")
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        result.withUnsafeMutableBufferPointer { buffer in
            pieces(buffer.count) { start, count in
                Self.check(MPI_Bcast(buffer.baseAddress! + start, count, cmpi_byte(), Int32(root), world), "MPI_Bcast")
            }
        }
        return result
    }

    public func gather(bytes: [UInt8], root: Int) -> [[UInt8]] {
        precondition(bytes.count < Self.maximumCount, "MPICommunicator.gather: \(bytes.count) bytes is more than one MPI call carries")
        var length = Int32(bytes.count)
        var lengths = [Int32](repeating: 0, count: rank == root ? size : 1)
        Self.check(MPI_Gather(&length, 1, cmpi_int32(), &lengths, 1, cmpi_int32(), Int32(root), world), "MPI_Gather")
        let total = lengths.reduce(0) { $0 + Int($1) }
        precondition(total < Self.maximumCount, "MPICommunicator.gather: \(total) bytes in all is more than one MPI call carries")
        var offsets = [Int32](repeating: 0, count: lengths.count)
        for index in lengths.indices.dropFirst() { offsets[index] = offsets[index - 1] + lengths[index - 1] }
        var received = [UInt8](repeating: 0, count: Swift.max(total, 1))  // read on the root only
        bytes.withUnsafeBufferPointer { send in
            received.withUnsafeMutableBufferPointer { receive in
                Self.check(MPI_Gatherv(send.baseAddress, length, cmpi_byte(), receive.baseAddress, lengths, offsets, cmpi_byte(),
                                       Int32(root), world), "MPI_Gatherv")
            }
        }
        guard rank == root else { return [] }
        return (0..<size).map { Array(received[Int(offsets[$0])..<(Int(offsets[$0]) + Int(lengths[$0]))]) }
    }

    public func barrier() {
        Self.check(MPI_Barrier(world), "MPI_Barrier")
    }

    /// Ends the whole job: prints `message` (prefixed with this rank) to standard error and
    /// asks MPI to kill every rank, so that no rank waits forever for one that failed.
    public func abort(_ message: String, exitCode: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("splatkit (rank \(rank) of \(size)): \(message)\n".utf8))
        MPI_Abort(world, exitCode)
        exit(exitCode)
    }

    /// Leaves MPI cleanly (every rank, at the end of a command that succeeded).
    public func finalize() {
        Self.check(MPI_Finalize(), "MPI_Finalize")
    }

    /// Calls `body(start, count)` for consecutive pieces of at most `maximumCount` of `total` elements.
    private func pieces(_ total: Int, _ body: (Int, Int32) -> Void) {
        var start = 0
        repeat {
            let count = Swift.min(total - start, Self.maximumCount)
            body(start, Int32(count))
            start += count
        } while start < total
    }

    /// The one place an MPI return code is checked.
    static func check(_ code: Int32, _ call: String) {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        FileHandle.standardError.write(Data("splatkit: \(call) failed: \(String(cString: text))\n".utf8))
        MPI_Abort(cmpi_comm_world(), 1)
        exit(1)
    }
}
