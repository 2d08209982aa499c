import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore

// Inpainting one picture of any size with a trained model, and the Gaussians it predicts on disk.
//
// `InpaintingModel.predict` pads the image at the bottom and right by reflection to the network's
// stride (16 for P = 16) and crops the render back, so any size works in one pass. Memory grows
// with the pixel count (about 0.6 KB per pixel for the CPU model: the U-Net's activations and
// one Gaussian per padded-window pixel), so pictures above `maximumPixels` (4096², ~10 GB) are
// refused with an error rather than exhausting memory.
//
// The predicted Gaussians are patch-local: patch k's G Gaussians render only inside its window,
// and overlapping windows are averaged (PatchRasterizer.swift). They are saved as they are
// rendered, with the geometry needed to render them again:
//   /gaussians          float32 (N, G, 8) screen features [mx, my, a, b, c, r, g, b], pixels of
//                       the padded image (the input's pixel coordinates: padding is bottom/right)
//   root attributes     format = "splatkit-patch-gaussians", format_version = 1,
//                       width, height (the padded render), image_width, image_height (the input),
//                       patch_size, patch_padding

/// Patch Gaussians of one inpainted image (see the file comment).
public struct PatchGaussianSet {
    /// Screen features (N, G, 8) in pixels of the padded image.
    public var gaussians: Tensor
    /// The padded size the patches tile.
    public var width: Int
    public var height: Int
    /// The input image's size (the render is cropped to it).
    public var imageWidth: Int
    public var imageHeight: Int
    public var options: PatchOptions

    public static let format = "splatkit-patch-gaussians"
    public static let formatVersion: Int64 = 1

    public init(gaussians: Tensor, width: Int, height: Int, imageWidth: Int, imageHeight: Int, options: PatchOptions) {
        precondition(gaussians.rank == 3 && gaussians.shape[2] == 8, "PatchGaussianSet: gaussians must be (N, G, 8), got \(gaussians.shape)")
        precondition(width % options.patchSize == 0 && height % options.patchSize == 0
                     && gaussians.shape[0] == (width / options.patchSize) * (height / options.patchSize),
                     "PatchGaussianSet: \(gaussians.shape[0]) patches do not tile \(width)×\(height) with P = \(options.patchSize)")
        (self.gaussians, self.width, self.height) = (gaussians, width, height)
        (self.imageWidth, self.imageHeight, self.options) = (imageWidth, imageHeight, options)
    }

    /// The render cropped to the input's size: (3, imageHeight, imageWidth).
    public func render() -> Tensor {
        withoutGradients {
            rasterizePatches(gaussians, width: width, height: height, options: options)
                .sliced(0..<imageHeight, alongAxis: 1).sliced(0..<imageWidth, alongAxis: 2)
        }
    }

    /// Writes the set atomically.
    public func write(to path: String) throws {
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write(gaussians.detached(), to: "gaussians")
            try file.setFormat(Self.format, version: Self.formatVersion)
            for (name, value) in [("width", width), ("height", height), ("image_width", imageWidth), ("image_height", imageHeight),
                                  ("patch_size", options.patchSize), ("patch_padding", options.padding)] {
                try file.setAttribute(name, to: value)
            }
            try file.close()
        }
    }

    /// Reads a set written by `write(to:)`, checking format, geometry and values.
    public init(contentsOf path: String) throws {
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        try file.checkFormat(Self.format, newestVersion: Self.formatVersion, kind: "patch-Gaussian file")
        func integer(_ name: String) throws -> Int { Int(try file.int64Attribute(name)) }
        let (width, height) = (try integer("width"), try integer("height"))
        let (imageWidth, imageHeight) = (try integer("image_width"), try integer("image_height"))
        let options = PatchOptions(patchSize: try integer("patch_size"), padding: try integer("patch_padding"))
        let tensor = try file.readTensor(from: "gaussians")
        guard options.patchSize >= 1, options.padding >= 0, width >= 1, height >= 1, width % options.patchSize == 0,
              height % options.patchSize == 0, (1...width).contains(imageWidth), (1...height).contains(imageHeight) else {
            throw FileError(path, "inconsistent geometry: \(width)×\(height) padded, \(imageWidth)×\(imageHeight) image, "
                            + "patch \(options.patchSize) pad \(options.padding)")
        }
        let patches = (width / options.patchSize) * (height / options.patchSize)
        guard tensor.rank == 3, tensor.shape[0] == patches, tensor.shape[2] == 8 else {
            throw FileError(path, "dataset 'gaussians' has shape \(tensor.shape), expected (\(patches), G, 8)")
        }
        guard tensor.scalars.allSatisfy({ $0.isFinite }) else { throw FileError(path, "dataset 'gaussians' holds NaN or infinite values") }
        self.init(gaussians: tensor, width: width, height: height, imageWidth: imageWidth, imageHeight: imageHeight, options: options)
    }
}

/// The result of inpainting one picture.
public struct InpaintedImage {
    /// Known pixels from the input, holes from the render: (3, H, W).
    public let image: Tensor
    /// The render of all predicted Gaussians: (3, H, W).
    public let render: Tensor
    public let gaussians: PatchGaussianSet
}

extension InpaintingModel {
    /// The largest picture `inpaint` accepts, in pixels.
    public static let maximumPixels = 4096 * 4096

    /// Inpaints one picture in inference mode.
    ///
    /// - Parameters:
    ///   - image: (3, H, W) in [0, 1].
    ///   - mask: (H·W) values, 1 = hole.
    ///   - features: precomputed global features (F) when the model uses them.
    public func inpaint(_ image: Tensor, mask: [Float], features: [Float]? = nil) -> InpaintedImage {
        precondition(image.rank == 3 && image.shape[0] == 3, "inpaint: image \(image.shape) must be (3, H, W)")
        let (H, W) = (image.shape[1], image.shape[2])
        precondition(mask.count == H * W, "inpaint: \(mask.count) mask values for \(W)×\(H)")
        return withoutGradients {
            let prediction = predict(image.reshaped([1, 3, H, W]), mask: Tensor(shape: [1, 1, H, W], scalars: mask),
                                     features: features.map { Tensor(shape: [1, $0.count], scalars: $0) }, training: false)
            let s = stride
            let (paddedH, paddedW) = ((H + s - 1) / s * s, (W + s - 1) / s * s)
            let g = prediction.gaussians
            let set = PatchGaussianSet(gaussians: g.reshaped([g.shape[1], g.shape[2], 8]), width: paddedW, height: paddedH,
                                       imageWidth: W, imageHeight: H, options: config.patchOptions)
            return InpaintedImage(image: prediction.image.reshaped([3, H, W]), render: prediction.render.reshaped([3, H, W]),
                                  gaussians: set)
        }
    }
}
