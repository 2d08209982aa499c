import Foundation
import SplatIO
import TensorCore

// Evaluating an inpainting model on a folder of images with hole masks.
//
// Items. Images are the folder's PNGs (sorted; optionally only the names of a list file, e.g.
// the validation.txt a training run wrote). Masks come either from a folder of mask PNGs
// (sorted; image i gets mask i mod count) or are generated per image and class (MaskGenerator
// with the given seed: image i gets mask i of each class). Every image is brought to the
// mask's size: unchanged when it already has it, else scaled up if needed to cover it and
// centre-cropped (so photos of any shape can be scored against square masks). Generated masks
// are size × size, or each image's own size (size nil: whole photos, nothing scaled or cropped).
//
// Each item is inpainted, scored (InpaintingScores.swift) and compared with a classical fill
// of the same holes (push-pull diffusion, ClassicalFill.swift), so a reader can see what the
// network adds over smooth interpolation.

/// One image with one mask, ready to inpaint.
public struct InpaintingEvaluationItem {
    /// The image's file name.
    public let imageName: String
    /// The mask's file name, or its class ("small", "large", "box") when generated.
    public let maskName: String
    /// The group the item's scores are averaged in: the mask class, or "masks" for a folder.
    public let group: String
    /// (3, H, W) in [0, 1].
    public let image: Tensor
    /// (H·W), 1 = hole.
    public let mask: [Float]
    /// The image's precomputed global features, for models with semantic_source: precomputed.
    public let features: [Float]?
}

extension InpaintingEvaluationItem {
    /// The image as the network is asked to fill it, holes painted white (for display).
    public var maskedInput: RGBImage {
        var picture = RGBImage(tensor: image)
        for p in 0..<mask.count where mask[p] >= 0.5 { for c in 0..<3 { picture.pixels[3 * p + c] = 1 } }
        return picture
    }
}

/// Results grouped by their items' mask group, groups in first-seen order.
public func groupedByMask(_ results: [InpaintingEvaluationResult]) -> [(group: String, results: [InpaintingEvaluationResult])] {
    var order: [String] = [], members: [String: [InpaintingEvaluationResult]] = [:]
    for result in results {
        if members[result.item.group] == nil { order.append(result.item.group) }
        members[result.item.group, default: []].append(result)
    }
    return order.map { ($0, members[$0]!) }
}

/// What evaluating one item gave.
public struct InpaintingEvaluationResult {
    public let item: InpaintingEvaluationItem
    public let output: InpaintedImage
    public let scores: InpaintingScores
    /// The classical fill's scores on the same holes.
    public let baselineScores: InpaintingScores
    /// The classical fill itself, as scored: (3, H, W).
    public let baselineOutput: Tensor
}

/// Builds evaluation items (see the file comment).
public enum InpaintingEvaluationSet {
    /// - Parameters:
    ///   - images: folder of PNG images.
    ///   - list: a file of image names, one per line (blank lines and `#` comments ignored), or nil for all.
    ///   - masks: folder of mask PNGs (white = hole), or nil to generate masks of `kinds`.
    ///   - kinds, size, seed: the generated masks' classes, side (nil: each image's own size) and seed.
    ///   - limit: at most this many images (the first in sorted order).
    ///   - features: each image's precomputed features, looked up by file name.
    public static func items(images: String, list: String? = nil, masks: String? = nil, kinds: [MaskKind] = [.small, .large],
                             size: Int? = 256, seed: UInt64 = 0, limit: Int? = nil,
                             features: ImageFeatures? = nil) throws -> [InpaintingEvaluationItem] {
        var names: [String]
        if let list {  // paths relative to `images`, which may reach into subfolders
            names = try readNameList(at: list)
            let missing = names.filter { !FileManager.default.fileExists(atPath: (images as NSString).appendingPathComponent($0)) }
            guard missing.isEmpty else { throw FileError(list, "names images not in \(images): \(missing.prefix(3).joined(separator: ", "))") }
        } else {
            names = try pngNames(in: images)
        }
        if let limit { names = Array(names.prefix(limit)) }
        guard !names.isEmpty else { throw FileError(images, "has no PNG images to evaluate") }
        let path = { (folder: String, name: String) in (folder as NSString).appendingPathComponent(name) }
        if let masks {
            let maskNames = try pngNames(in: masks)
            guard !maskNames.isEmpty else { throw FileError(masks, "has no PNG masks") }
            return try names.enumerated().map { index, name in
                let maskName = maskNames[index % maskNames.count]
                let (mask, width, height) = try HoleMask.read(from: path(masks, maskName))
                let image = try centreFitted(RGBImage(contentsOfPNG: path(images, name)), width: width, height: height)
                return InpaintingEvaluationItem(imageName: name, maskName: maskName, group: "masks", image: image.tensor(), mask: mask,
                                                features: try features?.vector(for: name))
            }
        }
        return try names.enumerated().flatMap { index, name -> [InpaintingEvaluationItem] in
            let picture = try RGBImage(contentsOfPNG: path(images, name))
            let (width, height) = size.map { ($0, $0) } ?? (picture.width, picture.height)
            guard min(width, height) >= 16 && width * height <= InpaintingModel.maximumPixels else {
                throw FileError(path(images, name), "is \(width)×\(height); whole images must be at least 16 pixels a side "
                                + "and at most \(InpaintingModel.maximumPixels) pixels")
            }
            let image = centreFitted(picture, width: width, height: height).tensor()
            let generator = MaskGenerator(width: width, height: height, seed: seed)
            let vector = try features?.vector(for: name)
            return kinds.map { kind in
                InpaintingEvaluationItem(imageName: name, maskName: kind.rawValue, group: kind.rawValue, image: image,
                                         mask: generator.mask(index: index, kind: kind), features: vector)
            }
        }
    }

}

extension InpaintingModel {
    /// Inpaints and scores `item`, with the classical fill's scores beside.
    public func evaluate(_ item: InpaintingEvaluationItem) -> InpaintingEvaluationResult {
        let (H, W) = (item.image.shape[1], item.image.shape[2])
        let output = inpaint(item.image, mask: item.mask, features: item.features)
        let target = item.image.reshaped([1, 3, H, W]), mask = Tensor(shape: [1, 1, H, W], scalars: item.mask)
        let scores = inpaintingScores(output: output.image.reshaped([1, 3, H, W]), target: target, mask: mask)[0]
        let fill = Tensor(shape: [1, 3, H, W], scalars: pushPullFill(item.image.scalars, mask: item.mask, width: W, height: H))
        let baseline = inpaintingScores(output: fill, target: target, mask: mask)[0]
        return InpaintingEvaluationResult(item: item, output: output, scores: scores, baselineScores: baseline,
                                          baselineOutput: fill.reshaped([3, H, W]))
    }
}
