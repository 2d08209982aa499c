import ArgumentParser
import Foundation
import NeuralNetwork
import Inpainting
import SplatIO
import TensorCore

/// `splatkit inpaint`: fills the holes of one image with the Gaussians a trained model predicts.
struct InpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Fill the holes of an image (mask PNG: white = hole) with predicted 2D Gaussians.",
        discussion: """
            Any image size: the network pads to its stride (16) by reflection and crops back. Known pixels \
            are kept exactly. Without --model, uses the shipped models/inpaint_cpu.h5 (see models/README.md).
            """)

    @Option(help: "The image (PNG).")
    var image: String

    @Option(help: "The hole mask (PNG of the image's size, white = hole).")
    var mask: String

    @Option(help: "The inpainted image (PNG).")
    var output: String

    @Option(help: "An inpainting model (model.h5 or a checkpoint of train-inpaint); default: the shipped one.")
    var model: String?

    @Option(help: "Also write the predicted patch Gaussians (HDF5; layout in docs/FORMATS.md).")
    var gaussians: String?

    @Option(help: "Also write the render of all predicted Gaussians, known pixels included (PNG).")
    var render: String?

    @Option(help: "Precomputed image features (HDF5, docs/FORMATS.md), for models with semantic_source: precomputed.")
    var features: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try requireOutputs([output, gaussians, render], notAmong: [image, mask, model, features])
        let picture = try RGBImage(contentsOfPNG: image)
        guard picture.width * picture.height <= InpaintingModel.maximumPixels else {
            throw FileError(image, "is \(picture.width)×\(picture.height); inpaint accepts at most \(InpaintingModel.maximumPixels) pixels")
        }
        let holes = try HoleMask.read(from: mask, width: picture.width, height: picture.height, imageName: image)
        let resolved = try InpaintingCheckpoint.resolve(model: model, features: features)
        let (network, modelPath, table) = (resolved.model, resolved.path, resolved.features)
        let start = monotonicSeconds()
        let result = network.inpaint(picture.tensor(), mask: holes, features: try table?.vector(for: image))
        let seconds = monotonicSeconds() - start
        try RGBImage(tensor: result.image.clamped(min: 0, max: 1)).writePNG(to: output)
        if let render { try RGBImage(tensor: result.render.clamped(min: 0, max: 1)).writePNG(to: render) }
        if let gaussians { try result.gaussians.write(to: gaussians) }
        let count = result.gaussians.gaussians.shape[0] * result.gaussians.gaussians.shape[1]
        print(String(format: "inpainted %@ (%d×%d, %.1f %% hole) with %@: %@ Gaussians in %.0f ms → %@", image as NSString,
                     picture.width, picture.height, 100 * Double(holeRatio(holes)), modelPath as NSString,
                     groupedDigits(count) as NSString, seconds * 1000, output as NSString))
    }
}

/// Which images and masks `evaluate-inpaint` and `report inpaint` use (InpaintingEvaluation.swift).
struct InpaintingItemOptions: ParsableArguments {
    @Option(help: "Folder of PNG images.")
    var images: String

    @Option(help: "Folder of mask PNGs (white = hole); without it masks are generated.")
    var masks: String?

    @Option(help: "Only the images named in this file, one per line (e.g. validation.txt of a train-inpaint run).")
    var list: String?

    @Option(parsing: .upToNextOption, help: "Generated mask classes (small, large, box).")
    var kind: [MaskKind] = [.small, .large]

    @Option(help: "Side of generated masks (images are scaled and centre-cropped to it).")
    var size: Int = 256

    @Flag(help: "Generate masks of each image's own size instead (whole photos: nothing scaled or cropped; ignores --size).")
    var fullSize = false

    @Option(help: "Seed of generated masks.")
    var seed: UInt64 = 0

    @Option(help: "Use at most this many images (the first in name order).")
    var limit: Int?

    @Option(help: "Precomputed image features (HDF5), for models with semantic_source: precomputed.")
    var features: String?

    func validate() throws {
        guard (16...4096).contains(size) else { throw ValidationError("--size must be in 16…4096, got \(size)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard !kind.isEmpty else { throw ValidationError("--kind needs at least one class") }
    }

    /// The model of `--model` (nil: the shipped one) with the features this selection names.
    func model(_ path: String?) throws -> (model: InpaintingModel, path: String, features: ImageFeatures?) {
        let resolved = try InpaintingCheckpoint.resolve(model: path, features: features)
        return (resolved.model, resolved.path, resolved.features)
    }

    func items(features table: ImageFeatures?) throws -> [InpaintingEvaluationItem] {
        try InpaintingEvaluationSet.items(images: images, list: list, masks: masks, kinds: kind, size: fullSize ? nil : size, seed: seed,
                                          limit: limit,
                                          features: table)
    }
}
