import TestSupport
import XCTest
@testable import GaussianRasterizer
@testable import TensorCore

final class AdditiveRasterizerTests: XCTestCase {
    /// Fast and reference additive renders agree on values and on gradients of features and opacity.
    func testMatchesReference() {
        let (width, height) = (36, 34)
        let parameters = randomImageGSParameters(count: 14, width: width, height: height, seed: 21)
        let screen = withoutGradients { imageGSScreenFeatures(parameters, width: width, height: height) }
        screen.requiresGrad = true
        // Opacities spanning the clamp at 1: some terms saturate near the centre.
        let opacity = randomInput([14], seed: 22, in: 0.3...1.6)
        let fast = rasterizeAdditive(screen, opacity: opacity, width: width, height: height)
        let upstream = randomInput(fast.shape, seed: 23)
        (fast * upstream).sum().backward()
        let (fastScreen, fastOpacity) = (screen.grad!.scalars, opacity.grad!.scalars)
        screen.zeroGrad()
        opacity.zeroGrad()
        let slow = referenceAdditive(screen, opacity: opacity, width: width, height: height)
        (slow * upstream).sum().backward()
        for (a, b) in zip(fast.scalars, slow.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(fastScreen, screen.grad!.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4 + 1e-3 * Swift.abs(b)) }
        for (a, b) in zip(fastOpacity, opacity.grad!.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4 + 1e-3 * Swift.abs(b)) }
    }

    /// The rasterizer has true discontinuities that finite differences cannot step over: a
    /// Gaussian joining or leaving a tile's bins, and terms crossing α = 1/255. So this check
    /// uses one tile and wide Gaussians (σ 8–12 px, centred inside) whose α stays above 1/255
    /// over the whole image; the reference comparison above covers the general case.
    func testFiniteDifferences() {
        var generator = RandomGenerator(seed: 3)
        var values: [Float] = []
        for _ in 0..<5 {
            values += [0.2 + 0.6 * generator.nextUniform(), 0.2 + 0.6 * generator.nextUniform(),
                       1 / (8 + 4 * generator.nextUniform()), 1 / (8 + 4 * generator.nextUniform()), 6.3 * generator.nextUniform(),
                       generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        let parameters = Tensor(shape: [5, 8], scalars: values)
        let screen = withoutGradients { imageGSScreenFeatures(parameters, width: 16, height: 15) }
        screen.requiresGrad = true
        let opacity = randomInput([5], seed: 4, in: 0.2...0.8)
        assertGradientsMatch([screen, opacity], epsilon: 1e-3, tolerance: 2e-2, maximumElements: 64) {
            rasterizeAdditive($0[0], opacity: $0[1], width: 16, height: 15)
        }
    }

    /// Without opacity every α is e^−σ: a lone unit Gaussian's peak pixel gets its colour times
    /// exp(−½·(½² + ½²)) when centred between pixels.
    func testDefaultOpacityIsOne() {
        let parameters = Tensor(shape: [1, 8], scalars: [0.5, 0.5, 1, 1, 0, 1, 0.5, 0.25])
        let image = renderImageGSAdditive(parameters, width: 4, height: 4)
        XCTAssertEqual(image[0, 1, 1], expf(-0.25), accuracy: 1e-6)
        XCTAssertEqual(image[2, 2, 2], 0.25 * expf(-0.25), accuracy: 1e-6)
    }
}
