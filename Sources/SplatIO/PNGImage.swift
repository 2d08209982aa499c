import CPNG
import Foundation

// PNG files through libpng's simplified API (png_image_*), which reports errors in
// `png_image.message` instead of longjmp-ing across Swift frames.
//
// Reading accepts every PNG: gray, gray+alpha, RGB, RGBA and palette images, 8 or 16 bits
// (and 1/2/4-bit gray and palette, which libpng expands). Values come back as the file stores
// them, divided by 255 or 65535:
// - 8-bit (and lower) files are read as 8-bit sRGB, i.e. unchanged, unless the file carries a
//   gAMA/iCCP chunk saying it is not sRGB, in which case libpng converts to sRGB.
// - 16-bit files are read as 16-bit linear, which is unchanged for files without gamma
//   information (libpng's simplified API assumes such files are linear) or with gAMA 1.0;
//   16-bit files tagged sRGB/gamma 2.2 are converted to linear light by libpng.
// - Gray is replicated to R = G = B; palette entries are looked up.
// - Alpha is dropped, not composited: the color of a translucent pixel is kept as stored.
//   For 16-bit files with alpha libpng returns color premultiplied by alpha, so it is divided
//   back out: exact for opaque pixels, within 1/alpha for translucent ones, and black for
//   fully transparent ones (their stored color is not recoverable through this API).
//
// Writing produces an 8-bit RGB PNG (components clamped to [0, 1], scaled by 255, rounded to
// nearest; NaN becomes 0) via `writeAtomically`, so a failed write never leaves a partial file.

extension RGBImage {
    /// The most pixels a PNG may declare by default (64 MP, e.g. 8192 × 8192): its header is
    /// checked before any pixel buffer is allocated.
    public static let defaultMaximumPixels = 1 << 26

    /// Reads a PNG file. A missing, corrupt, truncated or non-PNG file, or one whose header
    /// declares more than `maximumPixels` pixels, throws `FileError` naming it.
    public init(contentsOfPNG path: String, maximumPixels: Int = RGBImage.defaultMaximumPixels) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError(path, "no such file")
        }
        var image = png_image()
        image.version = splatkit_png_image_version()
        defer { png_image_free(&image) }  // Safe after libpng has freed it itself.

        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw FileError(path, "cannot read PNG: \(pngMessage(image))")
        }
        let width = Int(image.width), height = Int(image.height)
        guard width >= 1 && height >= 1 && width * height <= maximumPixels else {
            throw FileError(path, "declares \(width)×\(height) pixels; at most \(maximumPixels) pixels are read")
        }
        let hasAlpha = image.format & splatkit_png_format_flag_alpha() != 0
        let sixteenBit = image.format & splatkit_png_format_flag_linear() != 0
        let channels = hasAlpha ? 4 : 3
        let components = width * height * channels

        var pixels = [Float](repeating: 0, count: width * height * 3)
        if sixteenBit {
            image.format = hasAlpha ? splatkit_png_format_linear_rgb_alpha() : splatkit_png_format_rgb_linear16()
            var buffer = [UInt16](repeating: 0, count: components)
            guard png_image_finish_read(&image, nil, &buffer, 0, nil) != 0 else {
                throw FileError(path, "cannot read PNG data: \(pngMessage(image))")
            }
            for pixel in 0..<(width * height) {
                let source = pixel * channels
                // Premultiplied color / alpha = stored color; without alpha, divide by full scale.
                let scale: Float = hasAlpha ? Float(buffer[source + 3]) : 65535
                for channel in 0..<3 {
                    pixels[pixel * 3 + channel] = scale > 0 ? min(Float(buffer[source + channel]) / scale, 1) : 0
                }
            }
        } else {
            image.format = hasAlpha ? splatkit_png_format_rgba() : splatkit_png_format_rgb()
            var buffer = [UInt8](repeating: 0, count: components)
            guard png_image_finish_read(&image, nil, &buffer, 0, nil) != 0 else {
                throw FileError(path, "cannot read PNG data: \(pngMessage(image))")
            }
            for pixel in 0..<(width * height) {
                for channel in 0..<3 {
                    pixels[pixel * 3 + channel] = Float(buffer[pixel * channels + channel]) / 255
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Writes the image as an 8-bit RGB PNG, atomically (see `writeAtomically`).
    public func writePNG(to path: String) throws {
        precondition(width > 0 && height > 0, "RGBImage.writePNG: PNG needs a non-empty image, got \(width)×\(height)")
        let bytes = pixels.map { component -> UInt8 in
            guard !component.isNaN else { return 0 }
            return UInt8((Swift.min(Swift.max(component, 0), 1) * 255).rounded())
        }
        try writeAtomically(to: path) { temporary in
            var image = png_image()
            image.version = splatkit_png_image_version()
            image.width = UInt32(width)
            image.height = UInt32(height)
            image.format = splatkit_png_format_rgb()
            defer { png_image_free(&image) }
            guard png_image_write_to_file(&image, temporary, 0, bytes, 0, nil) != 0 else {
                throw FileError(path, "cannot write PNG: \(pngMessage(image))")
            }
        }
    }
}

/// libpng's NUL-terminated `message` field as a String.
func pngMessage(_ image: png_image) -> String {
    let text = withUnsafeBytes(of: image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    switch text {
    case "": return "unknown libpng error"
    // libpng reports a short read this way; in practice the file ends early.
    case "Read Error": return "Read Error (the file ends early: truncated?)"
    default: return text
    }
}
