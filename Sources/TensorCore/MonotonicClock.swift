// The one monotonic clock of SplatKit: wall-clock seconds for rates, ETAs and timings, from
// Swift's ContinuousClock (never goes backwards, not affected by changes of the system time).

private let processClock = ContinuousClock()
private let processStart = processClock.now

/// Monotonic wall-clock seconds since an arbitrary fixed point in this process.
/// Differences of two calls are elapsed seconds.
public func monotonicSeconds() -> Double {
    let elapsed = processClock.now - processStart
    let (seconds, attoseconds) = elapsed.components
    return Double(seconds) + Double(attoseconds) * 1e-18
}
