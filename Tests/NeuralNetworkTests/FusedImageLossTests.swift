import XCTest
import TensorCore
@testable import NeuralNetwork

// The fused L1 (+ squared error) + SSIM loss against its slow reference, the composition
// `l1Loss(p, t) + m * meanSquaredError(p, t) + w * (1 - ssim(p4, t4))` of differentiable TensorCore ops (values and autodiff
// gradients), against central differences, and at the identity p = t.
//
// The shapes cover (C, H, W) and (N, C, H, W) inputs, a rendered width W' below one 8-lane
// chunk (12 × 13), widths that are not multiples of 8, several row bands per plane (150 rows:
// H' = 140 > 64), and a non-default window and data range.

private struct FusedCase {
    let shape: [Int]
    let weight: Float
    var options = SSIMOptions()
    /// m, the weight of the squared-error term.
    var squared: Float = 0
}

private let cases = [
    FusedCase(shape: [3, 23, 29], weight: 0.1),
    FusedCase(shape: [2, 3, 16, 16], weight: 0.1, squared: 10),
    FusedCase(shape: [1, 2, 12, 13], weight: 0.5),
    FusedCase(shape: [1, 150, 21], weight: 0.2, squared: 0.5),
    FusedCase(shape: [2, 2, 17, 31], weight: 0.3, options: SSIMOptions(windowSize: 7, windowSigma: 1.1)),
    FusedCase(shape: [3, 19, 20], weight: 1, options: SSIMOptions(dataRange: 2)),
]

/// The smallest |p − t| of the test images: above the finite-difference step 1e-2, so no
/// central difference straddles L1's kink at p = t.
private let minimumDifference: Float = 0.03

/// A target in [0, 1] and a prediction near it, the situation of a fit: p = t ± (0.03 … 0.15).
private func imagePair(_ shape: [Int], seed: UInt64) -> (prediction: Tensor, target: Tensor) {
    var generator = RandomGenerator(seed: seed)
    let target = Tensor.uniform(shape, low: 0, high: 1, using: &generator)
    let noise = Tensor.uniform(shape, low: -0.12, high: 0.12, using: &generator)
    let prediction = Tensor(shape: shape, scalars: zip(target.scalars, noise.scalars).map { t, n in
        t + n + (n < 0 ? -minimumDifference : minimumDifference)
    }, requiresGrad: true)
    return (prediction, target)
}

/// The reference: L1 and SSIM composed from differentiable ops, images batched as (N, C, H, W).
private func compositeLoss(_ prediction: Tensor, _ target: Tensor, weight: Float, squared: Float = 0,
                           options: SSIMOptions) -> (loss: Tensor, ssim: Tensor) {
    let batched = { (image: Tensor) in image.rank == 3 ? image.unsqueezed(0) : image }
    let similarity = ssim(batched(prediction), batched(target), options: options)
    return (l1Loss(prediction, target) + squared * meanSquaredError(prediction, target) + weight * (1 - similarity), similarity)
}

/// Requires the fused gradient to match central differences. The loss is scaled by the element
/// count so that each gradient element is O(1) (the checker's error is relative to max(1, |g|)),
/// which also makes L1's kink at p = t (a slope jump of 2) visible to the checker, which skips it.
private func assertFusedGradientMatchesFiniteDifferences(
    _ prediction: Tensor, _ target: Tensor, weight: Float, squared: Float = 0, options: SSIMOptions,
    file: StaticString = #filePath, line: UInt = #line
) {
    let scale = Float(prediction.count)
    let report = GradientCheck.run([prediction], epsilon: 1e-2) { inputs in
        l1SSIMLoss(inputs[0], target, ssimWeight: weight, squaredErrorWeight: squared, options: options).loss * scale
    }
    XCTAssertGreaterThan(report.checked, 0, "no element was checked", file: file, line: line)
    XCTAssertLessThanOrEqual(report.maximumError, 1e-2, "\(report)", file: file, line: line)
    XCTAssertLessThanOrEqual(report.skippedAtKinks * 5, report.checked + report.skippedAtKinks,
                             "over 20% of points skipped as kinks: \(report)", file: file, line: line)
}

