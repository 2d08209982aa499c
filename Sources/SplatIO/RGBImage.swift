import TensorCore

/// An RGB image with float32 components, nominally in [0, 1].
///
/// Layout: `pixels` is (H, W, 3) row-major and interleaved — pixel (y, x) has its red, green
/// and blue at `pixels[(y * width + x) * 3 + 0...2]`, rows top to bottom. This is the layout
/// of the PNG file; models use the channel-first (3, H, W) `Tensor`, converted here at the IO
/// boundary by `init(tensor:)` and `tensor()`.
///
/// Reading and writing PNG files is in `PNGImage.swift`.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// (H, W, 3) interleaved, row-major.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0, "RGBImage: negative size \(width)×\(height)")
        precondition(
            pixels.count == width * height * 3,
            "RGBImage: \(width)×\(height) needs \(width * height * 3) components, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [Float](repeating: 0, count: width * height * 3))
    }

    /// The red, green and blue components of pixel (y, x).
    public subscript(y: Int, x: Int) -> (red: Float, green: Float, blue: Float) {
        precondition((0..<height).contains(y) && (0..<width).contains(x), "RGBImage: pixel (\(y), \(x)) outside \(width)×\(height)")
        let base = (y * width + x) * 3
        return (pixels[base], pixels[base + 1], pixels[base + 2])
    }

    /// An image from a channel-first tensor of shape (3, H, W).
    public init(tensor: Tensor) {
        precondition(
            tensor.rank == 3 && tensor.shape[0] == 3,
            "RGBImage(tensor:): expected shape (3, H, W), got \(tensor.shape)")
        let height = tensor.shape[1], width = tensor.shape[2]
        let planeSize = height * width
        let planes = tensor.scalars
        var pixels = [Float](repeating: 0, count: planeSize * 3)
        for index in 0..<planeSize {
            pixels[index * 3] = planes[index]
            pixels[index * 3 + 1] = planes[planeSize + index]
            pixels[index * 3 + 2] = planes[2 * planeSize + index]
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The image as a channel-first tensor of shape (3, H, W) (no gradient).
    public func tensor() -> Tensor {
        let planeSize = height * width
        var planes = [Float](repeating: 0, count: planeSize * 3)
        for index in 0..<planeSize {
            planes[index] = pixels[index * 3]
            planes[planeSize + index] = pixels[index * 3 + 1]
            planes[2 * planeSize + index] = pixels[index * 3 + 2]
        }
        return Tensor(shape: [3, height, width], scalars: planes)
    }
}
