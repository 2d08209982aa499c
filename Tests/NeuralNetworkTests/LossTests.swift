import Foundation
import XCTest
import TensorCore
@testable import NeuralNetwork

// Losses against three independent references:
// - PyTorch (Fixtures/losses.json, made by scripts/reference/make_loss_fixtures.py): values and
//   gradients in float64 of MSE, L1, Huber, KL, SSIM and MS-SSIM (pytorch_msssim's formulas);
// - a slow direct SSIM in double written here (2-D window, explicit loops, no convolution);
// - finite differences of every loss (TensorCore's GradientCheck).

// MARK: - Fixtures

private struct ElementwiseCase: Decodable {
    struct Parameters: Decodable {
        let reduction: String
        let delta: Float?
    }
    let name: String
    let loss: String
    let params: Parameters
    let shape: [Int]
    let a: [Float]
    let b: [Float]
    let value: Double
    // swiftlint:disable identifier_name
    let grad_a: [Double]
    let grad_b: [Double]
    // swiftlint:enable identifier_name
}

private struct ImageCase: Decodable {
    struct Options: Decodable {
        let windowSize: Int
        let windowSigma: Float
        let dataRange: Float
    }
    let name: String
    let function: String
    let shape: [Int]
    let seed: UInt64
    let scale: Float
    let options: Options
    let value: Double
    let indices: [Int]
    // swiftlint:disable identifier_name
    let grad_x: [Double]
    let grad_y: [Double]
    // swiftlint:enable identifier_name
}

private struct LossFixtures: Decodable {
    let elementwise: [ElementwiseCase]
    let images: [ImageCase]
}

private func loadFixtures() throws -> LossFixtures {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "losses", withExtension: "json", subdirectory: "Fixtures"),
                            "Fixtures/losses.json missing: run scripts/reference/make_loss_fixtures.py")
    return try JSONDecoder().decode(LossFixtures.self, from: Data(contentsOf: url))
}

/// The images of make_loss_fixtures.py's `recipe_images`, from integers only (see there):
/// an LCG drawn twice per element in row-major order, x = xi / scale, y = yi / scale.
private func recipeImages(_ shape: [Int], seed: UInt64, scale: Float) -> (x: Tensor, y: Tensor) {
    var state = seed
    func draw() -> Int {
        state = (state &* 1_103_515_245 &+ 12_345) % (1 << 31)
        return Int(state >> 16)
    }
    var xs: [Float] = [], ys: [Float] = []
    for n in 0..<shape[0] {
        for c in 0..<shape[1] {
            for h in 0..<shape[2] {
                for w in 0..<shape[3] {
                    let r1 = draw(), r2 = draw()
                    let xi = (7 * h + 3 * w + 50 * c + 11 * n) % 160 + r1 % 96
                    let yi = min(255, max(0, xi + r2 % 121 - 60))
                    xs.append(Float(xi) / scale)
                    ys.append(Float(yi) / scale)
                }
            }
        }
    }
    return (Tensor(shape: shape, scalars: xs, requiresGrad: true), Tensor(shape: shape, scalars: ys, requiresGrad: true))
}

// MARK: - Helpers

/// Runs the finite-difference checker and requires its worst relative error below `tolerance`
/// with few points skipped at kinks.
private func assertLossGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2,
                                      file: StaticString = #filePath, line: UInt = #line,
                                      _ function: ([Tensor]) -> Tensor) {
    let report = GradientCheck.run(inputs, epsilon: epsilon, function)
    XCTAssertGreaterThan(report.checked, 0, "no element was checked", file: file, line: line)
    XCTAssertLessThanOrEqual(report.maximumError, tolerance, "\(report)", file: file, line: line)
    XCTAssertLessThanOrEqual(report.skippedAtKinks * 5, report.checked + report.skippedAtKinks,
                             "over 20% of points skipped as kinks: \(report)", file: file, line: line)
}

/// x uniform in [0, 1) and y = clamp(x + U(−¼, ¼), 0, 1): a pair of related images.
private func perturbedPair(_ shape: [Int], seed: UInt64) -> (x: Tensor, y: Tensor) {
    var generator = RandomGenerator(seed: seed)
    let x = Tensor.uniform(shape, using: &generator, requiresGrad: true)
    let y = x.scalars.map { Swift.min(1, Swift.max(0, $0 + 0.5 * (generator.nextUniform() - 0.5))) }
    return (x, Tensor(shape: shape, scalars: y, requiresGrad: true))
}

private func uniformInput(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: range.lowerBound, high: range.upperBound, using: &generator, requiresGrad: true)
}

