import CPNG
import Foundation
import SplatIO
import TensorCore
import TestSupport
import XCTest

/// PNG reading (every color type and bit depth libpng's simplified API writes) and 8-bit RGB
/// writing. Input files in other formats are made here with libpng's own simplified writer.
final class PNGImageTests: TemporaryDirectoryTestCase {
    // MARK: Writing and reading back

    func testEightBitRoundTripIsExact() throws {
        let width = 16, height = 16
        // Every 8-bit level appears: component c of pixel p is level (3p + c) mod 256.
        let pixels = (0..<(width * height * 3)).map { Float($0 % 256) / 255 }
        let image = RGBImage(width: width, height: height, pixels: pixels)
        let path = temporaryPath("roundtrip.png")
        try image.writePNG(to: path)
        let read = try RGBImage(contentsOfPNG: path)
        XCTAssertEqual(read.width, width)
        XCTAssertEqual(read.height, height)
        XCTAssertEqual(read.pixels, pixels)
        XCTAssertEqual(try directoryEntries(), ["roundtrip.png"], "no temporary files may remain")
    }

    func testWritingClampsAndRounds() throws {
        // −0.3 → 0, 1.7 → 1, NaN → 0, 0.2/255 → 0, 0.7/255 → 1/255, 100.6/255 → 101/255.
        let image = RGBImage(width: 2, height: 1, pixels: [-0.3, 1.7, .nan, 0.2 / 255, 0.7 / 255, 100.6 / 255])
        let path = temporaryPath("clamped.png")
        try image.writePNG(to: path)
        XCTAssertEqual(try RGBImage(contentsOfPNG: path).pixels, [0, 1, 0, 0, Float(1) / 255, Float(101) / 255])
    }

    func testTensorConversionIsChannelFirst() {
        // (3, H=2, W=3): value = 100·channel + 10·y + x.
        var scalars: [Float] = []
        for channel in 0..<3 { for y in 0..<2 { for x in 0..<3 { scalars.append(Float(100 * channel + 10 * y + x)) } } }
        let tensor = Tensor(shape: [3, 2, 3], scalars: scalars)
        let image = RGBImage(tensor: tensor)
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        XCTAssertTrue(image[1, 2] == (12, 112, 212))
        XCTAssertEqual(Array(image.pixels[0..<6]), [0, 100, 200, 1, 101, 201])
        let back = image.tensor()
        XCTAssertEqual(back.shape, [3, 2, 3])
        XCTAssertEqual(back.scalars, scalars)
    }

    // MARK: Other formats

    func testGrayAndGrayAlphaEightBit() throws {
        let gray: [UInt8] = [0, 1, 128, 255, 37, 200]
        let grayPath = try writeWithLibpng("gray.png", width: 3, height: 2, format: splatkit_png_format_gray(), bytes: gray)
        let grayImage = try RGBImage(contentsOfPNG: grayPath)
        XCTAssertEqual(grayImage.pixels, gray.flatMap { level in [Float](repeating: Float(level) / 255, count: 3) })

        // Gray+alpha: alpha is dropped, the gray level is kept even where alpha is 0 or partial.
        let grayAlpha: [UInt8] = [10, 255, 20, 0, 30, 128, 240, 1]
        let gaPath = try writeWithLibpng("ga.png", width: 4, height: 1, format: splatkit_png_format_gray_alpha(), bytes: grayAlpha)
        let gaImage = try RGBImage(contentsOfPNG: gaPath)
        XCTAssertEqual(gaImage.pixels, [10, 20, 30, 240].flatMap { [Float](repeating: Float($0) / 255, count: 3) })
    }

