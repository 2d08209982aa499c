import XCTest
@testable import Reports

final class BjontegaardTests: XCTestCase {
    /// B: 30 + 3·log2(rate) at rates 1, 2, 4, 8; A: the same PSNRs at half the rates. PSNR is
    /// linear in log rate, so the splines are exact lines: A needs exactly half the bits for any
    /// PSNR (BD-rate −50 %) and gains exactly 3 dB at any rate (BD-PSNR +3 dB).
    func testHalfTheRateIsMinusFiftyPercentAndThreeDecibels() {
        let b = [1.0, 2, 4, 8].map { RatePoint(rate: $0, psnr: 30 + 3 * log2($0)) }
        let a = b.map { RatePoint(rate: $0.rate / 2, psnr: $0.psnr) }
        XCTAssertEqual(bjontegaardRate(a, b), -50, accuracy: 1e-9)
        XCTAssertEqual(bjontegaardPSNR(a, b), 3, accuracy: 1e-9)
        XCTAssertEqual(bjontegaardRate(b, a), 100, accuracy: 1e-9, "swapped: B needs twice A's bits")
    }

    /// A: 30 + 6·log2(rate), B: 30 + 3·log2(rate), rates 1, 2, 4, 8 (log2 rate s ∈ [0, 3]).
    /// BD-PSNR = mean over s ∈ [0, 3] of 3s = 4.5 dB. BD-rate: over PSNR P ∈ [30, 39] (the common
    /// range: A spans 30…48), log2 rate is (P − 30)/6 for A and (P − 30)/3 for B, a difference of
    /// −(P − 30)/6 whose mean is −0.75 octave: 2^−0.75 − 1 = −40.5396 %.
    func testDifferentSlopesMatchTheHandWorkedIntegrals() {
        let rates = [1.0, 2, 4, 8]
        let a = rates.map { RatePoint(rate: $0, psnr: 30 + 6 * log2($0)) }
        let b = rates.map { RatePoint(rate: $0, psnr: 30 + 3 * log2($0)) }
        XCTAssertEqual(bjontegaardPSNR(a, b), 4.5, accuracy: 1e-9)
        XCTAssertEqual(bjontegaardRate(a, b), (pow(2, -0.75) - 1) * 100, accuracy: 1e-9)
    }

    func testMonotoneCubicKeepsMonotoneDataMonotoneAndInterpolates() {
        let spline = MonotoneCubic([(0, 0), (1, 1), (2, 1.1), (3, 5)])!
        var previous = -Double.infinity
        for step in 0...300 {
            let value = spline.value(Double(step) / 100)
            XCTAssertGreaterThanOrEqual(value, previous - 1e-12)
            previous = value
        }
        for (x, y) in [(0.0, 0.0), (1, 1), (2, 1.1), (3, 5)] { XCTAssertEqual(spline.value(x), y, accuracy: 1e-12) }
        // ∫ of the line 1 + 2x from 0.5 to 2 is [x + x²] = 6 − 0.75.
        XCTAssertEqual(MonotoneCubic([(0, 1), (2, 5)])!.integral(from: 0.5, to: 2), 5.25, accuracy: 1e-12)
    }

    func testCurvesWithoutOverlapGiveNaN() {
        let a = [RatePoint(rate: 1, psnr: 20), RatePoint(rate: 2, psnr: 22)]
        let b = [RatePoint(rate: 4, psnr: 30), RatePoint(rate: 8, psnr: 33)]
        XCTAssertTrue(bjontegaardRate(a, b).isNaN)
        XCTAssertTrue(bjontegaardPSNR(a, b).isNaN)
        XCTAssertTrue(bjontegaardPSNR([RatePoint(rate: 1, psnr: 20)], b).isNaN, "one point is no curve")
    }
}
