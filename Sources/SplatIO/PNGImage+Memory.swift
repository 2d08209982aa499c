import CPNG
import Foundation

// PNG encoding to memory (for data URIs in HTML reports), through libpng's simplified
// `png_image_write_to_memory`. The bytes are the same 8-bit RGB stream `writePNG(to:)` writes
// to a file: components clamped to [0, 1], scaled by 255, rounded to nearest; NaN becomes 0.

extension RGBImage {
    /// The image encoded as an 8-bit RGB PNG, in memory.
    ///
    /// libpng is called twice: once without a buffer to learn the encoded size, once to write.
    public func pngData() throws -> [UInt8] {
        precondition(width > 0 && height > 0, "RGBImage.pngData: PNG needs a non-empty image, got \(width)×\(height)")
        let components = pixels.map { component -> UInt8 in
            guard !component.isNaN else { return 0 }
            return UInt8((Swift.min(Swift.max(component, 0), 1) * 255).rounded())
        }
        var image = png_image()
        image.version = splatkit_png_image_version()
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = splatkit_png_format_rgb()
        defer { png_image_free(&image) }

        var size: png_alloc_size_t = 0
        guard png_image_write_to_memory(&image, nil, &size, 0, components, 0, nil) != 0, size > 0 else {
            throw FileError("<memory>", "cannot encode PNG: \(pngMessage(image))")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let written = bytes.withUnsafeMutableBytes { buffer -> Int32 in
            png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, components, 0, nil)
        }
        guard written != 0 else {
            throw FileError("<memory>", "cannot encode PNG: \(pngMessage(image))")
        }
        return Array(bytes.prefix(Int(size)))
    }
}
