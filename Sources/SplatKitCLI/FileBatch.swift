import Foundation
import SplatIO
import TensorCore

// Shared by the commands that write many independent files in parallel (`dataset images`,
// `masks`): the parallel loop that stops at the first error, and progress (the output folder
// comes from SplatIO's `createOutputFolder`).

/// Runs `write(index)` for every index in parallel (`parallelItems`); after the first error no
/// new item starts, and that error is rethrown once all running items are done.
func writeInParallel(_ indices: [Int], _ write: (Int) throws -> Void) throws {
    let lock = NSLock()
    var firstError: Error?
    parallelItems(indices.count) { item in
        lock.lock()
        let failed = firstError != nil
        lock.unlock()
        if failed { return }
        do { try write(indices[item]) } catch {
            lock.lock()
            if firstError == nil { firstError = error }
            lock.unlock()
        }
    }
    if let firstError { throw firstError }
}

/// Thread-safe progress lines for a batch of equal items: "done/total <unit>, rate, ETA" plus an
/// optional detail, printed every `every` items or 2 s, whichever comes first, but at most
/// twice a second, and at the end.
final class BatchProgress: @unchecked Sendable {
    private let total: Int, every: Int, unit: String
    private let started: Double
    private let lock = NSLock()
    private var done = 0
    private var lastPrintedCount = 0
    private var lastPrintedTime: Double

    init(total: Int, unit: String, every: Int = 50) {
        self.total = total
        self.unit = unit
        self.every = every
        started = monotonicSeconds()
        lastPrintedTime = started
    }

    /// Counts one finished item; `detail` (called under the lock, only when a line is due) adds
    /// text such as a running mean.
    func finishedOne(detail: (Int) -> String = { _ in "" }) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        let now = monotonicSeconds()
        let sinceLast = now - lastPrintedTime
        let due = done == total || (sinceLast >= 0.5 && (done - lastPrintedCount >= every || sinceLast >= 2))
        guard due else { return }
        lastPrintedCount = done
        lastPrintedTime = now
        let rate = Double(done) / Swift.max(now - started, 1e-9)
        let width = String(total).count
        let counter = String(repeating: " ", count: Swift.max(0, width - String(done).count)) + "\(done)/\(total)"
        print(String(format: "  %@ %@  %7.1f %@/s%@  ETA %@", counter as NSString, unit as NSString, rate, unit as NSString,
                     detail(done) as NSString, formatDuration(Double(total - done) / rate) as NSString))
    }

    /// Seconds since the batch started.
    var elapsed: Double { monotonicSeconds() - started }
}
