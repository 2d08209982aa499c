import Foundation

// Bjøntegaard deltas between two rate–distortion curves (VCEG-M33, with the piecewise cubic
// interpolation of later JCT-VC practice): each curve is interpolated by a monotone piecewise
// cubic Hermite spline (PCHIP, Fritsch–Carlson slopes, as scipy's PchipInterpolator) and the
// two are integrated over the interval where both are defined.
//   BD-PSNR  mean PSNR difference (A − B, dB) over the common log-rate interval (PSNR(log rate))
//   BD-rate  mean log-rate difference over the common PSNR interval (log rate(PSNR)), as a
//            percentage: 100·(10^mean − 1); negative when A needs fewer bits for the same PSNR
// Each segment is a cubic, so Simpson's rule integrates it exactly.

/// A rate–distortion point: bits per pixel (or bytes) and PSNR (dB).
public struct RatePoint: Equatable, Sendable {
    public let rate: Double, psnr: Double
    public init(rate: Double, psnr: Double) {
        self.rate = rate
        self.psnr = psnr
    }
}

/// BD-rate of A against B in percent (NaN when the curves share no PSNR interval or either has
/// fewer than two distinct points).
public func bjontegaardRate(_ a: [RatePoint], _ b: [RatePoint]) -> Double {
    let meanDifference = meanDifference(a.map { ($0.psnr, log10($0.rate)) }, b.map { ($0.psnr, log10($0.rate)) })
    return (pow(10, meanDifference) - 1) * 100
}

/// BD-PSNR of A against B in dB (NaN when the curves share no log-rate interval).
public func bjontegaardPSNR(_ a: [RatePoint], _ b: [RatePoint]) -> Double {
    meanDifference(a.map { (log10($0.rate), $0.psnr) }, b.map { (log10($0.rate), $0.psnr) })
}

/// The mean of f_a − f_b over the common x interval of two sampled functions.
private func meanDifference(_ a: [(Double, Double)], _ b: [(Double, Double)]) -> Double {
    guard let splineA = MonotoneCubic(a), let splineB = MonotoneCubic(b) else { return .nan }
    let low = Swift.max(splineA.xs.first!, splineB.xs.first!), high = Swift.min(splineA.xs.last!, splineB.xs.last!)
    guard high > low else { return .nan }
    return (splineA.integral(from: low, to: high) - splineB.integral(from: low, to: high)) / (high - low)
}

/// A PCHIP interpolant of points sorted by x (repeated x merged by averaging y).
struct MonotoneCubic {
    let xs: [Double], ys: [Double], slopes: [Double]

    init?(_ points: [(Double, Double)]) {
        let finite = points.filter { $0.0.isFinite && $0.1.isFinite }.sorted { $0.0 < $1.0 }
        var xs: [Double] = [], ys: [Double] = [], counts: [Double] = []
        for (x, y) in finite {
            if let last = xs.last, last == x {
                ys[ys.count - 1] += y
                counts[counts.count - 1] += 1
            } else {
                xs.append(x); ys.append(y); counts.append(1)
            }
        }
        guard xs.count >= 2 else { return nil }
        ys = zip(ys, counts).map { $0 / $1 }
        let n = xs.count
        let h = (0..<(n - 1)).map { xs[$0 + 1] - xs[$0] }
        let d = (0..<(n - 1)).map { (ys[$0 + 1] - ys[$0]) / h[$0] }
        var m = [Double](repeating: 0, count: n)
        if n == 2 {
            m = [d[0], d[0]]
        } else {
            for k in 1..<(n - 1) where d[k - 1] * d[k] > 0 {
                let w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1]
                m[k] = (w1 + w2) / (w1 / d[k - 1] + w2 / d[k])
            }
            m[0] = Self.endSlope(h[0], h[1], d[0], d[1])
            m[n - 1] = Self.endSlope(h[n - 2], h[n - 3], d[n - 2], d[n - 3])
        }
        (self.xs, self.ys, slopes) = (xs, ys, m)
    }

    /// The shape-preserving three-point end slope (scipy's `_edge_case`).
    private static func endSlope(_ h0: Double, _ h1: Double, _ d0: Double, _ d1: Double) -> Double {
        let slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if slope.sign != d0.sign || d0 == 0 { return 0 }
        if d0.sign != d1.sign && abs(slope) > abs(3 * d0) { return 3 * d0 }
        return slope
    }

    /// The interpolant at x (inside [xs.first, xs.last]).
    func value(_ x: Double) -> Double {
        var k = 0
        while k < xs.count - 2 && x > xs[k + 1] { k += 1 }
        let h = xs[k + 1] - xs[k], t = (x - xs[k]) / h
        let t2 = t * t, t3 = t2 * t
        return (2 * t3 - 3 * t2 + 1) * ys[k] + (t3 - 2 * t2 + t) * h * slopes[k]
            + (-2 * t3 + 3 * t2) * ys[k + 1] + (t3 - t2) * h * slopes[k + 1]
    }

    /// ∫ from `low` to `high` (both inside the knots), exact: Simpson's rule on each cubic piece.
    func integral(from low: Double, to high: Double) -> Double {
        let cuts = [low] + xs.filter { $0 > low && $0 < high } + [high]
        var total = 0.0
        for (a, b) in zip(cuts, cuts.dropFirst()) {
            total += (b - a) / 6 * (value(a) + 4 * value((a + b) / 2) + value(b))
        }
        return total
    }
}
