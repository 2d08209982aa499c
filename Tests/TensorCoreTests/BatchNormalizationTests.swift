import XCTest
@testable import TensorCore
import TestSupport

// The fused batch-norm primitive: finite differences of its hand-written backward, and its
// forward values and gradients against the same arithmetic composed from plain ops
// (mean, variance, broadcasting), for every accepted rank, with and without γ and β.

final class BatchNormalizationTests: XCTestCase {
    /// (x − μ)/√(σ² + ε)·γ + β over every axis but 1, from plain differentiable ops.
    private func composed(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> Tensor {
        let axes = [0] + Array(2..<x.rank)
        var channelShape = [Int](repeating: 1, count: x.rank)  // (1, C, 1, …)
        channelShape[1] = x.shape[1]
        let deviations = x - x.mean(alongAxes: axes, keepingDimensions: true)
        var output = deviations / (x.variance(alongAxes: axes, keepingDimensions: true) + epsilon).sqrt()
        if let gamma { output = output * gamma.reshaped(channelShape) }
        if let beta { output = output + beta.reshaped(channelShape) }
        return output
    }

    private let shapes = [[6, 3], [3, 2, 5], [2, 3, 3, 4]]

    func testGradientsMatchFiniteDifferences() {
        for (index, shape) in shapes.enumerated() {
            let seed = UInt64(10 * index)
            let x = randomInput(shape, seed: seed + 1, in: -2...2)
            let gamma = randomInput([shape[1]], seed: seed + 2, in: 0.5...1.5)
            let beta = randomInput([shape[1]], seed: seed + 3)
            assertGradientsMatch([x, gamma, beta]) { $0[0].batchNormalized(gamma: $0[1], beta: $0[2], epsilon: 1e-3).output }
            assertGradientsMatch([x]) { $0[0].batchNormalized(gamma: nil, beta: nil, epsilon: 1e-5).output }
        }
    }

    func testMatchesTheComposition() {
        for (index, shape) in shapes.enumerated() {
            let seed = UInt64(100 + 10 * index)
            let x = randomInput(shape, seed: seed + 1, in: -3...5)
            let gamma = randomInput([shape[1]], seed: seed + 2, in: 0.5...1.5)
            let beta = randomInput([shape[1]], seed: seed + 3)
            let weights = randomInput(shape, seed: seed + 4)
            let fused = x.batchNormalized(gamma: gamma, beta: beta, epsilon: 1e-3)
            (fused.output * weights).sum().backward()
            let fusedGradients = [x, gamma, beta].map { $0.grad!.scalars }
            [x, gamma, beta].forEach { $0.zeroGrad() }
            let reference = composed(x, gamma: gamma, beta: beta, epsilon: 1e-3)
            (reference * weights).sum().backward()
            assertClose(fused.output.scalars, reference.scalars, 2e-6, "output \(shape)")
            for (name, (a, b)) in zip(["dx", "dγ", "dβ"], zip(fusedGradients, [x, gamma, beta].map { $0.grad!.scalars })) {
                assertClose(a, b, 2e-5, "\(name) \(shape)")
            }
            let axes = [0] + Array(2..<x.rank)
            assertClose(fused.mean, x.mean(alongAxes: axes).scalars, 1e-6, "mean \(shape)")
            assertClose(fused.variance, x.variance(alongAxes: axes).scalars, 1e-5, "biased variance \(shape)")
        }
    }

    /// Statistics of a channel with a large offset (μ ≫ σ) keep their accuracy: two passes,
    /// sums added in Double.
    func testLargeOffsetKeepsTheVariance() {
        let count = 4 * 1000
        let values = (0..<count).map { 1000 + Float($0 % 2 == 0 ? 1 : -1) * 0.5 }  // variance 0.25
        let x = Tensor(shape: [4, 1, 1000], scalars: values)
        let result = x.batchNormalized(gamma: nil, beta: nil, epsilon: 1e-5)
        XCTAssertEqual(result.mean[0], 1000, accuracy: 1e-4)
        XCTAssertEqual(result.variance[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(result.output.scalars[0], 0.5 / (0.25 + 1e-5).squareRoot(), accuracy: 1e-5)
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let worst = zip(a, b).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, what, file: file, line: line)
    }
}
