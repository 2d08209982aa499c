// The diagnostic pictures of `splatkit render --visualize`: ellipse outlines drawn on tiny
// images (on the contour, without gaps, clipped, rotated), the σ-contour overlay of a set, and
// seeded identity colours.

import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore
import XCTest
@testable import Reports

final class GaussianVisualizationTests: XCTestCase {
    private let red: (red: Float, green: Float, blue: Float) = (1, 0, 0)

    /// The (column, row) of every pixel whose red component is 1.
    private func redPixels(_ image: RGBImage) -> [(x: Int, y: Int)] {
        (0..<image.height).flatMap { y in (0..<image.width).compactMap { x in image[y, x].red == 1 ? (x, y) : nil } }
    }

    func testOutlineLiesOnTheContourWithoutGaps() {
        var image = RGBImage(width: 21, height: 21)
        // Centre (10.5, 10.5) is pixel (10, 10)'s centre; semi-axes 6 px across and 3 px down.
        drawEllipseOutline(on: &image, centerX: 10.5, centerY: 10.5, radiusX: 6, radiusY: 3, rotation: 0, colour: red)
        let drawn = redPixels(image)
        XCTAssertTrue(image.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        // Each drawn pixel's centre is within ½√2 px of a contour point, so its normalised distance
        // d from the centre is within about 0.71 / 3 (the smaller semi-axis) of 1.
        for pixel in drawn {
            let (dx, dy) = ((Double(pixel.x) + 0.5 - 10.5) / 6, (Double(pixel.y) + 0.5 - 10.5) / 3)
            XCTAssertEqual((dx * dx + dy * dy).squareRoot(), 1, accuracy: 0.3, "pixel \(pixel) is off the contour")
        }
        // The four ends of the axes are drawn; the centre and the inside are not.
        for (x, y) in [(16, 10), (4, 10), (10, 7), (10, 13)] {
            XCTAssertEqual(image[y, x].red, 1, "axis end (\(x), \(y))")
        }
        for (x, y) in [(10, 10), (13, 10), (10, 12)] { XCTAssertEqual(image[y, x].red, 0, "inside (\(x), \(y))") }
        XCTAssertEqual(drawn.map(\.x).min(), 4)
        XCTAssertEqual(drawn.map(\.x).max(), 16)
        // No gaps: every drawn pixel touches another (8-neighbourhood), and the count is about
        // the perimeter (Ramanujan: ≈ 29.1 px).
        for pixel in drawn {
            XCTAssertTrue(drawn.contains { ($0.x, $0.y) != (pixel.x, pixel.y) && abs($0.x - pixel.x) <= 1 && abs($0.y - pixel.y) <= 1 },
                          "pixel \(pixel) is isolated")
        }
        XCTAssertTrue((20...50).contains(drawn.count), "\(drawn.count) pixels for a perimeter of 29")
    }

    func testRotationByAQuarterTurnSwapsTheExtents() {
        var image = RGBImage(width: 21, height: 21)
        drawEllipseOutline(on: &image, centerX: 10.5, centerY: 10.5, radiusX: 6, radiusY: 3, rotation: .pi / 2, colour: red)
        let drawn = redPixels(image)
        XCTAssertEqual([drawn.map(\.x).min(), drawn.map(\.x).max()], [7, 13])
        XCTAssertEqual([drawn.map(\.y).min(), drawn.map(\.y).max()], [4, 16])
        // At 45° the extents along x and y are equal: √((36 + 9)/2) ≈ 4.74 px each way.
        var diagonal = RGBImage(width: 21, height: 21)
        drawEllipseOutline(on: &diagonal, centerX: 10.5, centerY: 10.5, radiusX: 6, radiusY: 3, rotation: .pi / 4, colour: red)
        let tilted = redPixels(diagonal)
        XCTAssertEqual([tilted.map(\.x).min(), tilted.map(\.x).max()], [tilted.map(\.y).min(), tilted.map(\.y).max()])
        XCTAssertEqual(tilted.map(\.x).min(), 5)
    }

    func testClippedTinyAndDegenerateEllipses() {
        var image = RGBImage(width: 8, height: 6)
        // Centred on the left edge: only the right half is inside.
        drawEllipseOutline(on: &image, centerX: 0, centerY: 3, radiusX: 4, radiusY: 2, rotation: 0.3, colour: red)
        XCTAssertFalse(redPixels(image).isEmpty)
        XCTAssertEqual(redPixels(image).map(\.x).min(), 0)

        var tiny = RGBImage(width: 8, height: 6)
        drawEllipseOutline(on: &tiny, centerX: 2.5, centerY: 1.5, radiusX: 0.2, radiusY: 0.1, rotation: 1, colour: red)
        XCTAssertEqual(redPixels(tiny).map { [$0.x, $0.y] }, [[2, 1]], "below a pixel: the centre's pixel")

        let blank = RGBImage(width: 8, height: 6)
        for (radiusX, centerX) in [(Double.nan, 3.0), (.infinity, 3), (2, -.infinity)] {
            var image = blank
            drawEllipseOutline(on: &image, centerX: centerX, centerY: 3, radiusX: radiusX, radiusY: 1, rotation: 0, colour: red)
            XCTAssertEqual(image, blank, "non-finite input draws nothing")
        }
        var outside = blank
        drawEllipseOutline(on: &outside, centerX: 50, centerY: 50, radiusX: 3, radiusY: 3, rotation: 0, colour: red)
        XCTAssertEqual(outside, blank)
        // Finite but far beyond Int's range (a damaged set's centre or scale): clipped, no trap.
        for (centerX, radius) in [(1e30, 3.0), (3.4e38, 3), (3, 1e300), (-1e300, 1e300)] {
            var far = blank
            drawEllipseOutline(on: &far, centerX: centerX, centerY: 3, radiusX: radius, radiusY: radius, rotation: 0.2, colour: red)
            XCTAssertEqual(far, blank, "centre \(centerX), radius \(radius)")
        }
    }

    func testEllipseOutlinesLightenTheRenderAndDrawEachGaussianInBlack() {
        // One Gaussian at the centre of pixel (12, 12) of a 24 × 24 black render, σ = 3 px (inverse
        // scale ±1/3: the sign does not matter).
        let centre = Float(12.5 / 24)
        let parameters = Tensor(shape: [1, 8], scalars: [centre, centre, 1.0 / 3, -1.0 / 3, 0, 1, 0, 0])
        let image = ellipseOutlines(parameters, on: RGBImage(width: 24, height: 24), sigmas: 2)
        XCTAssertEqual(image[12, 12].red, 0.5, "the background is lightened halfway to white")
        XCTAssertEqual(image[0, 0].green, 0.5)
        // The 2σ circle of radius 6 around (12.5, 12.5) passes through pixels (18, 12) and (12, 6).
        XCTAssertTrue(image[12, 18] == (0, 0, 0))
        XCTAssertTrue(image[6, 12] == (0, 0, 0))
        XCTAssertEqual(image[12, 20].red, 0.5)
        let outlined = image.pixels.indices.filter { $0 % 3 == 0 && image.pixels[$0] == 0 }.count
        XCTAssertTrue((28...60).contains(outlined), "\(outlined) outline pixels for a circle of radius 6")
        // 1σ draws a smaller circle: radius 3.
        let inner = ellipseOutlines(parameters, on: RGBImage(width: 24, height: 24), sigmas: 1)
        XCTAssertTrue(inner[12, 15] == (0, 0, 0))
        XCTAssertEqual(inner[12, 18].red, 0.5)
    }

    func testIdentityColoursAreSeededBrightAndKeepTheGeometry() {
        var generator = RandomGenerator(seed: 4)
        let parameters = Tensor(shape: [6, 8], scalars: (0..<48).map { _ in generator.nextUniform() })
        let coloured = identityColoured(parameters, seed: 1)
        XCTAssertEqual(coloured.shape, [6, 8])
        XCTAssertEqual(coloured.scalars, identityColoured(parameters, seed: 1).scalars, "same seed, same colours")
        XCTAssertNotEqual(coloured.scalars, identityColoured(parameters, seed: 2).scalars)
        var colours: [[Float]] = []
        for g in 0..<6 {
            let row = Array(coloured.scalars[(g * 8)..<(g * 8 + 8)]), original = Array(parameters.scalars[(g * 8)..<(g * 8 + 8)])
            XCTAssertEqual(Array(row[0..<5]), Array(original[0..<5]), "position, scales and rotation are kept")
            let rgb = Array(row[5..<8])
            XCTAssertTrue(rgb.allSatisfy { (0...1).contains($0) })
            // Saturation ≥ 0.65 and lightness in 0.4…0.65 give a chroma (max − min) of at least 0.45.
            XCTAssertGreaterThanOrEqual(rgb.max()! - rgb.min()!, 0.45)
            colours.append(rgb)
        }
        XCTAssertEqual(Set(colours.map { $0.map { Int($0 * 1000) } }).count, 6, "every Gaussian gets its own colour")
    }
}
