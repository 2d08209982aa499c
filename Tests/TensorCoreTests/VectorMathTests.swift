import Foundation
import XCTest
@testable import TensorCore

// VectorMath's e^x and e^x − 1 against Double libm (the true value to well below a float ulp)
// over dense grids; then the same functions as the vectorised loops of the tensor ops run them.

final class VectorMathTests: XCTestCase {
    /// The largest absolute and relative errors of `approximation` against `reference` at
    /// `count` evenly spaced points of `range` (both ends included).
    private func errors(
        _ range: ClosedRange<Float>, count: Int, _ approximation: (Float) -> Float, _ reference: (Double) -> Double
    ) -> (absolute: Double, relative: Double, worstInput: Float) {
        var absolute = 0.0, relative = 0.0, worstInput: Float = 0
        let step = (range.upperBound - range.lowerBound) / Float(count - 1)
        for i in 0..<count {
            let x = Swift.min(range.lowerBound + Float(i) * step, range.upperBound)
            let expected = reference(Double(x))
            let error = Swift.abs(Double(approximation(x)) - expected)
            absolute = Swift.max(absolute, error)
            if expected != 0 && error / Swift.abs(expected) > relative {
                relative = error / Swift.abs(expected)
                worstInput = x
            }
        }
        return (absolute, relative, worstInput)
    }

    func testExponentialIsWithinTwoTenMillionthsRelative() {
        let measured = errors(-87...88, count: 2_000_000, VectorMath.exp, Foundation.exp)
        XCTAssertLessThanOrEqual(measured.relative, 2e-7, "worst at x = \(measured.worstInput)")
    }

    func testExpm1IsWithinATenMillionthNearZero() {
        let measured = errors(-1...1, count: 1_000_000, VectorMath.expm1, Foundation.expm1)
        XCTAssertLessThanOrEqual(measured.absolute, 1e-7)
        // Relative accuracy holds right down to 0, where e^x − 1 ≈ x (no cancellation).
        XCTAssertLessThanOrEqual(measured.relative, 2e-7, "worst at x = \(measured.worstInput)")
        let tiny = errors(-1e-3...1e-3, count: 100_000, VectorMath.expm1, Foundation.expm1)
        XCTAssertLessThanOrEqual(tiny.relative, 2e-7, "worst at x = \(tiny.worstInput)")
    }

    func testExpm1IsWithinTwoTenMillionthsRelativeOverTheWholeRange() {
        let measured = errors(-100...88, count: 2_000_000, VectorMath.expm1, Foundation.expm1)
        XCTAssertLessThanOrEqual(measured.relative, 2e-7, "worst at x = \(measured.worstInput)")
    }

    /// ELU's variant for x ≤ 0 computes the same values as the general function there.
    func testNonPositiveVariantEqualsTheGeneralFunction() {
        for i in 0...200_000 {
            let x = -Float(i) * 5e-4  // [−100, 0]
            XCTAssertEqual(VectorMath.expm1OfNonPositive(x), VectorMath.expm1(x), "at x = \(x)")
        }
        XCTAssertEqual(VectorMath.expm1OfNonPositive(-.infinity), -1)
        XCTAssertTrue(VectorMath.expm1OfNonPositive(.nan).isNaN)
    }

    func testLimitsAndSpecialValues() {
        for x: Float in [-.infinity, -1000, -104] {
            XCTAssertEqual(VectorMath.exp(x), 0)
            XCTAssertEqual(VectorMath.expm1(x), -1)
        }
        XCTAssertEqual(VectorMath.expm1(-88), -1, "x ≤ −88 gives −1 exactly")
        let nearOverflow: Float = 88.72  // e^88.72 ≈ 3.393e38 is below the largest float (3.403e38)
        let expected = Foundation.exp(Double(nearOverflow))
        XCTAssertEqual(Double(VectorMath.exp(nearOverflow)), expected, accuracy: expected * 2e-7)
        XCTAssertEqual(Double(VectorMath.expm1(nearOverflow)), expected, accuracy: expected * 2e-7)
        for x: Float in [89, 1000, .infinity] {
            XCTAssertEqual(VectorMath.exp(x), .infinity)
            XCTAssertEqual(VectorMath.expm1(x), .infinity)
        }
        XCTAssertTrue(VectorMath.exp(.nan).isNaN && VectorMath.expm1(.nan).isNaN)
        XCTAssertEqual(VectorMath.exp(0), 1)
        XCTAssertEqual(VectorMath.expm1(0), 0)
    }

    /// The tensor ops run the functions in vectorised loops (with a scalar remainder): every
    /// element must equal the function applied alone, whatever its position.
    func testTensorOpsMatchTheFunctionAtEveryPosition() {
        let values = (0..<37).map { Float($0) * 0.37 - 9 }
        let x = Tensor(values)
        for (position, (input, output)) in zip(values, x.elu(alpha: 1.5).scalars).enumerated() {
            XCTAssertEqual(output, input > 0 ? input : 1.5 * VectorMath.expm1(input), "at \(position)")
        }
        for (position, (input, output)) in zip(values, x.exp().scalars).enumerated() {
            XCTAssertEqual(output, VectorMath.exp(input), "at \(position)")
        }
    }
}
