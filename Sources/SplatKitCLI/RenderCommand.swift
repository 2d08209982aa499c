import ArgumentParser
import Foundation
import GaussianFitting
import GaussianRasterizer
import Reports
import SplatIO
import TensorCore

/// `splatkit render GAUSSIANS --output OUT.png`: renders a Gaussian set at any resolution, or
/// with `--visualize` a diagnostic picture of it (Reports/GaussianVisualization.swift).
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render a Gaussian set (HDF5) to a PNG at any resolution.",
        discussion: """
            --visualize ellipses draws the render lightened halfway to white with every Gaussian's \
            --sigma·σ contour (default 2σ) outlined 1 px in black; --visualize ids renders every Gaussian \
            in a random identity colour (seeded by --seed) with the chosen rasterizer.
            """)

    @Argument(help: "The Gaussian set (HDF5, as written by `splatkit fit`).")
    var gaussians: String

    @Option(help: "Output PNG.")
    var output: String

    @Option(help: "Width in pixels (default: the source image's; height follows its aspect unless given).")
    var width: Int?

    @Option(help: "Height in pixels (default: the source image's, or width's aspect).")
    var height: Int?

    @Option(help: "Rasterizer: topk (Image-GS) or additive (GaussianImage); default: the one the set's recipe fitted for.")
    var rasterizer: SetRenderer?

    @Option(help: "Draw a diagnostic picture instead: ellipses (σ contours) or ids (identity colours).")
    var visualize: Visualization?

    @Option(help: "With --visualize ellipses: the contour drawn, in standard deviations.")
    var sigma: Double = 2

    @Option(help: "With --visualize ids: the seed of the identity colours.")
    var seed: UInt64 = 0

    @OptionGroup var compute: ComputeOptions

    /// The diagnostic pictures of `--visualize`.
    enum Visualization: String, ExpressibleByArgument, CaseIterable {
        case ellipses, ids
    }

    func validate() throws {
        guard sigma > 0 && sigma <= 100 else { throw ValidationError("--sigma must be in (0, 100], got \(sigma)") }
        for (name, value) in [("--width", width), ("--height", height)] {
            if let value { guard (1...65_536).contains(value) else { throw ValidationError("\(name) must be in 1...65536, got \(value)") } }
        }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([output], notAmong: [gaussians])
        let set = try GaussianSet(contentsOf: gaussians)
        let (outputWidth, outputHeight) = resolvedSize(sourceWidth: set.width, sourceHeight: set.height)
        guard (1...65_536).contains(outputWidth), (1...65_536).contains(outputHeight), outputWidth * outputHeight <= 100_000_000 else {
            throw ValidationError("output size \(outputWidth)×\(outputHeight) must be between 1 and 10⁸ pixels")
        }
        var parameters = scaledForOutput(set.gaussians, fittedWidth: set.width, fittedHeight: set.height,
                                         width: outputWidth, height: outputHeight)
        if visualize == .ids { parameters = identityColoured(parameters, seed: seed) }
        let renderer = rasterizer ?? SetRenderer(recipe: set.recipe)
        let rendered = withoutGradients { renderer.render(parameters, width: outputWidth, height: outputHeight) }
        var image = RGBImage(tensor: rendered)
        if visualize == .ellipses { image = ellipseOutlines(parameters, on: image, sigmas: sigma) }
        try image.writePNG(to: output)
        let picture = visualize.map { $0 == .ellipses ? "\(formatNumber(sigma))σ ellipses of " : "identity colours of " } ?? ""
        print("rendered \(picture)\(set.gaussians.shape[0]) Gaussians at \(outputWidth)×\(outputHeight) → \(output)")
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

extension SetRenderer: ExpressibleByArgument {}