    func testRGBAEightBitDropsAlpha() throws {
        let rgba: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 0, 12, 34, 56, 78, 90, 91, 92, 254]
        let path = try writeWithLibpng("rgba.png", width: 2, height: 2, format: splatkit_png_format_rgba(), bytes: rgba)
        let image = try RGBImage(contentsOfPNG: path)
        XCTAssertEqual(image.pixels, [255, 0, 0, 0, 255, 0, 12, 34, 56, 90, 91, 92].map { Float($0) / 255 })
    }

    func testSixteenBitGrayAndRGBKeepFullPrecision() throws {
        let levels: [UInt16] = [0, 1, 257, 12345, 32768, 65535]
        let grayPath = try writeWithLibpng("gray16.png", width: 6, height: 1, format: splatkit_png_format_linear_gray(), words: levels)
        let gray = try RGBImage(contentsOfPNG: grayPath)
        XCTAssertEqual(gray.pixels, levels.flatMap { [Float](repeating: Float($0) / 65535, count: 3) })

        let rgb: [UInt16] = [1, 2, 3, 65535, 40000, 513]
        let rgbPath = try writeWithLibpng("rgb16.png", width: 2, height: 1, format: splatkit_png_format_rgb_linear16(), words: rgb)
        XCTAssertEqual(try RGBImage(contentsOfPNG: rgbPath).pixels, rgb.map { Float($0) / 65535 })
    }

    func testSixteenBitRGBAUndoesPremultiplication() throws {
        // libpng's linear formats carry premultiplied color. Opaque pixels come back exactly;
        // the half-transparent one (premultiplied 10000 at alpha 32768) within 1/alpha.
        let rgba: [UInt16] = [1000, 2000, 3000, 65535, 10000, 0, 20000, 32768]
        let path = try writeWithLibpng("rgba16.png", width: 2, height: 1, format: splatkit_png_format_linear_rgb_alpha(), words: rgba)
        let image = try RGBImage(contentsOfPNG: path)
        XCTAssertEqual(Array(image.pixels[0..<3]), [1000, 2000, 3000].map { Float($0) / 65535 })
        let expected: [Float] = [10000.0 / 32768, 0, 20000.0 / 32768]
        for (actual, wanted) in zip(image.pixels[3..<6], expected) {
            XCTAssertEqual(actual, wanted, accuracy: 2.0 / 32768)
        }
    }

    func testPaletteImage() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 128, 255, 7, 8, 9]
        let indices: [UInt8] = [0, 1, 2, 2, 1, 0]
        var image = png_image()
        image.version = splatkit_png_image_version()
        image.width = 3
        image.height = 2
        image.format = splatkit_png_format_rgb() | splatkit_png_format_flag_colormap()
        image.colormap_entries = 3
        let path = temporaryPath("palette.png")
        XCTAssertNotEqual(png_image_write_to_file(&image, path, 0, indices, 0, palette), 0, "libpng could not write the test file")
        png_image_free(&image)

        let read = try RGBImage(contentsOfPNG: path)
        XCTAssertEqual(read.pixels, indices.flatMap { index in palette[Int(index) * 3..<Int(index) * 3 + 3].map { Float($0) / 255 } })
    }

    // MARK: Damaged files

    func testCorruptTruncatedAndMissingFilesThrowFileError() throws {
        let notPNG = temporaryPath("text.png")
        try Data("this is not a PNG file at all".utf8).write(to: URL(fileURLWithPath: notPNG))
        let notPNGError = assertThrowsFileError(try RGBImage(contentsOfPNG: notPNG))
        XCTAssertEqual(notPNGError?.path, notPNG)
        XCTAssertEqual(notPNGError?.reason.hasPrefix("cannot read PNG: "), true, "\(String(describing: notPNGError))")

        // A noisy image compresses badly, so cutting the file in half cuts into the pixel data.
        var generator = SystemRandomNumberGenerator()
        let noise = RGBImage(width: 64, height: 64, pixels: (0..<(64 * 64 * 3)).map { _ in Float.random(in: 0...1, using: &generator) })
        let truncated = temporaryPath("truncated.png")
        try noise.writePNG(to: truncated)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let truncatedError = assertThrowsFileError(try RGBImage(contentsOfPNG: truncated))
        XCTAssertEqual(truncatedError?.path, truncated)
        XCTAssertEqual(truncatedError?.reason.hasPrefix("cannot read PNG data: "), true, "\(String(describing: truncatedError))")

        let missing = temporaryPath("missing.png")
        XCTAssertEqual(assertThrowsFileError(try RGBImage(contentsOfPNG: missing)), FileError(missing, "no such file"))
    }

    func testFailedWriteLeavesNoFile() throws {
        let path = temporaryPath("no/such/directory/out.png")
        let error = assertThrowsFileError(try RGBImage(width: 2, height: 2).writePNG(to: path))
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason.hasPrefix("cannot write PNG: "), true, "\(String(describing: error))")
        XCTAssertEqual(try directoryEntries(), [])
    }

    // MARK: Helpers

    /// Writes 8-bit samples with libpng's simplified writer and returns the file's path.
    private func writeWithLibpng(_ name: String, width: UInt32, height: UInt32, format: png_uint_32, bytes: [UInt8]) throws -> String {
        try writeWithLibpng(name, width: width, height: height, format: format, buffer: bytes)
    }

    /// Writes 16-bit (linear) samples with libpng's simplified writer.
    private func writeWithLibpng(_ name: String, width: UInt32, height: UInt32, format: png_uint_32, words: [UInt16]) throws -> String {
        try writeWithLibpng(name, width: width, height: height, format: format, buffer: words)
    }

    private func writeWithLibpng<Sample>(
        _ name: String, width: UInt32, height: UInt32, format: png_uint_32, buffer: [Sample]
    ) throws -> String {
        var image = png_image()
        image.version = splatkit_png_image_version()
        image.width = width
        image.height = height
        image.format = format
        defer { png_image_free(&image) }
        let path = temporaryPath(name)
        let written = buffer.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
        guard written != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw FileError(path, "test setup: libpng could not write: \(message)")
        }
        return path
    }
}
