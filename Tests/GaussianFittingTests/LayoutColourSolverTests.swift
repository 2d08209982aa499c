import TestSupport
import XCTest
@testable import GaussianFitting
import GaussianRasterizer
import NeuralNetwork
@testable import TensorCore

// The closed-form colours of a fixed layout: the render is linear in the colours, plain least
// squares recovers colours exactly, the ridge solution satisfies its normal equations (checked
// in Double from the design matrix), and the imagegs-grid-layout-ridge recipe uses the layout of
// imagegs-grid-layout.

final class LayoutColourSolverTests: XCTestCase {
    private let (width, height, count) = (32, 28, 40)

    /// imagegs-grid-layout's layout (40 round Gaussians on 32 × 28), colours 0.
    private func layout() -> Tensor {
        let options = fitOptions(.imagegsGridLayout, gaussians: count, steps: 0)
        let rows = GaussianFitter(image: testPicture(width: width, height: height), options: options).run().gaussians
        return Tensor(shape: rows.shape, scalars: rows.scalars.enumerated().map { $0.offset % 8 >= 5 ? 0 : $0.element })
    }

    /// The layout with colours (N, 3) put in.
    private func coloured(_ layout: Tensor, _ colours: Tensor) -> Tensor {
        Tensor.concatenated([layout.split(sizes: [5, 3], alongAxis: 1)[0], colours], alongAxis: 1)
    }

