import XCTest
@testable import TensorCore

/// A tensor of `shape` with values uniform in `range`, requiring gradients.
func randomInput(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: range.lowerBound, high: range.upperBound, using: &generator, requiresGrad: true)
}

/// Runs the finite-difference checker and fails unless the worst error is within `tolerance`.
func assertGradientsMatch(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, file: StaticString = #filePath,
    line: UInt = #line, _ function: ([Tensor]) -> Tensor
) {
    let report = GradientCheck.run(inputs, epsilon: epsilon, maximumElements: 64, function)
    XCTAssertGreaterThan(report.checked, 0, "no element was checked", file: file, line: line)
    XCTAssertLessThanOrEqual(report.maximumError, tolerance, "\(report)", file: file, line: line)
    XCTAssertLessThanOrEqual(report.skippedAtKinks * 5, report.checked + report.skippedAtKinks,
                             "over 20% of points skipped as kinks: \(report)", file: file, line: line)
}