final class FusedImageLossTests: XCTestCase {
    func testValueMatchesComposite() {
        var worst: Float = 0
        for (index, item) in cases.enumerated() {
            let (prediction, target) = imagePair(item.shape, seed: UInt64(10 + index))
            let reference = withoutGradients { compositeLoss(prediction, target, weight: item.weight, squared: item.squared, options: item.options) }
            let fused = l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options)
            let untracked = withoutGradients { l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options) }
            XCTAssertEqual(fused.loss.shape, [])
            XCTAssertEqual(fused.loss.item, reference.loss.item, accuracy: 1e-5, "\(item.shape)")
            XCTAssertEqual(fused.ssim, reference.ssim.item, accuracy: 1e-5, "\(item.shape)")
            XCTAssertEqual(untracked.loss.item, fused.loss.item, "\(item.shape): value depends on gradient recording")
            XCTAssertEqual(untracked.ssim, fused.ssim)
            worst = max(worst, abs(fused.loss.item - reference.loss.item), abs(fused.ssim - reference.ssim.item))
        }
        print("FusedImageLoss: worst value difference from the composite \(worst)")
    }

    /// Target moments made once give the same bits as the loss computing them itself.
    func testCachedTargetMomentsGiveTheSameBits() {
        for (index, item) in cases.enumerated() {
            let (prediction, target) = imagePair(item.shape, seed: UInt64(30 + index))
            let plain = l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options)
            plain.loss.backward()
            let plainGradient = prediction.grad!.scalars
            prediction.zeroGrad()
            let moments = SSIMTargetMoments(target: target, options: item.options)
            let cached = l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options, targetMoments: moments)
            cached.loss.backward()
            XCTAssertEqual(cached.loss.item, plain.loss.item, "\(item.shape)")
            XCTAssertEqual(cached.ssim, plain.ssim, "\(item.shape)")
            XCTAssertEqual(prediction.grad!.scalars, plainGradient, "\(item.shape)")
        }
    }

    func testGradientMatchesComposite() {
        var worst: Float = 0
        for (index, item) in cases.enumerated() {
            let (prediction, target) = imagePair(item.shape, seed: UInt64(20 + index))
            target.requiresGrad = true  // the fused loss must still give it nothing
            compositeLoss(prediction, target, weight: item.weight, squared: item.squared, options: item.options).loss.backward()
            let expected = prediction.grad!.scalars
            prediction.zeroGrad()
            target.zeroGrad()
            l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options).loss.backward()
            let actual = prediction.grad!.scalars
            XCTAssertNil(target.grad, "\(item.shape): the target takes no gradient")
            for (element, (a, e)) in zip(actual, expected).enumerated() {
                let error = abs(a - e)
                worst = max(worst, error / (1e-5 + 1e-4 * abs(e)))
                if error > 1e-5 + 1e-4 * abs(e) {
                    XCTFail("\(item.shape) element \(element): fused \(a), composite \(e)")
                    break
                }
            }
        }
        print("FusedImageLoss: worst gradient error as a fraction of the tolerance 1e-5 + 1e-4·|g|: \(worst)")
    }

    func testGradientMatchesFiniteDifferences() {
        for (index, item) in cases.enumerated() {
            let (prediction, target) = imagePair(item.shape, seed: UInt64(30 + index))
            assertFusedGradientMatchesFiniteDifferences(prediction, target, weight: item.weight, squared: item.squared, options: item.options)
        }
        // Independent images, far from each other (the SSIM term dominates with w = 1); target
        // values within 0.03 of the prediction are moved 0.06 away to keep clear of L1's kink.
        var generator = RandomGenerator(seed: 40)
        let prediction = Tensor.uniform([2, 14, 15], low: 0, high: 1, using: &generator, requiresGrad: true)
        let independent = Tensor.uniform([2, 14, 15], low: 0, high: 1, using: &generator)
        let target = Tensor(shape: independent.shape, scalars: zip(prediction.scalars, independent.scalars).map { p, t in
            abs(p - t) < minimumDifference ? p + 2 * minimumDifference : t
        })
        assertFusedGradientMatchesFiniteDifferences(prediction, target, weight: 1, options: SSIMOptions())
    }

    /// At p = t: L1 is 0, every window's SSIM is exactly 1 (as in `ssim`), and the gradient is
    /// 0 — the L1 subgradient is 0 at 0, and at the maximum ∂S/∂μp = 0 while the Epp and Ept
    /// coefficients, −2/B2 and 2/B2 scaled alike, cancel in p·Gᵀ(kB) + t·Gᵀ(kC) exactly.
    func testIdenticalImagesGiveZeroLoss() {
        for item in cases {
            let (_, target) = imagePair(item.shape, seed: 50)
            let prediction = Tensor(shape: target.shape, scalars: target.scalars, requiresGrad: true)
            let fused = l1SSIMLoss(prediction, target, ssimWeight: item.weight, squaredErrorWeight: item.squared, options: item.options)
            XCTAssertEqual(fused.loss.item, 0, "\(item.shape)")
            XCTAssertEqual(fused.ssim, 1, "\(item.shape)")
            fused.loss.backward()
            XCTAssertEqual(prediction.grad!.scalars.map(abs).max()!, 0, "\(item.shape)")
        }
    }

    /// The same inputs give bit-identical values and gradients (fixed work split, ordered sums).
    func testRepeatable() {
        let (prediction, target) = imagePair([3, 150, 40], seed: 60)
        var runs: [(Float, Float, [Float])] = []
        for _ in 0..<2 {
            prediction.zeroGrad()
            let fused = l1SSIMLoss(prediction, target, ssimWeight: 0.1)
            fused.loss.backward()
            runs.append((fused.loss.item, fused.ssim, prediction.grad!.scalars))
        }
        XCTAssertEqual(runs[0].0, runs[1].0)
        XCTAssertEqual(runs[0].1, runs[1].1)
        XCTAssertEqual(runs[0].2, runs[1].2)
    }
}
