import XCTest
import SplatIO
@testable import GaussianData

/// `ProceduralArt`: deterministic per (seed, index), valid pixel values, real content (not
/// flat, several colours), any size ≥ 16, the same painting at every size; and HSL → RGB.
final class ProceduralArtTests: XCTestCase {
    func testDeterministicPerSeedAndIndex() {
        let first = ProceduralArt.image(index: 3, size: 40, seed: 7)
        XCTAssertEqual(first, ProceduralArt.image(index: 3, size: 40, seed: 7))
        XCTAssertNotEqual(first, ProceduralArt.image(index: 4, size: 40, seed: 7))
        XCTAssertNotEqual(first, ProceduralArt.image(index: 3, size: 40, seed: 8))
        XCTAssertNotEqual(ProceduralArt.imageSeed(seed: 0, index: 1), ProceduralArt.imageSeed(seed: 1, index: 0))
    }

    func testValuesInRangeNotFlatAndColourful() {
        for index in 0..<8 {
            let image = ProceduralArt.image(index: index, size: 40, seed: 1)
            XCTAssertEqual(image.width, 40)
            XCTAssertEqual(image.height, 40)
            XCTAssertTrue(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "image \(index): values outside [0, 1]")
            let mean = image.pixels.reduce(0, +) / Float(image.pixels.count)
            let variance = image.pixels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(image.pixels.count)
            XCTAssertGreaterThan(variance.squareRoot(), 0.05, "image \(index) is nearly flat")
            // Distinct colours at 4 bits per channel.
            var colours = Set<Int>()
            for pixel in 0..<(image.width * image.height) {
                let quantised = (0..<3).map { Int(image.pixels[pixel * 3 + $0] * 15.99) }
                colours.insert(quantised[0] << 8 | quantised[1] << 4 | quantised[2])
            }
            XCTAssertGreaterThanOrEqual(colours.count, 10, "image \(index) has only \(colours.count) colours")
        }
    }

    func testSmallAndOddSizes() {
        for size in [16, 23] {
            let image = ProceduralArt.image(index: 0, size: size, seed: 2)
            XCTAssertEqual(image.width, size)
            XCTAssertEqual(image.height, size)
            XCTAssertEqual(image.pixels.count, size * size * 3)
        }
    }

    /// Geometry is in unit coordinates: the 64-pixel painting averaged 2×2 is close to the
    /// 32-pixel one (they differ only in antialiasing and line widths).
    func testSamePaintingAtEverySize() {
        let small = ProceduralArt.image(index: 5, size: 32, seed: 3)
        let large = ProceduralArt.image(index: 5, size: 64, seed: 3)
        var difference: Float = 0
        for y in 0..<32 {
            for x in 0..<32 {
                for channel in 0..<3 {
                    var average: Float = 0
                    for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        average += large.pixels[((2 * y + dy) * 64 + 2 * x + dx) * 3 + channel] / 4
                    }
                    difference += abs(average - small.pixels[(y * 32 + x) * 3 + channel])
                }
            }
        }
        XCTAssertLessThan(difference / Float(32 * 32 * 3), 0.05)
    }

    func testHSLToRGB() {
        func assertColour(_ colour: SIMD3<Float>, _ expected: SIMD3<Float>, line: UInt = #line) {
            for channel in 0..<3 { XCTAssertEqual(colour[channel], expected[channel], accuracy: 1e-5, line: line) }
        }
        assertColour(hslToRGB(hue: 0, saturation: 1, lightness: 0.5), [1, 0, 0])
        assertColour(hslToRGB(hue: 1.0 / 3, saturation: 1, lightness: 0.5), [0, 1, 0])
        assertColour(hslToRGB(hue: 2.0 / 3, saturation: 1, lightness: 0.5), [0, 0, 1])
        assertColour(hslToRGB(hue: 1.5, saturation: 1, lightness: 0.5), [0, 1, 1])  // hue taken modulo 1
        assertColour(hslToRGB(hue: 0.25, saturation: 0, lightness: 0.3), [0.3, 0.3, 0.3])
        assertColour(hslToRGB(hue: 1.0 / 12, saturation: 1, lightness: 0.75), [1, 0.75, 0.5])  // orange tint
    }
}
