import Foundation
import TestSupport
import XCTest
@testable import GaussianRasterizer
@testable import TensorCore

final class TopKRasterizerTests: XCTestCase {
    /// Fast and reference renders agree on values and on gradients of every parameter, across
    /// several tiles (40 × 36 pixels is 3 × 3 tiles with ragged edges).
    func testMatchesReference() {
        let (width, height) = (40, 36)
        for (count, k) in [(12, 10), (30, 4), (5, 10)] {
            let parameters = randomImageGSParameters(count: count, width: width, height: height, seed: UInt64(count))
            let options = TopKOptions(k: k)
            let fast = renderImageGS(parameters, width: width, height: height, options: options)
            let upstream = randomInput(fast.shape, seed: 99)
            (fast * upstream).sum().backward()
            let fastGradient = parameters.grad!.scalars
            parameters.zeroGrad()
            let screen = imageGSScreenFeatures(parameters, width: width, height: height)
            let slow = referenceTopK(screen, width: width, height: height, options: options)
            (slow * upstream).sum().backward()
            let slowGradient = parameters.grad!.scalars
            XCTAssertEqual(fast.shape, [3, height, width])
            for (a, b) in zip(fast.scalars, slow.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            for (index, (a, b)) in zip(fastGradient, slowGradient).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-3 + 1e-3 * Swift.abs(b), "gradient element \(index), G=\(count) K=\(k)")
            }
        }
    }

    /// Crowded tiles (≈150 Gaussians each, so block pruning drops most of them and the search
    /// takes its sorting path) still select exactly the reference's top K.
    func testCrowdedTilesMatchReference() {
        let (width, height) = (32, 24)
        let parameters = randomImageGSParameters(count: 150, width: width, height: height, seed: 21)
        let fast = renderImageGS(parameters, width: width, height: height)
        let upstream = randomInput(fast.shape, seed: 7)
        (fast * upstream).sum().backward()
        let fastGradient = parameters.grad!.scalars
        parameters.zeroGrad()
        let slow = referenceTopK(imageGSScreenFeatures(parameters, width: width, height: height), width: width, height: height,
                                 options: TopKOptions())
        (slow * upstream).sum().backward()
        for (a, b) in zip(fast.scalars, slow.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (index, (a, b)) in zip(fastGradient, parameters.grad!.scalars).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-3 + 1e-3 * Swift.abs(b), "gradient element \(index)")
        }
    }

    /// Exact ties in q go to the lower Gaussian index, as in the reference: copies of one
    /// Gaussian with different colours, more of them than K, plus a few others.
    func testExactTiesKeepLowerIndices() {
        let (width, height) = (20, 12)
        var rows: [Float] = []
        for copy in 0..<7 { rows += [0.4, 0.5, 0.25, 0.2, 0.3, Float(copy) / 7, 1 - Float(copy) / 7, 0.5] }
        rows += [0.7, 0.4, 0.3, 0.3, 0, 1, 0, 0, 0.2, 0.6, 0.2, 0.25, 1, 0, 0, 1]
        let parameters = Tensor(shape: [9, 8], scalars: rows, requiresGrad: true)
        for k in [3, 5, 10] {
            parameters.zeroGrad()
            let fast = renderImageGS(parameters, width: width, height: height, options: TopKOptions(k: k))
            let upstream = randomInput(fast.shape, seed: 4)
            (fast * upstream).sum().backward()
            let fastGradient = parameters.grad!.scalars
            parameters.zeroGrad()
            let slow = referenceTopK(imageGSScreenFeatures(parameters, width: width, height: height), width: width, height: height,
                                     options: TopKOptions(k: k))
            (slow * upstream).sum().backward()
            for (a, b) in zip(fast.scalars, slow.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5, "K=\(k)") }
            for (index, (a, b)) in zip(fastGradient, parameters.grad!.scalars).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-3 + 1e-3 * Swift.abs(b), "gradient element \(index), K=\(k)")
            }
        }
    }

    /// Block bounds contain the distance of every pixel centre of the block, as the search
    /// computes it (random conics, blocks and means, some far from the block).
    func testDistanceBoundsContainEveryPixel() {
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<2000 {
            let sx = 0.02 + 2 * generator.nextUniform(), sy = 0.02 + 2 * generator.nextUniform(), theta = 6.3 * generator.nextUniform()
            let (cosine, sine) = (Foundation.cos(theta), Foundation.sin(theta))
            let a = cosine * cosine * sx * sx + sine * sine * sy * sy, b = cosine * sine * (sx * sx - sy * sy)
            let c = sine * sine * sx * sx + cosine * cosine * sy * sy
            let x0 = Int(generator.nextInt(below: 500)), y0 = Int(generator.nextInt(below: 500))
            let x1 = x0 + 1 + Int(generator.nextInt(below: 8)), y1 = y0 + 1 + Int(generator.nextInt(below: 8))
            let mx = Float(x0) - 40 + 90 * generator.nextUniform(), my = Float(y0) - 40 + 90 * generator.nextUniform()
            let left = Float(x0) + 0.5, right = Float(x1) - 0.5, top = Float(y0) + 0.5, bottom = Float(y1) - 0.5
            let (lower, upper) = scalarDistanceBounds(a: a, b: b, c: c, dx: (left - mx, right - mx), dy: (top - my, bottom - my),
                                                      coordinates: Swift.max(Swift.max(right, bottom), Swift.max(Swift.abs(mx), Swift.abs(my))))
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let dx = Float(x) + 0.5 - mx, dy = Float(y) + 0.5 - my
                    // The block kernel's evaluation order, and the textbook one.
                    for q in [dx * (a * dx + 2 * b * dy) + c * dy * dy, a * dx * dx + 2 * b * dx * dy + c * dy * dy] {
                        XCTAssert(lower <= q && q <= upper, "q \(q) outside [\(lower), \(upper)]")
                    }
                }
            }
        }
        // Not positive semi-definite, or not finite: no bound.
        for (a, b, c, dx) in [(-1, 0, 1, 0), (1, 2, 1, 0), (1, 0, 1, Float.nan), (1, 0, Float.infinity, 0)] as [(Float, Float, Float, Float)] {
            let open = scalarDistanceBounds(a: a, b: b, c: c, dx: (dx, 1), dy: (0, 1), coordinates: 1)
            XCTAssertEqual(open.0, -.infinity)
            XCTAssertEqual(open.1, .infinity)
        }
    }

    /// `distanceBounds` for one conic and rectangle (every lane the same).
    private func scalarDistanceBounds(a: Float, b: Float, c: Float, dx: (Float, Float), dy: (Float, Float),
                                      coordinates: Float) -> (Float, Float) {
        let bounds = distanceBounds(a: RowLanes(repeating: a), b: RowLanes(repeating: b), c: RowLanes(repeating: c),
                                    dx: (RowLanes(repeating: dx.0), RowLanes(repeating: dx.1)),
                                    dy: (RowLanes(repeating: dy.0), RowLanes(repeating: dy.1)), coordinates: RowLanes(repeating: coordinates))
        return (bounds.lower[0], bounds.upper[0])
    }

    /// The fast op's own gradient against central differences, on screen features directly, on
    /// one tile (so tile binning cannot change under a perturbation), and through the Image-GS
    /// parameterisation.
    func testFiniteDifferences() {
        let parameters = randomImageGSParameters(count: 6, width: 16, height: 14, seed: 5)
        let screen = withoutGradients { imageGSScreenFeatures(parameters, width: 16, height: 14) }
        screen.requiresGrad = true
        assertGradientsMatch([screen], epsilon: 1e-3, tolerance: 2e-2, maximumElements: 64) {
            rasterizeTopK($0[0], width: 16, height: 14, options: TopKOptions(k: 10))
        }
        assertGradientsMatch([screen], epsilon: 1e-3, tolerance: 2e-2, maximumElements: 64) {
            rasterizeTopK($0[0], width: 16, height: 14, options: TopKOptions(k: 3))
        }
        assertGradientsMatch([parameters], epsilon: 1e-3, tolerance: 2e-2, maximumElements: 64) { renderImageGS($0[0], width: 16, height: 14) }
    }

    /// A batch renders each item as if alone.
    func testBatchEqualsItems() {
        let first = randomImageGSParameters(count: 7, width: 24, height: 20, seed: 1)
        let second = randomImageGSParameters(count: 7, width: 24, height: 20, seed: 2)
        let batch = renderImageGS(Tensor.concatenated([first.unsqueezed(0), second.unsqueezed(0)], alongAxis: 0), width: 24, height: 20)
        XCTAssertEqual(batch.shape, [2, 3, 20, 24])
        XCTAssertEqual(batch.sliced(1..<2, alongAxis: 0).scalars, renderImageGS(second, width: 24, height: 20).scalars)
    }

    /// Pins the pixel convention: a round Gaussian at x = y = 0.5 of a 4 × 4 image sits between
    /// the four central pixels, so they are equally bright; a lone Gaussian's colour is exact
    /// up to the ε in the denominator.
    func testPixelConvention() {
        let parameters = Tensor(shape: [1, 8], scalars: [0.5, 0.5, 1, 1, 0, 0.2, 0.4, 0.6])
        let image = renderImageGS(parameters, width: 4, height: 4)
        let centre = [image[0, 1, 1], image[0, 1, 2], image[0, 2, 1], image[0, 2, 2]]
        XCTAssertEqual(Set(centre).count, 1)
        let weight = expf(-0.5 * (0.5 * 0.5 + 0.5 * 0.5))  // d = (±½, ±½), σ = 1 px
        XCTAssertEqual(image[1, 1, 1], 0.4 * weight / (weight + 1e-4), accuracy: 1e-6)
        // A Gaussian whose 3σ box misses the image contributes nothing.
        let outside = Tensor(shape: [1, 8], scalars: [3, 3, 1, 1, 0, 1, 1, 1])
        XCTAssertEqual(renderImageGS(outside, width: 4, height: 4).scalars, [Float](repeating: 0, count: 48))
    }

    /// The same input renders to the same bits whatever the thread count.
    func testIndependentOfThreadCount() {
        let parameters = randomImageGSParameters(count: 40, width: 48, height: 40, seed: 8)
        let before = ComputeThreads.count
        defer { ComputeThreads.set(before) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            ComputeThreads.set(threads)
            parameters.zeroGrad()
            let image = renderImageGS(parameters, width: 48, height: 40)
            image.sum().backward()
            results.append(image.scalars + parameters.grad!.scalars)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }
}
