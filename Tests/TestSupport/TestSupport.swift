import Foundation
import TensorCore
import XCTest

// Helpers shared by the test targets (a library used only by tests): random inputs, the
// finite-difference assertion, and running python3 as a reference client.

/// A tensor of `shape` with values uniform in `range`, requiring gradients.
public func randomInput(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: range.lowerBound, high: range.upperBound, using: &generator, requiresGrad: true)
}

/// A tensor of `shape` whose values are distinct and at least `spacing` apart (a shuffled
/// ramp), so max/min selections have no ties or near-ties within a finite-difference step.
public func distinctInput(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let values = generator.permutation(count).map { (Float($0) - Float(count) / 2) * spacing }
    return Tensor(shape: shape, scalars: values, requiresGrad: true)
}

/// Runs the finite-difference checker and fails unless the worst error is within `tolerance`
/// and at most 20 % of the points were skipped as kinks.
public func assertGradientsMatch(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, maximumElements: Int = 48,
    file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor
) {
    let report = GradientCheck.run(inputs, epsilon: epsilon, maximumElements: maximumElements, function)
    XCTAssertGreaterThan(report.checked, 0, "no element was checked", file: file, line: line)
    XCTAssertLessThanOrEqual(report.maximumError, tolerance, "\(report)", file: file, line: line)
    XCTAssertLessThanOrEqual(report.skippedAtKinks * 5, report.checked + report.skippedAtKinks,
                             "over 20% of points skipped as kinks: \(report)", file: file, line: line)
}

/// Runs `python3 -c script arguments…` and collects its exit status and output.
public func runPython(_ script: String, arguments: [String] = []) throws
    -> (status: Int32, standardOutput: String, standardError: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read both pipes before waiting so a large output cannot block the child.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self))
}

/// Random Image-GS parameters (G, 8) for a width × height image: positions inside or just
/// outside the image, σ of 1.5–6 px, any rotation, colours in [0, 1].
public func randomImageGSParameters(count: Int, width: Int, height: Int, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    var values: [Float] = []
    for _ in 0..<count {
        values += [
            -0.1 + 1.2 * generator.nextUniform(), -0.1 + 1.2 * generator.nextUniform(),
            1 / (1.5 + 4.5 * generator.nextUniform()), 1 / (1.5 + 4.5 * generator.nextUniform()),
            6.3 * generator.nextUniform(),
            generator.nextUniform(), generator.nextUniform(), generator.nextUniform(),
        ]
    }
    return Tensor(shape: [count, 8], scalars: values, requiresGrad: true)
}
