import TestSupport
import XCTest
@testable import GaussianFitting
import GaussianRasterizer
import NeuralNetwork
@testable import TensorCore

/// A small smooth test picture (3, H, W): two colour ramps and a disc.
func testPicture(width: Int, height: Int) -> Tensor {
    var values = [Float](repeating: 0, count: 3 * width * height)
    for y in 0..<height {
        for x in 0..<width {
            let p = y * width + x
            let inside = pow(Float(x) - Float(width) * 0.6, 2) + pow(Float(y) - Float(height) * 0.4, 2) < pow(Float(width) * 0.2, 2)
            values[p] = inside ? 0.9 : Float(x) / Float(width)
            values[width * height + p] = inside ? 0.2 : Float(y) / Float(height)
            values[2 * width * height + p] = inside ? 0.1 : 0.5
        }
    }
    return Tensor(shape: [3, height, width], scalars: values)
}

/// Default fit options with the given recipe, size and length.
func fitOptions(_ recipe: FitRecipe, gaussians: Int, steps: Int) -> FitOptions {
    var options = FitOptions()
    options.recipe = recipe
    options.gaussians = gaussians
    options.steps = steps
    return options
}

final class FittingTests: XCTestCase {
    func testImageGSFitImprovesAndIsDeterministic() {
        var options = FitOptions()
        options.gaussians = 48
        options.steps = 200
        options.growthInterval = 30
        options.seed = 3
        let picture = testPicture(width: 32, height: 28)
        var reports: [FitProgress] = []
        let first = GaussianFitter(image: picture, options: options).run(progressInterval: 40) { reports.append($0) }
        XCTAssertEqual(first.gaussians.shape, [48, 8])
        XCTAssertEqual(reports.last?.gaussians, 48, "growth reaches the requested count")
        XCTAssertEqual(reports.first?.gaussians, 24 + 6, "starts with half; the first quarter of the rest joins at step 30")
        XCTAssertGreaterThan(first.psnr, reports.first!.psnr + 1, "PSNR rises during the fit")
        XCTAssertGreaterThan(first.psnr, 24)
        let second = GaussianFitter(image: picture, options: options).run()
        XCTAssertEqual(first.gaussians.scalars, second.gaussians.scalars, "same seed, same Gaussians")
        options.seed = 4
        let other = GaussianFitter(image: picture, options: options).run()
        XCTAssertNotEqual(first.gaussians.scalars, other.gaussians.scalars)
    }

    /// imagegs-grid starts every Gaussian on a grid matched to the aspect (8 on 24 × 12 pixels:
    /// 4 columns × 2 rows) at the nearest pixel centres, in Morton order of the cells, and fits
    /// from there.
    func testGridRecipePlacesEveryGaussianOnAGrid() {
        var options = fitOptions(.imagegsGrid, gaussians: 8, steps: 0)
        let picture = testPicture(width: 24, height: 12)
        let start = GaussianFitter(image: picture, options: options).run().gaussians
        XCTAssertEqual(start.shape, [8, 8])
        let xs = (0..<8).map { start[$0, 0] * 24 }, ys = (0..<8).map { start[$0, 1] * 12 }
        XCTAssertEqual(xs, [3.5, 9.5, 3.5, 9.5, 15.5, 21.5, 15.5, 21.5])
        XCTAssertEqual(ys, [3.5, 3.5, 9.5, 9.5, 3.5, 3.5, 9.5, 9.5])
        options.gaussians = 40
        options.steps = 150
        var reports: [FitProgress] = []
        let fitted = GaussianFitter(image: testPicture(width: 32, height: 28), options: options).run(progressInterval: 50) { reports.append($0) }
        XCTAssertEqual(reports.map(\.gaussians), [40, 40, 40], "no growth")
        XCTAssertGreaterThan(fitted.psnr, reports.first!.psnr + 1)
    }

    /// imagegs-grid-fixed fits from the same grid but never moves a centre: after 150 steps the
    /// positions are those of the start, the shapes and colours are not, and the fit improves.
    func testFixedGridRecipeHoldsTheCentres() {
        let options = fitOptions(.imagegsGridFixed, gaussians: 40, steps: 150)
        let picture = testPicture(width: 32, height: 28)
        var start = options
        start.steps = 0
        let initial = GaussianFitter(image: picture, options: start).run().gaussians
        var reports: [FitProgress] = []
        let fitted = GaussianFitter(image: picture, options: options).run(progressInterval: 50) { reports.append($0) }
        let columns = { (set: Tensor, range: Range<Int>) in (0..<40).flatMap { g in range.map { set[g, $0] } } }
        XCTAssertEqual(columns(fitted.gaussians, 0..<2), columns(initial, 0..<2), "centres held on the grid")
        XCTAssertNotEqual(columns(fitted.gaussians, 2..<8), columns(initial, 2..<8), "shape and colour fitted")
        XCTAssertEqual(reports.map(\.gaussians), [40, 40, 40], "no growth")
        XCTAssertGreaterThan(fitted.psnr, reports.first!.psnr + 1)
        XCTAssertTrue(FitRecipe.imagegsGridFixed.placesOnGrid && !FitRecipe.imagegsGridFixed.fitsPositions)
    }

