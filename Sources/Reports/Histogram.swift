import Foundation
import TensorCore

// Histograms that fill in a stream (one Gaussian set at a time), and the reservoir sample
// that chooses their range in a first pass.
//
// Bins: `bins` equal bins over [lowerBound, upperBound]; bin i holds
//   lowerBound + i·w ≤ v < lowerBound + (i+1)·w,  w = (upperBound − lowerBound) / bins,
// except that v = upperBound joins the last bin. Values outside the range are counted in
// `below` / `above`, NaN and ±inf in `invalid`; none of them is in a bin.

/// Counts of values in equal bins over a fixed range.
public struct Histogram: Equatable, Sendable {
    public let lowerBound: Double
    public let upperBound: Double
    public private(set) var counts: [Int]
    /// Finite values below `lowerBound` / above `upperBound`.
    public private(set) var below = 0
    public private(set) var above = 0
    /// NaN and ±inf values.
    public private(set) var invalid = 0

    /// An empty histogram of `bins` bins over `lowerBound…upperBound` (finite, lower < upper).
    public init(lowerBound: Double, upperBound: Double, bins: Int) {
        precondition(bins >= 1, "Histogram: needs at least 1 bin, got \(bins)")
        precondition(lowerBound.isFinite && upperBound.isFinite && lowerBound < upperBound,
                     "Histogram: range must be finite and increasing, got \(lowerBound)…\(upperBound)")
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        counts = [Int](repeating: 0, count: bins)
    }

    /// A histogram of `values` over their finite range (0…1 when none is finite; a constant
    /// value c gets c ± 0.5 for c = 0, else c ± 5%).
    public init(values: [Double], bins: Int) {
        let finite = values.filter { $0.isFinite }
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if high <= low {
            let half = low == 0 ? 0.5 : abs(low) * 0.05
            low -= half
            high += half
        }
        self.init(lowerBound: low, upperBound: high, bins: bins)
        for value in values { add(value) }
    }

    /// Bin width.
    public var binWidth: Double { (upperBound - lowerBound) / Double(counts.count) }

    /// Values counted in bins.
    public var binnedCount: Int { counts.reduce(0, +) }

    /// Every value added, binned or not.
    public var totalCount: Int { binnedCount + below + above + invalid }

    /// The lower edge of bin `index` (`index` = bin count gives the upper bound).
    public func edge(_ index: Int) -> Double {
        index == counts.count ? upperBound : lowerBound + Double(index) * binWidth
    }

    /// Counts one value.
    public mutating func add(_ value: Double) {
        guard value.isFinite else {
            invalid += 1
            return
        }
        if value < lowerBound {
            below += 1
        } else if value > upperBound {
            above += 1
        } else {
            let index = Int((value - lowerBound) / binWidth)
            counts[Swift.min(Swift.max(index, 0), counts.count - 1)] += 1
        }
    }

    /// Counts every value of `values`.
    public mutating func add<S: Sequence>(contentsOf values: S) where S.Element: BinaryFloatingPoint {
        for value in values { add(Double(value)) }
    }
}

/// A uniform random sample of at most `capacity` values from a stream of unknown length
/// (Vitter's algorithm R), seeded so a report is repeatable. Used to pick histogram ranges
/// from quantiles before the counting pass.
public struct ReservoirSample: Sendable {
    public let capacity: Int
    public private(set) var values: [Double] = []
    /// Finite values offered so far (non-finite ones are ignored).
    public private(set) var seen = 0
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = -Double.infinity
    private var generator: RandomGenerator

    public init(capacity: Int, seed: UInt64 = 0) {
        precondition(capacity >= 1, "ReservoirSample: capacity must be at least 1, got \(capacity)")
        self.capacity = capacity
        generator = RandomGenerator(seed: seed)
        values.reserveCapacity(Swift.min(capacity, 1 << 16))
    }

    /// Offers one value; NaN and ±inf are ignored.
    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        seen += 1
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
        if values.count < capacity {
            values.append(value)
        } else {
            let slot = generator.nextInt(below: seen)
            if slot < capacity { values[slot] = value }
        }
    }

    /// The `p` quantile (0…1) of the sample by linear interpolation; nil when empty.
    public func quantile(_ p: Double) -> Double? {
        quantiles([p]).first ?? nil
    }

    /// Several quantiles with one sort.
    public func quantiles(_ ps: [Double]) -> [Double?] {
        guard !values.isEmpty else { return ps.map { _ in nil } }
        let sorted = values.sorted()
        return ps.map { p in
            let position = Swift.min(Swift.max(p, 0), 1) * Double(sorted.count - 1)
            let below = Int(position.rounded(.down)), above = Swift.min(below + 1, sorted.count - 1)
            let fraction = position - Double(below)
            return sorted[below] + (sorted[above] - sorted[below]) * fraction
        }
    }

    /// A histogram range for this stream: nice bounds (see `niceTicks`) around the
    /// `tail`…(1 − `tail`) quantiles, so a few extreme values do not squash every bin; values
    /// outside land in the histogram's `below`/`above`. 0…1 when nothing finite was seen.
    public func histogramRange(tail: Double = 0.001) -> ClosedRange<Double> {
        let bounds = quantiles([tail, 1 - tail])
        guard let low = bounds[0], let high = bounds[1] else { return 0...1 }
        let ticks = niceTicks(min: low, max: high, count: 6)
        guard let first = ticks.first, let last = ticks.last, first < last else { return (low - 0.5)...(high + 0.5) }
        return first...last
    }
}