    private func randomColours(seed: UInt64, in range: ClosedRange<Float>) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let span = range.upperBound - range.lowerBound
        return Tensor(shape: [count, 3], scalars: (0..<(count * 3)).map { _ in range.lowerBound + span * generator.nextUniform() })
    }

    func testRenderIsTheDesignMatrixTimesTheColours() {
        let layout = layout()
        let solver = LayoutColourSolver(layout: layout, width: width, height: height, ridge: 0)
        XCTAssertEqual(solver.design.shape, [width * height, count])
        let colours = randomColours(seed: 1, in: -0.5...1.5)
        let render = renderImageGS(coloured(layout, colours), width: width, height: height)  // (3, H, W)
        let linear = solver.design.matmul(colours)  // (H·W, 3)
        for p in stride(from: 0, to: width * height, by: 7) {
            for c in 0..<3 { XCTAssertEqual(render.scalars[c * width * height + p], linear[p, c], accuracy: 1e-5) }
        }
    }

    /// The design matrix read from grouped renders is, bit for bit, the render of each Gaussian
    /// alone at colour 1 (the slow reference: one render a Gaussian); and a dense layout needs
    /// fewer renders than Gaussians (checked through the footprints it groups by).
    func testDesignIsEachGaussianRenderedAlone() {
        for (w, h, n) in [(width, height, count), (48, 48, 48)] {
            let options = fitOptions(.imagegsGridLayout, gaussians: n, steps: 0)
            let rows = GaussianFitter(image: testPicture(width: w, height: h), options: options).run().gaussians.scalars
            let layout = Tensor(shape: [n, 8], scalars: rows.enumerated().map { $0.offset % 8 >= 5 ? 0 : $0.element })
            let design = LayoutColourSolver(layout: layout, width: w, height: h, ridge: 0.1).design.scalars  // (H·W, N)
            for g in 0..<n {
                var lit = layout.scalars
                lit[g * 8 + 5] = 1
                let alone = renderImageGS(Tensor(shape: [n, 8], scalars: lit), width: w, height: h).scalars
                for p in 0..<(w * h) where alone[p] != design[p * n + g] {
                    XCTFail("\(w)×\(h), Gaussian \(g), pixel \(p): \(design[p * n + g]) instead of \(alone[p])")
                    return
                }
            }
            let footprints = topKFootprints(imageGS: layout, width: w, height: h).compactMap { $0 }
            XCTAssertTrue(footprints.contains { f in !footprints.allSatisfy { $0.intersects(f) } }, "some footprints are disjoint")
        }
    }

    /// An image drawn by the layout itself is solved back to its colours.
    func testPlainLeastSquaresRecoversTheColours() {
        let layout = layout()
        let colours = randomColours(seed: 2, in: 0.2...0.8)
        let image = renderImageGS(coloured(layout, colours), width: width, height: height)
        let solved = LayoutColourSolver(layout: layout, width: width, height: height, ridge: 0).colours(for: image)
        XCTAssertEqual(solved.shape, [count, 3])
        for (a, b) in zip(solved.scalars, colours.scalars) { XCTAssertEqual(a, b, accuracy: 2e-3) }
    }

    /// Aᵀ(A c − y) + λ c = 0 with λ = ridge · mean(diag AᵀA), per channel; and the ridge trades
    /// a larger residual for smaller colours than plain least squares.
    func testRidgeSolutionSatisfiesTheNormalEquations() {
        let layout = layout(), image = testPicture(width: width, height: height)
        let ridge = LayoutColourSolver(layout: layout, width: width, height: height, ridge: 0.1)
        let plain = LayoutColourSolver(layout: layout, width: width, height: height, ridge: 0)
        let a = ridge.design.scalars.map(Double.init), pixels = width * height
        let meanDiagonal = (0..<count).reduce(0.0) { sum, g in sum + (0..<pixels).reduce(0.0) { $0 + a[$1 * count + g] * a[$1 * count + g] } }
            / Double(count)
        let lambda = 0.1 * meanDiagonal
        /// (residual ‖Ac − y‖², ‖c‖², largest |Aᵀ(Ac − y) + λc| over the largest |Aᵀy|) of channel `channel`.
        func check(_ colours: Tensor, lambda: Double, channel: Int) -> (Double, Double, Double) {
            let c = (0..<count).map { Double(colours[$0, channel]) }
            let y = (0..<pixels).map { Double(image.scalars[channel * pixels + $0]) }
            let residual = (0..<pixels).map { p in (0..<count).reduce(0.0) { $0 + a[p * count + $1] * c[$1] } - y[p] }
            var worst = 0.0, scale = 0.0
            for g in 0..<count {
                let gradient = (0..<pixels).reduce(0.0) { $0 + a[$1 * count + g] * residual[$1] } + lambda * c[g]
                worst = Swift.max(worst, Swift.abs(gradient))
                scale = Swift.max(scale, Swift.abs((0..<pixels).reduce(0.0) { $0 + a[$1 * count + g] * y[$1] }))
            }
            return (residual.reduce(0) { $0 + $1 * $1 }, c.reduce(0) { $0 + $1 * $1 }, worst / scale)
        }
        for channel in 0..<3 {
            let (ridgeResidual, ridgeNorm, ridgeGradient) = check(ridge.unclampedColours(for: image), lambda: lambda, channel: channel)
            let (plainResidual, plainNorm, plainGradient) = check(plain.unclampedColours(for: image), lambda: 0, channel: channel)
            XCTAssertLessThan(ridgeGradient, 1e-4, "channel \(channel)")
            XCTAssertLessThan(plainGradient, 1e-4, "channel \(channel)")
            XCTAssertGreaterThan(ridgeResidual, plainResidual, "channel \(channel)")
            XCTAssertLessThan(ridgeNorm, plainNorm, "channel \(channel)")
        }
    }

    func testRidgeRecipeSolvesTheLayoutsColours() {
        let picture = testPicture(width: width, height: height)
        let descended = GaussianFitter(image: picture, options: fitOptions(.imagegsGridLayout, gaussians: count, steps: 0)).run()
        let solved = GaussianFitter(image: picture, options: fitOptions(.imagegsGridLayoutRidge, gaussians: count, steps: 500)).run()
        let columns = { (set: Tensor, range: Range<Int>) in (0..<self.count).flatMap { g in range.map { set[g, $0] } } }
        XCTAssertEqual(columns(solved.gaussians, 0..<5), columns(descended.gaussians, 0..<5), "imagegs-grid-layout's centres and shapes")
        XCTAssertTrue(columns(solved.gaussians, 5..<8).allSatisfy { (0...1).contains($0) }, "colours clamped to [0, 1]")
        XCTAssertEqual(solved.steps, 0)
        XCTAssertGreaterThan(solved.psnr, descended.psnr + 1, "better than the image's colours at the centres")
        let rendered = renderImageGS(solved.gaussians, width: width, height: height).clamped(min: 0, max: 1)
        XCTAssertEqual(psnr(rendered, picture), solved.psnr, accuracy: 1e-4)
        XCTAssertTrue(FitRecipe.imagegsGridLayoutRidge.placesOnGrid && FitRecipe.imagegsGridLayoutRidge.usesFixedLayout
                      && !FitRecipe.imagegsGridLayoutRidge.fitsPositions && !FitRecipe.imagegsGridLayoutRidge.fitsShapes)
    }

    func testSolversAreSharedPerLayoutSizeAndRidge() {
        let layout = layout()
        let first = LayoutColourSolver.shared(layout: layout, width: width, height: height, ridge: 0.1, topK: TopKOptions())
        let again = LayoutColourSolver.shared(layout: layout, width: width, height: height, ridge: 0.1, topK: TopKOptions())
        let other = LayoutColourSolver.shared(layout: layout, width: width, height: height, ridge: 0, topK: TopKOptions())
        XCTAssertTrue(first === again)
        XCTAssertFalse(first === other)
    }
}
