import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore

// A fitted Gaussian set on disk (HDF5; layout in docs/FORMATS.md, "Gaussian sets"):
//   /gaussians            float32 (N, 8), Image-GS convention (see GaussianConventions.swift)
//   root attributes       format = "splatkit-gaussians", format_version = 1,
//                         convention = "imagegs", width, height (of the source image),
//                         psnr, ssim, recipe, steps (of the fit; absent when unknown)

/// A Gaussian set with the facts of the image and fit it came from.
public struct GaussianSet {
    /// Image-GS parameters (N, 8).
    public var gaussians: Tensor
    /// Size of the source image, which `render` uses by default.
    public var width: Int
    public var height: Int
    public var psnr: Double?
    public var ssim: Double?
    /// How the Gaussians were made (SetRecipe.swift); nil when unknown.
    public var recipe: SetRecipe?
    public var steps: Int?

    public static let format = "splatkit-gaussians"
    public static let formatVersion: Int64 = 1
    /// The largest source side a set file may record.
    public static let maximumSide = 65_536

    public init(gaussians: Tensor, width: Int, height: Int, psnr: Double? = nil, ssim: Double? = nil,
                recipe: SetRecipe? = nil, steps: Int? = nil) {
        precondition(gaussians.rank == 2 && gaussians.shape[1] == ImageGSColumn.count,
                     "GaussianSet: gaussians must be (N, 8), got \(gaussians.shape)")
        self.gaussians = gaussians
        self.width = width
        self.height = height
        self.psnr = psnr
        self.ssim = ssim
        self.recipe = recipe
        self.steps = steps
    }

    /// Writes the set atomically (temporary file, then rename).
    public func write(to path: String) throws {
        guard gaussians.scalars.allSatisfy({ $0.isFinite }) else {
            throw FileError(path, "not written: the set holds NaN or infinite values (a diverged fit?)")
        }
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write(gaussians.detached(), to: "gaussians")
            try file.setFormat(GaussianSet.format, version: GaussianSet.formatVersion)
            try file.setAttribute("convention", to: "imagegs")
            try file.setAttribute("width", to: width)
            try file.setAttribute("height", to: height)
            if let psnr { try file.setAttribute("psnr", to: psnr) }
            if let ssim { try file.setAttribute("ssim", to: ssim) }
            if let recipe { try file.setAttribute("recipe", to: recipe.description) }
            if let steps { try file.setAttribute("steps", to: steps) }
            try file.close()
        }
    }

    /// Reads a set written by `write(to:)`, checking its format, version, shape and values.
    public init(contentsOf path: String) throws {
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        try file.checkFormat(GaussianSet.format, newestVersion: GaussianSet.formatVersion, kind: "Gaussian set")
        let convention = try file.stringAttribute("convention")
        guard convention == "imagegs" else { throw FileError(path, "unknown Gaussian convention '\(convention)'") }
        let tensor = try file.readTensor(from: "gaussians")
        guard tensor.rank == 2, tensor.shape[1] == ImageGSColumn.count else {
            throw FileError(path, "dataset 'gaussians' has shape \(tensor.shape), expected (N, 8)")
        }
        guard tensor.scalars.allSatisfy({ $0.isFinite }) else { throw FileError(path, "dataset 'gaussians' holds NaN or infinite values") }
        let width = Int(try file.int64Attribute("width")), height = Int(try file.int64Attribute("height"))
        guard (1...GaussianSet.maximumSide).contains(width), (1...GaussianSet.maximumSide).contains(height) else {
            throw FileError(path, "source size \(width)×\(height) is invalid (sides must be 1...\(GaussianSet.maximumSide))")
        }
        let recipe = try (try? file.stringAttribute("recipe")).map { try SetRecipe.read($0, in: path) }
        self.init(gaussians: tensor, width: width, height: height,
                  psnr: try? file.doubleAttribute("psnr"), ssim: try? file.doubleAttribute("ssim"),
                  recipe: recipe, steps: (try? file.int64Attribute("steps")).map(Int.init))
    }
}

extension GaussianSet {
    /// The set drawn at `width` × `height` (default: its source size) by the rasterizer its
    /// recipe fitted for (`SetRenderer(recipe:)`), σ rescaled to the size (`scaledForOutput`),
    /// clamped to [0, 1]: (3, H, W).
    public func render(width outputWidth: Int? = nil, height outputHeight: Int? = nil) -> Tensor {
        let w = outputWidth ?? width, h = outputHeight ?? height
        let rows = scaledForOutput(gaussians, fittedWidth: width, fittedHeight: height, width: w, height: h)
        return withoutGradients { SetRenderer(recipe: recipe).render(rows, width: w, height: h).clamped(min: 0, max: 1) }
    }
}
