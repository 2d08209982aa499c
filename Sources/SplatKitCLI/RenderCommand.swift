import ArgumentParser
import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore

/// `splatkit render GAUSSIANS --output OUT.png`: renders a Gaussian set at any resolution.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render a Gaussian set (HDF5) to a PNG at any resolution.")

    @Argument(help: "The Gaussian set (HDF5, as written by `splatkit fit`).")
    var gaussians: String

    @Option(help: "Output PNG.")
    var output: String

    @Option(help: "Width in pixels (default: the source image's; height follows its aspect unless given).")
    var width: Int?

    @Option(help: "Height in pixels (default: the source image's, or width's aspect).")
    var height: Int?

    @Option(help: "Rasterizer: topk (Image-GS) or additive (GaussianImage).")
    var rasterizer: RasterizerKind = .topk

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let set = try GaussianSet(contentsOf: gaussians)
        let (outputWidth, outputHeight) = resolvedSize(sourceWidth: set.width, sourceHeight: set.height)
        guard outputWidth >= 1, outputHeight >= 1, outputWidth * outputHeight <= 100_000_000 else {
            throw ValidationError("output size \(outputWidth)×\(outputHeight) must be between 1 and 10⁸ pixels")
        }
        // Positions are normalised, so the set renders at any size; σ is in source pixels and
        // scales with the image: inverse σ (columns 2–3) shrink by the magnification.
        let magnification = Float(outputWidth) / Float(set.width)
        var scaled = set.gaussians.scalars
        for g in 0..<set.gaussians.shape[0] {
            scaled[g * 8 + ImageGSColumn.scaleX] /= magnification
            scaled[g * 8 + ImageGSColumn.scaleY] /= Float(outputHeight) / Float(set.height)
        }
        let image = withoutGradients {
            rasterizer.render(Tensor(shape: set.gaussians.shape, scalars: scaled), width: outputWidth, height: outputHeight)
        }
        try RGBImage(tensor: image).writePNG(to: output)
        print("rendered \(set.gaussians.shape[0]) Gaussians at \(outputWidth)×\(outputHeight) → \(output)")
    }

    func resolvedSize(sourceWidth: Int, sourceHeight: Int) -> (Int, Int) {
        switch (width, height) {
        case let (w?, h?): return (w, h)
        case let (w?, nil): return (w, Swift.max(1, Int((Double(w) * Double(sourceHeight) / Double(sourceWidth)).rounded())))
        case let (nil, h?): return (Swift.max(1, Int((Double(h) * Double(sourceWidth) / Double(sourceHeight)).rounded())), h)
        case (nil, nil): return (sourceWidth, sourceHeight)
        }
    }
}
