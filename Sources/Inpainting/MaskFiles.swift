import Foundation
import SplatIO
import TensorCore

// Hole masks on disk and as tensors.
//
// Files are PNGs, white = hole, black = known: written as 8-bit RGB with all three channels
// equal (0 or 255); read from any PNG libpng accepts, a pixel being a hole when the mean of its
// red, green and blue is at least ½. In memory a mask is [Float] (H·W, row-major) or a tensor
// (B, 1, H, W), 1 = hole (InpaintingModel.swift).

/// Reading, writing and batching hole masks.
public enum HoleMask {
    /// Reads a mask PNG: (values (H·W), 1 = hole; width; height).
    public static func read(from path: String) throws -> (mask: [Float], width: Int, height: Int) {
        let image = try RGBImage(contentsOfPNG: path)
        var mask = [Float](repeating: 0, count: image.width * image.height)
        for p in 0..<mask.count {
            let sum = image.pixels[3 * p] + image.pixels[3 * p + 1] + image.pixels[3 * p + 2]
            mask[p] = sum >= 1.5 ? 1 : 0
        }
        return (mask, image.width, image.height)
    }

    /// Reads the mask PNG for an image of `width` × `height`; a mask of another size is a
    /// `FileError` naming the mask file and both sizes.
    public static func read(from path: String, width: Int, height: Int, imageName: String? = nil) throws -> [Float] {
        let (mask, maskWidth, maskHeight) = try read(from: path)
        guard maskWidth == width && maskHeight == height else {
            let image = imageName.map { "the image \($0)" } ?? "the image"
            throw FileError(path, "mask is \(maskWidth)×\(maskHeight) but \(image) is \(width)×\(height)")
        }
        return mask
    }

    /// Writes a mask (H·W, hole ≥ ½) as a PNG, white = hole, atomically.
    public static func write(_ mask: [Float], width: Int, height: Int, to path: String) throws {
        precondition(mask.count == width * height, "HoleMask.write: \(mask.count) values for \(width)×\(height)")
        let pixels = mask.flatMap { value -> [Float] in value >= 0.5 ? [1, 1, 1] : [0, 0, 0] }
        try RGBImage(width: width, height: height, pixels: pixels).writePNG(to: path)
    }

    /// Masks of one size as a batch (B, 1, H, W).
    public static func tensor(_ masks: [[Float]], width: Int, height: Int) -> Tensor {
        precondition(!masks.isEmpty && masks.allSatisfy { $0.count == width * height },
                     "HoleMask.tensor: every mask must have \(width)×\(height) values")
        return Tensor(shape: [masks.count, 1, height, width], scalars: masks.flatMap { $0 })
    }
}