    /// imagegs-grid-layout holds centres and shapes: every Gaussian stays round at its cell's
    /// centre with σ = 0.6 × the grid spacing (40 on 32 × 28: spacing √22.4 ≈ 4.73 px, σ ≈ 2.84
    /// px), only the colours change, and the fit improves on the image's colours at the centres.
    func testLayoutRecipeFitsOnlyColours() {
        let options = fitOptions(.imagegsGridLayout, gaussians: 40, steps: 150)
        let picture = testPicture(width: 32, height: 28)
        var start = options
        start.steps = 0
        let unfitted = GaussianFitter(image: picture, options: start).run()
        let initial = unfitted.gaussians
        let grid = GaussianFitter(image: picture, options: fitOptions(.imagegsGrid, gaussians: 40, steps: 0)).run().gaussians
        var reports: [FitProgress] = []
        let fitted = GaussianFitter(image: picture, options: options).run(progressInterval: 50) { reports.append($0) }
        let columns = { (set: Tensor, range: Range<Int>) in (0..<40).flatMap { g in range.map { set[g, $0] } } }
        XCTAssertEqual(columns(initial, 0..<2), columns(grid, 0..<2), "the grid's cell centres")
        let sigma = 0.6 * (Float(32 * 28) / 40).squareRoot()
        for g in 0..<40 {
            XCTAssertEqual(initial[g, 2], 1 / sigma, accuracy: 1e-6)
            XCTAssertEqual(initial[g, 3], 1 / sigma, accuracy: 1e-6)
            XCTAssertEqual(initial[g, 4], 0)
        }
        XCTAssertEqual(columns(fitted.gaussians, 0..<5), columns(initial, 0..<5), "centres and shapes held")
        XCTAssertNotEqual(columns(fitted.gaussians, 5..<8), columns(initial, 5..<8), "colours fitted")
        XCTAssertGreaterThan(fitted.psnr, unfitted.psnr + 1, "colours from the image at the centres, then fitted")
        XCTAssertEqual(reports.map(\.loss), reports.map(\.loss).sorted(by: >), "the loss falls")
        XCTAssertTrue(FitRecipe.imagegsGridLayout.placesOnGrid && !FitRecipe.imagegsGridLayout.fitsPositions
                      && !FitRecipe.imagegsGridLayout.fitsShapes)
    }

    func testGaussianImageRecipeImproves() {
        let options = fitOptions(.gaussianimage, gaussians: 64, steps: 300)
        let picture = testPicture(width: 24, height: 24)
        var first: Float?
        let result = GaussianFitter(image: picture, options: options).run(progressInterval: 20) { if first == nil { first = $0.psnr } }
        XCTAssertGreaterThan(result.psnr, first! + 2)
        // The saved set (converted to Image-GS) renders like the recipe's own additive render.
        let converted = renderImageGSAdditive(result.gaussians, width: 24, height: 24).clamped(min: 0, max: 1)
        XCTAssertEqual(psnr(converted, picture), result.psnr, accuracy: 0.05)
    }

    /// GaussianImage ↔ Image-GS conversions are exact inverses and render identically. (L's
    /// diagonal l + ½ is kept positive here: a negative one gives the same Σ, and the
    /// conversion back returns the canonical, positive Cholesky factor.)
    func testConventionRoundTrip() {
        var generator = RandomGenerator(seed: 11)
        let raw = Tensor.uniform([20, 8], low: -0.4, high: 0.8, using: &generator)
        let imageGS = imageGSParameters(fromGaussianImage: raw, width: 40, height: 30)
        let back = gaussianImageParameters(fromImageGS: imageGS, width: 40, height: 30)
        for (a, b) in zip(raw.scalars, back.scalars) { XCTAssertEqual(a, b, accuracy: 2e-4) }
        let direct = rasterizeAdditive(gaussianImageScreenFeatures(raw, width: 40, height: 30), width: 40, height: 30)
        let viaImageGS = renderImageGSAdditive(imageGS, width: 40, height: 30)
        for (a, b) in zip(direct.scalars, viaImageGS.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testSobelAndSampling() {
        let picture = testPicture(width: 20, height: 20)
        let magnitude = normalizedSobelMagnitude(picture)
        XCTAssertEqual(magnitude.max(), 1)
        XCTAssertEqual(normalizedSobelMagnitude(Tensor.full([3, 8, 8], value: 0.3)), [Float](repeating: 0, count: 64))
        var generator = RandomGenerator(seed: 1)
        var weights = [Float](repeating: 0, count: 10)
        weights[7] = 2
        XCTAssertEqual(Set(samplePixels(count: 50, weights: weights, using: &generator)), [7])
    }
}
