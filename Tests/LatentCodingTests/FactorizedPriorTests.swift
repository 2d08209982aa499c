import Foundation
import LatentCoding
import NeuralNetwork
import TensorCore
import TestSupport
import XCTest

/// A factorised prior with irregular densities: Ballé's initialisation, then every parameter
/// moved by a seeded random amount (so channels differ, skew and have several bumps).
func perturbedPrior(channels: Int, seed: UInt64) -> FactorizedPrior {
    let store = ParameterStore(seed: seed)
    let prior = FactorizedPrior(channels: channels, scope: store.scope("prior"))
    var generator = RandomGenerator(seed: seed &+ 1)
    for (_, tensor) in store.parameters {
        tensor.scalars = tensor.scalars.map { $0 + 1.5 * (generator.nextUniform() - 0.5) }
    }
    return prior
}

final class FactorizedPriorTests: XCTestCase {
    /// Likelihoods and logits against a NumPy transcription of Ballé's density (the file's
    /// formulas, in float64), on values across the support and far in the tails.
    func testLikelihoodsMatchANumPyReference() throws {
        let prior = perturbedPrior(channels: 3, seed: 4)
        let values: [Float] = [-400, -7, -3, -1, 0, 1, 2, 5, 9, 300, -0.5, 0.25]
        let rows = values.count
        let input = Tensor(shape: [rows / 3, 3], scalars: values)
        let likelihoods = prior.likelihoods(input).scalars
        var parameters: [String: Any] = ["values": values.map(Double.init), "channels": 3]
        parameters["matrices"] = prior.matrices.map { $0.scalars.map(Double.init) }
        parameters["biases"] = prior.biases.map { $0.scalars.map(Double.init) }
        parameters["factors"] = prior.factors.map { $0.scalars.map(Double.init) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: parameters), as: UTF8.self)
        let script = """
        import json, sys
        import numpy as np
        p = json.loads(sys.argv[1]); C = p["channels"]; widths = [1, 3, 3, 3, 1]
        H = [np.array(m).reshape(C, widths[k + 1], widths[k]) for k, m in enumerate(p["matrices"])]
        b = [np.array(v).reshape(C, widths[k + 1], 1) for k, v in enumerate(p["biases"])]
        a = [np.array(v).reshape(C, widths[k + 1], 1) for k, v in enumerate(p["factors"])]
        def logits(x):  # x (C, M)
            h = x[:, None, :]
            for k in range(4):
                h = np.matmul(np.log1p(np.exp(H[k])), h) + b[k]
                if k < 3: h = h + np.tanh(a[k]) * np.tanh(h)
            return h[:, 0, :]
        y = np.array(p["values"]).reshape(-1, C).T  # (C, B)
        up, lo = logits(y + 0.5), logits(y - 0.5)
        s = np.where(up + lo > 0, -1.0, 1.0)
        sig = lambda t: 1 / (1 + np.exp(-t))
        P = np.maximum(np.abs(sig(s * up) - sig(s * lo)), 1e-9)
        print(json.dumps(P.T.reshape(-1).tolist()))
        """
        let result = try runPython(script, arguments: [json])
        guard result.status == 0 else { throw XCTSkip("python3 with numpy is not available: \(result.standardError)") }
        let reference = try JSONDecoder().decode([Double].self, from: Data(result.standardOutput.utf8))
        XCTAssertEqual(reference.count, likelihoods.count)
        for (ours, theirs) in zip(likelihoods, reference) {
            XCTAssertEqual(Double(ours), theirs, accuracy: 1e-5 * theirs + 1e-9, "likelihood")
        }
        XCTAssertTrue(likelihoods.contains { $0 == FactorizedPrior.likelihoodBound }, "the far tails reach the bound")
    }

    /// The rate's gradients in the values and in every parameter, by central differences.
    func testBitsGradientsByFiniteDifferences() {
        let prior = perturbedPrior(channels: 2, seed: 7)
        let values = Tensor(shape: [3, 2], scalars: [-1.3, 0.4, 0.7, 2.2, -0.1, -2.6], requiresGrad: true)
        assertGradientsMatch([values], epsilon: 1e-2, tolerance: 2e-2) { inputs in prior.bits(inputs[0]) }
        let parameters = prior.matrices + prior.biases + prior.factors
        let fixed = values.detached()
        assertGradientsMatch(parameters, epsilon: 1e-2, tolerance: 2e-2, maximumElements: 96) { _ in prior.bits(fixed) }
    }

    /// The density is a density: each channel's bins over a wide range sum to 1, and l increases.
    func testBinsOfEachChannelSumToOne() {
        let prior = perturbedPrior(channels: 4, seed: 11)
        let values = (-400...400).map(Float.init)
        let grid = Tensor(shape: [values.count, 4], scalars: values.flatMap { Array(repeating: $0, count: 4) })
        let likelihoods = withoutGradients { prior.likelihoods(grid) }.scalars
        for channel in 0..<4 {
            let mass = stride(from: channel, to: likelihoods.count, by: 4).reduce(0.0) { $0 + Double(likelihoods[$1]) }
            XCTAssertEqual(mass, 1, accuracy: 1e-4, "channel \(channel)")
        }
        let logits = withoutGradients { prior.logits(Tensor(shape: [4, values.count], scalars: Array(Array(repeating: values, count: 4).joined()))) }.scalars
        for channel in 0..<4 {
            let row = logits[(channel * values.count)..<((channel + 1) * values.count)]
            XCTAssertTrue(zip(row, row.dropFirst()).allSatisfy { $0 <= $1 }, "channel \(channel)'s logits increase")
        }
    }
}
