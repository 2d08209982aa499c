import TestSupport
import XCTest
@testable import GaussianFitting
import GaussianRasterizer
import NeuralNetwork
@testable import TensorCore

/// A (3, H, W) image whose luma steps from 0 to 1 across a line at `angle` (radians, x right,
/// y down) through the centre, blurred over a pixel: the edge runs along `angle`.
private func edgeImage(width: Int, height: Int, angle: Float) -> Tensor {
    let normal = (x: -sin(angle), y: cos(angle))
    var scalars = [Float](repeating: 0, count: 3 * width * height)
    for y in 0..<height {
        for x in 0..<width {
            let distance = (Float(x) + 0.5 - Float(width) / 2) * normal.x + (Float(y) + 0.5 - Float(height) / 2) * normal.y
            let value = 1 / (1 + exp(-distance))
            for c in 0..<3 { scalars[(c * height + y) * width + x] = value }
        }
    }
    return Tensor(shape: [3, height, width], scalars: scalars)
}

/// The smallest angle between two undirected lines, radians.
private func lineAngleDifference(_ a: Float, _ b: Float) -> Float {
    let d = abs((a - b).truncatingRemainder(dividingBy: Float.pi))
    return Swift.min(d, Float.pi - d)
}

final class StructureGuidanceTests: XCTestCase {
    func testStructureTensorFindsTheEdgeDirectionAndItsCoherence() {
        for angle: Float in [0, 0.4, Float.pi / 2, 2.3] {
            let field = StructureTensorField(image: edgeImage(width: 32, height: 32, angle: angle), integrationSigma: 2)
            let centre = 16 * 32 + 16
            XCTAssertLessThan(lineAngleDifference(field.edgeAngle(centre), angle), 0.05, "angle \(angle)")
            XCTAssertGreaterThan(field.coherence(centre), 0.95, "a straight edge is coherent")
            XCTAssertGreaterThan(field.energy(centre), 10 * field.energy(0) + 1e-6, "energy peaks on the edge")
        }
        // Isotropic structure (a dot): coherence low at its centre.
        var dot = [Float](repeating: 0, count: 3 * 32 * 32)
        for c in 0..<3 { for y in 14..<18 { for x in 14..<18 { dot[(c * 32 + y) * 32 + x] = 1 } } }
        let field = StructureTensorField(image: Tensor(shape: [3, 32, 32], scalars: dot), integrationSigma: 2)
        XCTAssertLessThan(field.coherence(16 * 32 + 16), 0.1)
    }

    func testStructureTensorMatchesABruteForceSmoothing() {
        var generator = RandomGenerator(seed: 5)
        let image = Tensor.uniform([3, 12, 10], low: 0, high: 1, using: &generator)
        let field = StructureTensorField(image: image, integrationSigma: 1)
        let gradient = sobelGradients(image)
        // Direct 2-D sum with replicated edges, radius 3σ = 3.
        for p in [0, 37, 119] {
            let (row, column) = (p / 10, p % 10)
            var total: Double = 0, weights: Double = 0
            for u in -3...3 {
                for v in -3...3 {
                    let weight = exp(-Double(u * u + v * v) / 2)
                    let q = Swift.min(Swift.max(row + u, 0), 11) * 10 + Swift.min(Swift.max(column + v, 0), 9)
                    total += weight * Double(gradient.x[q] * gradient.y[q])
                    weights += weight
                }
            }
            XCTAssertEqual(Double(field.xy[p]), total / weights, accuracy: 1e-4)
        }
    }

    func testStructureGuidedStartDrawsOnStructureAndShapesAlongEdges() {
        let image = edgeImage(width: 48, height: 48, angle: 0.4)
        let start = StructureGuidedStart(image: image, uniformFraction: 0.3)
        XCTAssertEqual(Double(start.density.reduce(0, +)), 1, accuracy: 1e-4)
        let centre = 24 * 48 + 24
        XCTAssertGreaterThan(start.density[centre], 5 * start.density[0], "the edge draws more Gaussians than flat corners")
        XCTAssertGreaterThanOrEqual(start.density[0], 0.3 / Float(48 * 48) * 0.999, "the uniform share reaches everywhere")
        let shape = start.shape(at: centre, total: 100)
        XCTAssertLessThan(shape.scaleX, shape.scaleY, "longer (smaller inverse σ) along the edge")
        XCTAssertLessThan(lineAngleDifference(shape.rotation, 0.4), 0.05)
        var generator = RandomGenerator(seed: 1)
        let pixels = start.samplePixels(count: 400, using: &generator)
        let nearEdge = pixels.filter { p in
            let (x, y) = (Float(p % 48) + 0.5 - 24, Float(p / 48) + 0.5 - 24)
            return abs(-sin(Float(0.4)) * x + cos(Float(0.4)) * y) < 4
        }
        XCTAssertGreaterThan(nearEdge.count, 200, "most starts lie within 4 px of the edge")
    }

    func testGeometryRegularizerGradientsByFiniteDifferences() {
        let image = edgeImage(width: 24, height: 24, angle: 0.7)
        let regularizer = GeometryRegularizer(target: image, weight: 0.5)
        var generator = RandomGenerator(seed: 3)
        var rows: [Float] = []
        for _ in 0..<6 {
            rows += [0.3 + 0.4 * generator.nextUniform(), 0.3 + 0.4 * generator.nextUniform(), 0.2 + generator.nextUniform(),
                     0.2 + generator.nextUniform(), 3 * generator.nextUniform(), 0.5, 0.5, 0.5]
        }
        let parameters = Tensor(shape: [6, 8], scalars: rows, requiresGrad: true)
        assertGradientsMatch([parameters], epsilon: 1e-3, tolerance: 2e-3) { regularizer.loss($0[0]) }
    }

    func testGeometryRegularizerPrefersEllipsesAlongTheEdge() {
        let image = edgeImage(width: 24, height: 24, angle: 0.7)
        let regularizer = GeometryRegularizer(target: image, weight: 1)
        func loss(rotation: Float, scaleX: Float, scaleY: Float) -> Float {
            regularizer.loss(Tensor(shape: [1, 8], scalars: [0.5, 0.5, scaleX, scaleY, rotation, 0, 0, 0])).item
        }
        let along = loss(rotation: 0.7, scaleX: 0.2, scaleY: 1), round = loss(rotation: 0, scaleX: 0.5, scaleY: 0.5)
        let across = loss(rotation: 0.7 + Float.pi / 2, scaleX: 0.2, scaleY: 1)
        XCTAssertLessThan(along, round)
        XCTAssertLessThan(round, across)
        XCTAssertEqual(round, 0.5 * StructureTensorField(image: image, integrationSigma: 2).coherence(12 * 24 + 12), accuracy: 1e-4)
    }

    func testStructureStartAndRegularizerFitAndStayDeterministic() {
        let image = edgeImage(width: 24, height: 24, angle: 0.3)
        var options = FitOptions()
        options.gaussians = 16
        options.steps = 30
        options.start = .structure
        options.geometryWeight = 0.05
        let first = GaussianFitter(image: image, options: options).run()
        let second = GaussianFitter(image: image, options: options).run()
        XCTAssertEqual(first.gaussians.scalars, second.gaussians.scalars)
        XCTAssertTrue(first.gaussians.scalars.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(first.psnr, 12)
    }
}