/// |actual − expected| ≤ absolute + relative·|expected|, element by element.
private func assertClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double, _ label: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(label): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where Swift.abs(Double(a) - e) > absolute + relative * Swift.abs(e) {
        XCTFail("\(label)[\(i)]: \(a) vs expected \(e)", file: file, line: line)
        return
    }
}

/// SSIM computed directly in double: for every valid window position, the Gaussian-weighted
/// moments over the S × S window (the 2-D window gᵢgⱼ), then the SSIM formula; the mean over
/// (N, C, H', W'). No convolution, no separability, no float32.
private func directSSIM(_ x: Tensor, _ y: Tensor, options: SSIMOptions) -> Double {
    let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let S = options.windowSize, sigma = Double(options.windowSigma)
    var window = (0..<S).map { i -> Double in
        let offset = Double(i - S / 2)
        return exp(-offset * offset / (2 * sigma * sigma))
    }
    let total = window.reduce(0, +)
    window = window.map { $0 / total }
    let c1 = pow(0.01 * Double(options.dataRange), 2), c2 = pow(0.03 * Double(options.dataRange), 2)
    var sum = 0.0, count = 0
    for n in 0..<N {
        for c in 0..<C {
            let base = (n * C + c) * H * W
            for top in 0...(H - S) {
                for left in 0...(W - S) {
                    var mx = 0.0, my = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
                    for i in 0..<S {
                        for j in 0..<S {
                            let weight = window[i] * window[j]
                            let index = base + (top + i) * W + left + j
                            let a = Double(x.scalars[index]), b = Double(y.scalars[index])
                            mx += weight * a
                            my += weight * b
                            mxx += weight * a * a
                            myy += weight * b * b
                            mxy += weight * a * b
                        }
                    }
                    let vx = mxx - mx * mx, vy = myy - my * my, cxy = mxy - mx * my
                    sum += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                    count += 1
                }
            }
        }
    }
    return sum / Double(count)
}

// MARK: - Tests

final class LossTests: XCTestCase {
    /// MSE, L1, Huber and KL: values and both inputs' gradients against PyTorch (float64 from
    /// the same float32 inputs); float32 sums of 10–12 terms agree to 1e-6 relative.
    func testElementwiseLossesMatchPyTorch() throws {
        let fixtures = try loadFixtures()
        XCTAssertEqual(fixtures.elementwise.count, 10)
        for item in fixtures.elementwise {
            let a = Tensor(shape: item.shape, scalars: item.a, requiresGrad: true)
            let b = Tensor(shape: item.shape, scalars: item.b, requiresGrad: true)
            let reduction: LossReduction = item.params.reduction == "sum" ? .sum : .mean
            let loss: Tensor
            switch item.loss {
            case "mse": loss = meanSquaredError(a, b, reduction: reduction)
            case "l1": loss = l1Loss(a, b, reduction: reduction)
            case "huber": loss = huberLoss(a, b, delta: try XCTUnwrap(item.params.delta), reduction: reduction)
            case "kl": loss = gaussianKLDivergence(mean: a, logVariance: b, reduction: reduction)
            default: XCTFail("unknown loss \(item.loss)"); continue
            }
            XCTAssertEqual(loss.shape, [])
            assertClose([loss.item], [item.value], absolute: 1e-7, relative: 1e-6, "\(item.name) value")
            loss.backward()
            assertClose(try XCTUnwrap(a.grad).scalars, item.grad_a, absolute: 1e-7, relative: 1e-6, "\(item.name) grad a")
            assertClose(try XCTUnwrap(b.grad).scalars, item.grad_b, absolute: 1e-7, relative: 1e-6, "\(item.name) grad b")
        }
    }

    /// SSIM and MS-SSIM against pytorch_msssim's formulas in float64. Values agree to 1e-6; a
    /// gradient element is a sum over the ~S² windows covering the pixel of float32 terms, so
    /// gradients are compared to 1e-4 of the case's largest sampled gradient.
    func testSSIMMatchesPyTorch() throws {
        let fixtures = try loadFixtures()
        XCTAssertEqual(fixtures.images.map { $0.function }, ["ssim", "ssim", "ms_ssim", "ms_ssim"])
        for item in fixtures.images {
            let (x, y) = recipeImages(item.shape, seed: item.seed, scale: item.scale)
            let options = SSIMOptions(windowSize: item.options.windowSize, windowSigma: item.options.windowSigma,
                                      dataRange: item.options.dataRange)
            let value = item.function == "ssim" ? ssim(x, y, options: options) : msSSIM(x, y, options: options)
            assertClose([value.item], [item.value], absolute: 1e-6, relative: 0, "\(item.name) value")
            value.backward()
            let scale = item.grad_x.map { Swift.abs($0) }.max()! * 1e-4
            let gradX = try XCTUnwrap(x.grad).scalars, gradY = try XCTUnwrap(y.grad).scalars
            assertClose(item.indices.map { gradX[$0] }, item.grad_x, absolute: scale, relative: 0, "\(item.name) grad x")
            assertClose(item.indices.map { gradY[$0] }, item.grad_y, absolute: scale, relative: 0, "\(item.name) grad y")
        }
    }

