import Foundation
import TestSupport
import XCTest
@testable import GaussianRasterizer
@testable import TensorCore

/// Random per-patch screen Gaussians (items, N, G, 8) for a width × height image: patch k's means
/// uniform over its padded window (so some sit outside the image at its edges), σ in `sigmas`
/// pixels along each axis, any rotation, colours in [0, 1].
func randomPatchGaussians(items: Int, perPatch G: Int, width: Int, height: Int, options: PatchOptions,
                          sigmas: ClosedRange<Float> = 1.5...6, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let (P, pad) = (options.patchSize, options.padding)
    let across = width / P, N = across * (height / P)
    var values: [Float] = []
    for _ in 0..<items {
        for k in 0..<N {
            let left = Float((k % across) * P - pad), top = Float((k / across) * P - pad), side = Float(P + 2 * pad)
            for _ in 0..<G {
                let mx = left + side * generator.nextUniform(), my = top + side * generator.nextUniform()
                let span = sigmas.upperBound - sigmas.lowerBound
                let sx = sigmas.lowerBound + span * generator.nextUniform(), sy = sigmas.lowerBound + span * generator.nextUniform()
                let theta = 6.3 * generator.nextUniform()
                let (cosine, sine) = (Foundation.cos(theta), Foundation.sin(theta))
                let (ix, iy) = (1 / (sx * sx), 1 / (sy * sy))
                values += [mx, my, cosine * cosine * ix + sine * sine * iy, cosine * sine * (ix - iy), sine * sine * ix + cosine * cosine * iy,
                           generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
            }
        }
    }
    return Tensor(shape: [items, N, G, 8], scalars: values, requiresGrad: true)
}

final class PatchRasterizerTests: XCTestCase {
    /// Fast and reference renders agree on values and on gradients of features and opacity: a
    /// batch of 2 on 48 × 32 (3 × 2 patches of 16, pad 4, 9 Gaussians each), and unbatched
    /// without opacity, with pad 4 and pad 0.
    func testMatchesReference() {
        let (width, height) = (48, 32)
        let options = PatchOptions(patchSize: 16, padding: 4)
        let screen = randomPatchGaussians(items: 2, perPatch: 9, width: width, height: height, options: options, seed: 31)
        // Opacities spanning the clamp at 1: some terms saturate near their centres.
        let opacity = randomInput([2, 6, 9], seed: 32, in: 0.3...1.6)
        let fast = rasterizePatches(screen, opacity: opacity, width: width, height: height, options: options)
        XCTAssertEqual(fast.shape, [2, 3, height, width])
        let upstream = randomInput(fast.shape, seed: 33)
        (fast * upstream).sum().backward()
        let (fastScreen, fastOpacity) = (screen.grad!.scalars, opacity.grad!.scalars)
        screen.zeroGrad()
        opacity.zeroGrad()
        let slow = referencePatches(screen, opacity: opacity, width: width, height: height, options: options)
        (slow * upstream).sum().backward()
        assertClose(fast.scalars, slow.scalars, absolute: 1e-5, relative: 0)
        assertClose(fastScreen, screen.grad!.scalars, absolute: 1e-4, relative: 1e-3)
        assertClose(fastOpacity, opacity.grad!.scalars, absolute: 1e-4, relative: 1e-3)

        for padding in [4, 0] {
            let options = PatchOptions(patchSize: 16, padding: padding)
            let single = randomPatchGaussians(items: 1, perPatch: 5, width: width, height: height, options: options, seed: 34)
                .reshaped([6, 5, 8]).detached()
            single.requiresGrad = true
            let fast = rasterizePatches(single, width: width, height: height, options: options)
            XCTAssertEqual(fast.shape, [3, height, width])
            let upstream = randomInput(fast.shape, seed: 35)
            (fast * upstream).sum().backward()
            let fastGradient = single.grad!.scalars
            single.zeroGrad()
            let slow = referencePatches(single, width: width, height: height, options: options)
            (slow * upstream).sum().backward()
            assertClose(fast.scalars, slow.scalars, absolute: 1e-5, relative: 0)
            assertClose(fastGradient, single.grad!.scalars, absolute: 1e-4, relative: 1e-3)
        }
    }

    /// The fast op's gradient against central differences. The skip rule (α < 1/255) is a true
    /// discontinuity that finite differences cannot step over, and the clamp α = min(1, ·) a kink,
    /// so this uses wide Gaussians (σ 8–12 px) centred inside their 8 × 8 patch, whose 12 × 12
    /// window lies within 14.2 px of the mean: there q ≤ (14.2/8)² ≈ 3.2, so α ≥ 0.2·e^−1.6 ≈ 0.04,
    /// well above 1/255, and opacity ≤ 0.8 keeps α below the clamp. The reference comparison above
    /// covers skipped and clamped terms.
    func testFiniteDifferences() {
        let options = PatchOptions(patchSize: 8, padding: 2)
        var generator = RandomGenerator(seed: 7)
        var values: [Float] = []
        for k in 0..<4 {
            for _ in 0..<3 {
                let sx = 8 + 4 * generator.nextUniform(), sy = 8 + 4 * generator.nextUniform(), theta = 6.3 * generator.nextUniform()
                let (cosine, sine) = (Foundation.cos(theta), Foundation.sin(theta))
                let (ix, iy) = (1 / (sx * sx), 1 / (sy * sy))
                values += [Float(8 * (k % 2)) + 8 * generator.nextUniform(), Float(8 * (k / 2)) + 8 * generator.nextUniform(),
                           cosine * cosine * ix + sine * sine * iy, cosine * sine * (ix - iy), sine * sine * ix + cosine * cosine * iy,
                           generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
            }
        }
        let screen = Tensor(shape: [4, 3, 8], scalars: values, requiresGrad: true)
        let opacity = randomInput([4, 3], seed: 8, in: 0.2...0.8)
        assertGradientsMatch([screen, opacity], epsilon: 1e-3, tolerance: 2e-2, maximumElements: 64) {
            rasterizePatches($0[0], opacity: $0[1], width: 16, height: 16, options: options)
        }
    }

    /// The coverage count at corners, edges and the interior of a 48 × 32 image (3 × 2 patches
    /// of 16, pad 4: windows span columns [0, 20), [12, 36), [28, 48) and rows [0, 20), [12, 32)),
    /// and the averaging it drives: saturated Gaussians (α = 1 over the whole window) make
    /// window k render the constant k + 1, so each pixel shows the mean over its windows.
    func testCoverageAndAveraging() {
        let (width, height) = (48, 32)
        let options = PatchOptions(patchSize: 16, padding: 4)
        let counts = PatchLayout(width: width, height: height, options: options, caller: "test").coverageCounts()
        // (x, y, count, windows covering it)
        let cases: [(Int, Int, Float, [Int])] = [
            (0, 0, 1, [0]), (47, 31, 1, [5]), (47, 0, 1, [2]), (0, 31, 1, [3]),  // corners
            (14, 0, 2, [0, 1]), (0, 16, 2, [0, 3]), (30, 31, 2, [4, 5]),  // edges
            (8, 8, 1, [0]), (24, 24, 1, [4]), (19, 5, 2, [0, 1]), (20, 5, 1, [1]),  // interior
            (15, 15, 4, [0, 1, 3, 4]), (30, 18, 4, [1, 2, 4, 5]), (12, 12, 4, [0, 1, 3, 4]), (11, 12, 2, [0, 3]),
        ]
        var values: [Float] = []
        for k in 0..<6 { values += [8, 8, 1e-4, 0, 1e-4, Float(k + 1), 1, 0] }
        let screen = Tensor(shape: [6, 1, 8], scalars: values)
        let image = rasterizePatches(screen, opacity: Tensor(shape: [6, 1], scalars: Array(repeating: 1e4, count: 6)),
                                     width: width, height: height, options: options)
        for (x, y, count, windows) in cases {
            XCTAssertEqual(counts[y * width + x], count, "count at (\(x), \(y))")
            let mean = Float(windows.map { $0 + 1 }.reduce(0, +)) / Float(windows.count)
            XCTAssertEqual(image[0, y, x], mean, accuracy: 1e-6, "red at (\(x), \(y))")
            XCTAssertEqual(image[1, y, x], 1, accuracy: 1e-6, "green at (\(x), \(y))")
        }
        // Without padding every pixel has exactly one window.
        let unpadded = PatchLayout(width: width, height: height, options: PatchOptions(patchSize: 16, padding: 0), caller: "test")
        XCTAssertEqual(unpadded.coverageCounts(), [Float](repeating: 1, count: width * height))
    }

    /// With pad 0 patches do not interact: changing patch 1's Gaussians changes only patch 1's
    /// pixels (even though other patches' Gaussians reach into it), and an upstream gradient that
    /// is zero on patch 1 gives patch 1's Gaussians no gradient.
    func testZeroPaddingIsolatesPatches() {
        let (width, height) = (32, 32)
        let options = PatchOptions(patchSize: 16, padding: 0)
        let screen = randomPatchGaussians(items: 1, perPatch: 6, width: width, height: height, options: options, sigmas: 3...8, seed: 41)
        let before = rasterizePatches(screen, width: width, height: height, options: options)
        var changed = screen.scalars
        for i in (6 * 8)..<(12 * 8) { changed[i] = i % 8 >= 5 ? 1 - changed[i] : changed[i] + 0.5 }
        let after = rasterizePatches(Tensor(shape: screen.shape, scalars: changed), width: width, height: height, options: options)
        var changedInPatch1 = 0
        for channel in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    if x >= 16 && y < 16 {
                        if before[0, channel, y, x] != after[0, channel, y, x] { changedInPatch1 += 1 }
                    } else {
                        XCTAssertEqual(before[0, channel, y, x], after[0, channel, y, x], "pixel (\(x), \(y))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(changedInPatch1, 3 * 16 * 16 / 2)
        var mask = [Float](repeating: 1, count: 3 * width * height)
        for channel in 0..<3 { for y in 0..<16 { for x in 16..<32 { mask[(channel * height + y) * width + x] = 0 } } }
        (before * Tensor(shape: before.shape, scalars: mask)).sum().backward()
        let gradient = screen.grad!.scalars
        XCTAssertEqual(Array(gradient[(6 * 8)..<(12 * 8)]), [Float](repeating: 0, count: 48))
        XCTAssertTrue(gradient[0..<(6 * 8)].contains { $0 != 0 })
    }

    /// The same input renders, and differentiates, to the same bits whatever the thread count.
    func testIndependentOfThreadCount() {
        let (width, height) = (48, 32)
        let options = PatchOptions(patchSize: 16, padding: 4)
        let screen = randomPatchGaussians(items: 2, perPatch: 12, width: width, height: height, options: options, seed: 51)
        let opacity = randomInput([2, 6, 12], seed: 52, in: 0.3...1.6)
        let upstream = randomInput([2, 3, height, width], seed: 53)
        let before = ComputeThreads.count
        defer { ComputeThreads.set(before) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            ComputeThreads.set(threads)
            screen.zeroGrad()
            opacity.zeroGrad()
            let image = rasterizePatches(screen, opacity: opacity, width: width, height: height, options: options)
            image.backward(seed: upstream)
            results.append(image.scalars + screen.grad!.scalars + opacity.grad!.scalars)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], absolute: Float, relative: Float,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        var worst: (index: Int, excess: Float)?
        for (index, (a, b)) in zip(actual, expected).enumerated() {
            let excess = Swift.abs(a - b) - (absolute + relative * Swift.abs(b))
            if excess > 0 && excess > (worst?.excess ?? 0) { worst = (index, excess) }
        }
        if let worst {
            XCTFail("element \(worst.index): \(actual[worst.index]) vs \(expected[worst.index])", file: file, line: line)
        }
    }
}
