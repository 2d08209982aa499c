import TestSupport
import XCTest
@testable import GaussianFitting
import NeuralNetwork
@testable import TensorCore

final class NaturalSelectionTests: XCTestCase {
    /// A selection fit ends with exactly N Gaussians, all finite, and the same bits for a seed
    /// whatever the thread count.
    func testExactlyTheBudgetSurvivesDeterministically() {
        var options = FitOptions()
        options.gaussians = 10
        options.steps = 120
        options.seed = 4
        options.selection = NaturalSelection(startingCount: 40)
        options.selection!.interval = 5
        let picture = testPicture(width: 32, height: 28)
        let before = ComputeThreads.count
        defer { ComputeThreads.set(before) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            var counts: [Int] = []
            let result = GaussianFitter(image: picture, options: options).run(progressInterval: 5) { counts.append($0.gaussians) }
            XCTAssertEqual(result.gaussians.shape, [10, 8])
            XCTAssertTrue(result.gaussians.scalars.allSatisfy(\.isFinite))
            XCTAssertEqual(counts.first, 40)
            XCTAssertEqual(counts.last, 10)
            XCTAssertEqual(counts, counts.sorted(by: >), "the count never grows")
            results.append(result.gaussians.scalars)
        }
        XCTAssertEqual(results[0], results[1])
    }

    /// Both forms of the pressure: the hand-made λ times autodiff of basic ops, checked against
    /// central differences; the pressure pulls every logit down by the same amount (plain form).
    func testPressureGradients() {
        for fastDecay in [true, false] {
            let logits = Tensor(shape: [6], scalars: [-3, -1, 0, 0.5, 2, 4], requiresGrad: true)
            assertGradientsMatch([logits], epsilon: 1e-2, tolerance: 1e-2) {
                NaturalSelector.pressure(logits: $0[0], lambda: 0.01, prior: -20, fastDecay: fastDecay)
            }
        }
        let logits = Tensor(shape: [4], scalars: [-1, 0, 1, 2], requiresGrad: true)
        NaturalSelector.pressure(logits: logits, lambda: 0.5, prior: -20, fastDecay: false).backward()
        let expected: Float = 6 * 0.5 * (0.5 + 20) / 4  // 6λ(mean − prior)/M
        for value in logits.grad!.scalars { XCTAssertEqual(value, expected, accuracy: 1e-4) }
    }

    /// λ grows when the N-th largest opacity is above its target and shrinks otherwise; the
    /// starting λ makes the pressure's gradient the median rendering gradient.
    func testLambdaMovesTheRightWay() {
        let opacities: [Float] = [0.9, 0.2, 0.8, 0.1]
        XCTAssertEqual(NaturalSelector.adaptedLambda(1, opacities: opacities, budget: 2, target: 0.5), 1.2, accuracy: 1e-6)
        XCTAssertEqual(NaturalSelector.adaptedLambda(1, opacities: opacities, budget: 2, target: 0.85), 0.8, accuracy: 1e-6)
        let logitValues: [Float] = [0, 1, -1, 2]
        let lambda = NaturalSelector.matchingLambda(gradient: [1e-4, -3e-4, 2e-4, 5e-4], logits: logitValues, prior: -20)
        let logits = Tensor(shape: [4], scalars: logitValues, requiresGrad: true)
        NaturalSelector.pressure(logits: logits, lambda: lambda, prior: -20, fastDecay: false).backward()
        XCTAssertEqual(logits.grad!.scalars[0], 3e-4, accuracy: 1e-8)
    }

    /// The final cut draws exactly `count`, ascending, never a zero-opacity one while others
    /// remain, and repeats for a seed.
    func testWeightedSample() {
        var first = RandomGenerator(seed: 9), second = RandomGenerator(seed: 9)
        let weights: [Float] = [0.5, 0, 0.9, 0.1, 0, 0.7]
        let chosen = NaturalSelector.weightedSample(Array(10..<16), weights: weights, count: 3, using: &first)
        XCTAssertEqual(chosen.count, 3)
        XCTAssertEqual(chosen, chosen.sorted())
        XCTAssertFalse(chosen.contains(11) || chosen.contains(14))
        XCTAssertEqual(chosen, NaturalSelector.weightedSample(Array(10..<16), weights: weights, count: 3, using: &second))
    }
}