    /// The separable float32 path against the direct double computation, for two window sizes
    /// and an 8-bit data range.
    func testSSIMMatchesDirectComputation() {
        let (x, y) = recipeImages([2, 2, 15, 13], seed: 21, scale: 255)
        for options in [SSIMOptions(), SSIMOptions(windowSize: 5, windowSigma: 0.8)] {
            XCTAssertEqual(Double(ssim(x, y, options: options).item), directSSIM(x, y, options: options), accuracy: 2e-6)
        }
        let (x8, y8) = recipeImages([1, 3, 12, 14], seed: 22, scale: 1)
        let options8 = SSIMOptions(dataRange: 255)
        XCTAssertEqual(Double(ssim(x8, y8, options: options8).item), directSSIM(x8, y8, options: options8), accuracy: 2e-6)
    }

    /// Identical images: every window gives (2μ² + C1)/(2μ² + C1) · (2σ² + C2)/(2σ² + C2) = 1
    /// exactly (the two halves of each fraction round identically), so SSIM = MS-SSIM = 1.
    func testIdenticalImagesGiveOne() {
        let (x, _) = recipeImages([2, 3, 16, 16], seed: 5, scale: 255)
        XCTAssertEqual(ssim(x, x).item, 1)
        XCTAssertEqual(ssimLoss(x, x).item, 0)
        let (large, _) = recipeImages([1, 1, 161, 170], seed: 6, scale: 255)
        XCTAssertEqual(msSSIM(large, large).item, 1)
        XCTAssertEqual(msSSIMLoss(large, large).item, 0)
        // A different image scores lower.
        let (a, b) = recipeImages([1, 1, 16, 16], seed: 7, scale: 255)
        XCTAssertLessThan(ssim(a, b).item, 0.9)
    }

