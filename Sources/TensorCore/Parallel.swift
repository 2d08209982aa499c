import CBLAS
import Dispatch
import Foundation

// One thread setting drives OpenBLAS and SplatKit's own parallel loops.
// Default: the SPLATKIT_THREADS environment variable, else all active cores.

/// The number of threads used by BLAS and by SplatKit's parallel loops.
public enum ComputeThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured: Int?

    /// The current thread count (resolved and applied to OpenBLAS on first use).
    public static var count: Int {
        lock.lock()
        defer { lock.unlock() }
        if let configured { return configured }
        let resolved = defaultCount()
        applyLocked(resolved)
        return resolved
    }

    /// Sets the thread count for OpenBLAS and SplatKit's loops (at least 1).
    /// The most threads SplatKit uses: more than this many cores' worth only adds overhead
    /// (and OpenBLAS's own limit is in this range); requests above it are clamped.
    public static let maximum = 256

    /// Sets the thread count, clamped to 1…`maximum`.
    public static func set(_ threads: Int) {
        lock.lock()
        defer { lock.unlock() }
        applyLocked(min(max(1, threads), maximum))
    }

    private static func applyLocked(_ threads: Int) {
        configured = threads
        openblas_set_num_threads(Int32(threads))
    }

    /// SPLATKIT_THREADS when it holds a positive integer, else the active core count.
    public static func defaultCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["SPLATKIT_THREADS"], let value = Int(text), value > 0 {
            return min(value, maximum)
        }
        return min(ProcessInfo.processInfo.activeProcessorCount, maximum)
    }
}

/// Runs `body` over `0..<count` split into contiguous chunks on up to `ComputeThreads.count`
/// threads. Work smaller than `minimumPerThread` items per thread runs inline, so small
/// tensors pay no dispatch cost. Chunks write disjoint outputs; results do not depend on
/// the thread count.
@inline(__always)
func parallelChunks(_ count: Int, minimumPerThread: Int = 32_768, _ body: (Range<Int>) -> Void) {
    let threads = min(ComputeThreads.count, count / max(minimumPerThread, 1))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let start = t * chunk
        let end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// Runs `body(i)` for every i in `0..<count` on up to `threads` threads (default
/// `ComputeThreads.count`), handing out items one at a time (for uneven work such as image
/// tiles). Items must write disjoint outputs; then results do not depend on the thread count.
public func parallelItems(_ count: Int, threads requested: Int? = nil, _ body: (Int) -> Void) {
    let threads = Swift.min(requested ?? ComputeThreads.count, count)
    if threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let lock = NSLock()
    var next = 0
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                if i >= count { return }
                body(i)
            }
        }
    }
}
