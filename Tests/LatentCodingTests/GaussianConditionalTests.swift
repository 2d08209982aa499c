import Foundation
import LatentCoding
import TensorCore
import TestSupport
import XCTest

/// The hyperprior's Gaussian conditional: bin probabilities against Python's erfc in float64,
/// gradients by central differences, and bins that sum to 1.
final class GaussianConditionalTests: XCTestCase {
    func testLikelihoodsMatchAPythonReference() throws {
        let values: [Float] = [0, 1, -3, 7, 2, -20, 0, 5]
        let means: [Float] = [0.2, -0.4, -2.5, 1, 2.3, 0, 0, 4.6]
        let scales: [Float] = [1, 0.5, 3, 0.8, 0.05, 2, 40, 0.3]
        let ours = GaussianConditional.likelihoods(Tensor(shape: [2, 4], scalars: values), means: Tensor(shape: [2, 4], scalars: means),
                                                   scales: Tensor(shape: [2, 4], scalars: scales)).scalars
        let script = """
        import json, math, sys
        y, mu, s = (json.loads(a) for a in sys.argv[1:4])
        Phi = lambda t: 0.5 * math.erfc(-t / math.sqrt(2))
        out = []
        for v, m, sc in zip(y, mu, s):
            d, sc = abs(v - m), max(sc, 0.11)
            out.append(max(Phi((0.5 - d) / sc) - Phi((-0.5 - d) / sc), 1e-9))
        print(json.dumps(out))
        """
        let result = try runPython(script, arguments: [values, means, scales].map { "\($0)" })
        guard result.status == 0 else { throw XCTSkip("python3 is not available: \(result.standardError)") }
        let reference = try JSONDecoder().decode([Double].self, from: Data(result.standardOutput.utf8))
        for (index, (mine, theirs)) in zip(ours, reference).enumerated() {
            XCTAssertEqual(Double(mine), theirs, accuracy: 2e-6 * theirs + 1e-9, "latent \(index)")
        }
        XCTAssertEqual(ours[5], GaussianConditional.likelihoodBound, "20 scales out reaches the bound")
    }

    func testGradientsByFiniteDifferences() {
        let values = Tensor(shape: [5], scalars: [0, 2, -1, 3, 1], requiresGrad: true)
        let means = Tensor(shape: [5], scalars: [0.3, 1.2, -2.1, 3.4, -0.6], requiresGrad: true)
        let scales = Tensor(shape: [5], scalars: [0.7, 1.5, 0.4, 2.5, 1.1], requiresGrad: true)
        assertGradientsMatch([values, means, scales], epsilon: 1e-2, tolerance: 2e-2) { inputs in
            GaussianConditional.bits(inputs[0], means: inputs[1], scales: inputs[2])
        }
    }

    func testBinsSumToOne() {
        for (mean, scale) in [(Float(0.3), Float(0.2)), (-4.7, 3), (12.5, 9)] {
            let values = (-80...80).map(Float.init)
            let count = values.count
            let likelihoods = GaussianConditional.likelihoods(Tensor(shape: [count], scalars: values),
                                                              means: Tensor(shape: [count], scalars: Array(repeating: mean, count: count)),
                                                              scales: Tensor(shape: [count], scalars: Array(repeating: scale, count: count))).scalars
            XCTAssertEqual(likelihoods.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5, "μ \(mean), σ \(scale)")
        }
    }
}