    /// y = 1 − x is anti-correlated with x, so cs ≈ −1 at the first scale: relu makes that factor,
    /// hence MS-SSIM, exactly 0, and the gradient is 0 (as PyTorch's), not NaN.
    func testMultiScaleSSIMClampsNegativeContrastStructure() throws {
        let (x, _) = perturbedPair([1, 1, 11, 10], seed: 4)
        let y = 1 - x.detached()
        let options = SSIMOptions(windowSize: 3), weights: [Float] = [0.25, 0.35, 0.4]
        XCTAssertLessThan(ssimComponents(x, y, options: options).contrastStructure.item, -0.5)
        let value = msSSIM(x, y, options: options, weights: weights)
        XCTAssertEqual(value.item, 0)
        value.backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).scalars, [Float](repeating: 0, count: x.count))
    }

    /// The window: normalised, symmetric, peaked at the centre; 11 taps of σ 1.5 by default.
    func testGaussianWindow() {
        let window = SSIMOptions().gaussianWindow
        XCTAssertEqual(window.count, 11)
        XCTAssertEqual(window.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(window[0], window[10])
        XCTAssertEqual(window.firstIndex(of: window.max()!), 5)
        // g₅/g₄ = exp(1/(2·1.5²)) = exp(2/9)
        XCTAssertEqual(window[5] / window[4], Float(exp(2.0 / 9.0)), accuracy: 1e-6)
        XCTAssertEqual(SSIMOptions().c1, 1e-4, accuracy: 1e-10)
        XCTAssertEqual(SSIMOptions().c2, 9e-4, accuracy: 1e-10)
    }

    /// PSNR = 10·log₁₀(R²/MSE): a uniform error of 0.1 is 20 dB at R = 1; 2.55 at R = 255 is 40 dB.
    func testPSNR() {
        let zeros = Tensor.zeros([2, 3, 4, 4])
        XCTAssertEqual(psnr(Tensor.full([2, 3, 4, 4], value: 0.1), zeros), 20, accuracy: 1e-5)
        XCTAssertEqual(psnr(Tensor.full([2, 3, 4, 4], value: 2.55), zeros, dataRange: 255), 40, accuracy: 1e-4)
        XCTAssertEqual(psnr(zeros, zeros), .infinity)
        // MSE = (0.5² + 0)/2 = 0.125 → 10·log₁₀(8) = 9.0309 dB
        XCTAssertEqual(psnr(Tensor([0.5, 1]), Tensor([0, 1])), 9.0309, accuracy: 1e-4)
    }

    /// Huber by hand, δ = 1: d = [0.5, −3] → [½·0.25, 1·(3 − ½)] = [0.125, 2.5], mean 1.3125.
    /// KL by hand: μ = 1, log σ² = 0 → −½(1 + 0 − 1 − 1) = 0.5; μ = 0, log σ² = 0 → 0.
    func testHandComputedValues() {
        XCTAssertEqual(huberLoss(Tensor([0.5, -3]), Tensor([0, 0])).item, 1.3125, accuracy: 1e-7)
        XCTAssertEqual(huberLoss(Tensor([0.5, -3]), Tensor([0, 0]), reduction: .sum).item, 2.625, accuracy: 1e-7)
        XCTAssertEqual(gaussianKLDivergence(mean: Tensor([1, 0]), logVariance: Tensor([0, 0]), reduction: .sum).item, 0.5,
                       accuracy: 1e-7)
        XCTAssertEqual(meanSquaredError(Tensor([1, 2]), Tensor([0, 0])).item, 2.5)
        XCTAssertEqual(l1Loss(Tensor([1, -2]), Tensor([0, 0]), reduction: .sum).item, 3)
    }

    // MARK: Finite differences

    /// Mean-reduced losses are multiplied by their element count so the gradients are O(1) and
    /// the checker's 1e-2 relative bound (floored at 1) is meaningful.
    func testElementwiseLossGradients() {
        let prediction = uniformInput([3, 5], seed: 1), target = uniformInput([3, 5], seed: 2)
        assertLossGradientsMatch([prediction, target]) { meanSquaredError($0[0], $0[1]) * 15 }
        assertLossGradientsMatch([prediction, target]) { meanSquaredError($0[0], $0[1], reduction: .sum) }
        assertLossGradientsMatch([prediction, target]) { l1Loss($0[0], $0[1]) * 15 }
        assertLossGradientsMatch([prediction, target]) { l1Loss($0[0], $0[1], reduction: .sum) }
        let wide = uniformInput([3, 5], seed: 3, in: -3...3)
        assertLossGradientsMatch([wide, target]) { huberLoss($0[0], $0[1], delta: 1, reduction: .sum) }
        assertLossGradientsMatch([wide, target]) { huberLoss($0[0], $0[1], delta: 0.5) * 15 }
        let mean = uniformInput([4, 3], seed: 4, in: -2...2), logVariance = uniformInput([4, 3], seed: 5, in: -2...1)
        assertLossGradientsMatch([mean, logVariance]) { gaussianKLDivergence(mean: $0[0], logVariance: $0[1], reduction: .sum) }
        assertLossGradientsMatch([mean, logVariance]) { gaussianKLDivergence(mean: $0[0], logVariance: $0[1]) * 12 }
    }

    // Image losses are float32 computations of a value near 1: rounding noise u ≈ 1e-7 in the
    // value becomes K·u/(2ε) in a central difference of K·SSIM, so the scale K (the pixel
    // count, making gradients O(1)) and hence the images are kept small. Measured worst errors
    // over five seeds: 1.7e-3 (SSIM), 5e-4 (window 5), 2.2e-3 (MS-SSIM), under the 1e-2 bound.

    /// SSIM over (1, 1, 13, 12) images (3 × 2 positions of the 11 × 11 window) and SSIM loss
    /// with a 5 × 5 window over (1, 2, 8, 7), each scaled by the pixel count.
    func testSSIMGradients() {
        let (x, y) = perturbedPair([1, 1, 13, 12], seed: 1)
        assertLossGradientsMatch([x, y]) { ssim($0[0], $0[1]) * 156 }
        let (a, b) = perturbedPair([1, 2, 8, 7], seed: 2)
        assertLossGradientsMatch([a, b]) { ssimLoss($0[0], $0[1], options: SSIMOptions(windowSize: 5, windowSigma: 1)) * 112 }
    }

    /// MS-SSIM with a 3-pixel window over 3 scales (weights 0.25, 0.35, 0.4): (2, 1, 11, 10) →
    /// 6 × 5 → 3 × 3, odd sides padded, scaled by the pixel count 220. (The standard 5 scales
    /// need > 160-pixel images; their gradients are checked against PyTorch above.)
    func testMultiScaleSSIMGradients() {
        let (x, y) = perturbedPair([2, 1, 11, 10], seed: 3)
        assertLossGradientsMatch([x, y]) {
            msSSIM($0[0], $0[1], options: SSIMOptions(windowSize: 3), weights: [0.25, 0.35, 0.4]) * 220
        }
    }
}
