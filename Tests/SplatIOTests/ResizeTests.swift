import XCTest
@testable import SplatIO

final class ResizeTests: XCTestCase {
    /// Halving averages 2×2 blocks (the triangle filter's taps at scale 2 weigh the two nearest
    /// source pixels ¼·… symmetric, so a constant stays constant and a step is smoothed).
    func testConstantStaysConstantAndSizesAreRight() {
        let flat = RGBImage(width: 8, height: 6, pixels: [Float](repeating: 0.25, count: 8 * 6 * 3))
        let small = flat.resized(width: 3, height: 5)
        XCTAssertEqual(small.width, 3)
        XCTAssertEqual(small.height, 5)
        for value in small.pixels { XCTAssertEqual(value, 0.25, accuracy: 1e-6) }
        let large = flat.resized(width: 17, height: 13)
        for value in large.pixels { XCTAssertEqual(value, 0.25, accuracy: 1e-6) }
    }

    func testCropAndPreparedSquare() {
        var image = RGBImage(width: 6, height: 4)
        for y in 0..<4 { for x in 0..<6 { image.pixels[(y * 6 + x) * 3] = Float(x) } }
        let crop = image.cropped(left: 2, top: 1, width: 3, height: 2)
        XCTAssertEqual(crop.pixels[0], 2)
        XCTAssertEqual(crop.pixels[(1 * 3 + 2) * 3], 4)
        let square = image.preparedSquare(size: 4)
        XCTAssertEqual(square.width, 4)
        XCTAssertEqual(square.height, 4)
        // The centre crop of an unscaled 6-wide ramp starts at x = 1.
        XCTAssertEqual(square.pixels[0], 1, accuracy: 1e-6)
        XCTAssertEqual(image.preparedSquare(size: 2, keepAspect: true).width, 3)
    }

    func testFlipMirrorsEachRowAndTwiceIsIdentity() {
        let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map(Float.init))
        let mirrored = image.flippedHorizontally()
        XCTAssertEqual(Array(mirrored.pixels[0..<9]), [6, 7, 8, 3, 4, 5, 0, 1, 2])
        XCTAssertEqual(Array(mirrored.pixels[9..<18]), [15, 16, 17, 12, 13, 14, 9, 10, 11])
        XCTAssertEqual(mirrored.flippedHorizontally().pixels, image.pixels)
    }
}
