import Foundation
import SplatIO
import TensorCore

// The images an inpainting model trains and validates on, and the seeded batches drawn from them.
//
// A folder of PNGs (any sizes; sorted by name) is split once: every k-th file (k = count /
// validation count, starting at k − 1) is held out for validation, the rest train. The split is
// a function of the sorted names and the validation count, so `train-inpaint` can name the
// held-out files (validation.txt in the run folder) and `evaluate-inpaint --list` can use them.
// Or two lists name the training and validation images (paths relative to one root folder, so
// they may span subfolders: configs/inpaint/*.txt); they must not share an image.
//
// Training batch `step` (from 0) is a pure function of (seed, step): item b draws an image,
// a crop position, a horizontal flip and a mask from a generator seeded with (seed, step, b). No
// state needs saving to resume exactly. Images smaller than the crop are first scaled up (area
// preserving aspect) so their short side equals the crop. Masks follow the hole-ratio
// curriculum: at progress p = step / steps the target ratio is `curriculum.holeRatio(p)` ± 0.1;
// one item in five uses rectangles, the rest irregular strokes (Masks.swift).
//
// With precomputed features (semantic_source: precomputed), each batch item carries its source
// image's vector from an `ImageFeatures` file, whatever the crop and flip.
//
// Validation: each held-out image's centre square (side `validationSize`, scaled up first if
// needed) with two fixed masks, one small and one large, from `MaskGenerator(seed: 0)`.

/// An image folder split into training and validation images, all decoded in memory.
public struct InpaintingImageSet {
    /// The folder the images came from.
    public let folder: String
    /// File names (not paths) of the training images, sorted.
    public let trainNames: [String]
    /// File names of the held-out images, sorted.
    public let validationNames: [String]
    public let train: [RGBImage]
    public let validation: [RGBImage]
    /// Precomputed global features of each training and validation image (semantic_source:
    /// precomputed), in the same order; nil for the learned encoder.
    public let trainFeatures: [[Float]]?
    public let validationFeatures: [[Float]]?

    /// Reads every .png of `folder`, holding out `validationCount` of them, with each image's
    /// vector of `features` when given.
    ///
    /// - Throws: `FileError` naming the folder (missing, too few images), a file that does not
    ///   decode, or the features file when it lacks an image.
    public init(folder: String, validationCount: Int, features: ImageFeatures? = nil) throws {
        let names = try pngNames(in: folder)
        guard names.count > validationCount else {
            throw FileError(folder, "has \(names.count) PNG images; need more than the \(validationCount) held out for validation")
        }
        let held = Set(Self.heldOutIndices(count: names.count, validationCount: validationCount))
        self.folder = folder
        trainNames = names.indices.filter { !held.contains($0) }.map { names[$0] }
        validationNames = names.indices.filter { held.contains($0) }.map { names[$0] }
        let path = { (name: String) in (folder as NSString).appendingPathComponent(name) }
        train = try trainNames.map { try RGBImage(contentsOfPNG: path($0)) }
        validation = try validationNames.map { try RGBImage(contentsOfPNG: path($0)) }
        let (trainNames, validationNames) = (trainNames, validationNames)
        trainFeatures = try features.map { table in try trainNames.map { try table.vector(for: $0) } }
        validationFeatures = try features.map { table in try validationNames.map { try table.vector(for: $0) } }
    }

    /// The images named by `trainList` and `validationList` (files of paths relative to `root`,
    /// one a line; `readNameList`), with each image's vector of `features` when given.
    ///
    /// - Throws: `FileError` naming a list (unreadable, empty, naming a missing file, or sharing
    ///   an image with the other list), or a file that does not decode.
    public init(root: String, trainList: String, validationList: String, features: ImageFeatures? = nil) throws {
        let trainNames = try readNameList(at: trainList), validationNames = try readNameList(at: validationList)
        guard !trainNames.isEmpty else { throw FileError(trainList, "names no training image") }
        let shared = Set(trainNames).intersection(validationNames)
        guard shared.isEmpty else {
            throw FileError(validationList, "shares \(shared.count) image(s) with \(trainList), e.g. \(shared.sorted()[0]): the lists must be disjoint")
        }
        let path = { (name: String) in (root as NSString).appendingPathComponent(name) }
        for (list, names) in [(trainList, trainNames), (validationList, validationNames)] {
            if let missing = names.first(where: { !FileManager.default.fileExists(atPath: path($0)) }) {
                throw FileError(list, "names \(missing), which is not in \(root)")
            }
        }
        folder = root
        self.trainNames = trainNames
        self.validationNames = validationNames
        train = try trainNames.map { try RGBImage(contentsOfPNG: path($0)) }
        validation = try validationNames.map { try RGBImage(contentsOfPNG: path($0)) }
        trainFeatures = try features.map { table in try trainNames.map { try table.vector(for: $0) } }
        validationFeatures = try features.map { table in try validationNames.map { try table.vector(for: $0) } }
    }

    /// Indices k − 1, 2k − 1, … (k = count / validationCount) of `validationCount` held-out files.
    static func heldOutIndices(count: Int, validationCount: Int) -> [Int] {
        guard validationCount > 0 else { return [] }
        let every = count / validationCount
        return (0..<validationCount).map { ($0 + 1) * every - 1 }
    }
}

/// Images (B, 3, S, S) in [0, 1], hole masks (B, 1, S, S) with 1 = hole, and each image's
/// precomputed features (B, F) when the image set has them.
public struct InpaintingBatch {
    public let images: Tensor
    public let masks: Tensor
    public let features: Tensor?

    public init(images: Tensor, masks: Tensor, features: Tensor?) {
        self.images = images
        self.masks = masks
        self.features = features
    }

    /// Images `rows` of `batch` (a rank's share), with their masks and features.
    init(sharing rows: Range<Int>, of batch: InpaintingBatch) {
        self.init(images: batch.images.sliced(rows, alongAxis: 0), masks: batch.masks.sliced(rows, alongAxis: 0),
                  features: batch.features?.sliced(rows, alongAxis: 0))
    }
}

/// Seeded training batches and the fixed validation batch of an `InpaintingImageSet`.
public struct InpaintingBatchSampler {
    public let images: InpaintingImageSet
    public let cropSize: Int
    public let batchSize: Int
    public let seed: UInt64
    public let curriculum: MaskCurriculum

    public init(images: InpaintingImageSet, cropSize: Int, batchSize: Int, seed: UInt64, curriculum: MaskCurriculum) {
        precondition(!images.train.isEmpty, "InpaintingBatchSampler: no training images")
        self.images = images
        self.cropSize = cropSize
        self.batchSize = batchSize
        self.seed = seed
        self.curriculum = curriculum
    }

    /// Batch `step` of a run of `steps`.
    public func batch(step: Int, steps: Int) -> InpaintingBatch {
        let S = cropSize
        let ratios = curriculum.holeRatioRange(progress: Double(step) / Double(max(steps, 1)))
        let masks = MaskGenerator(width: S, height: S, seed: seed ^ 0x4D41_534B)
        var pixels: [Float] = [], holes: [Float] = [], chosen: [Int] = []
        pixels.reserveCapacity(batchSize * 3 * S * S)
        for item in 0..<batchSize {
            var generator = RandomGenerator(seed: seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(item) &* 0xD1B5_4A32_D192_ED03)
            chosen.append(generator.nextInt(below: images.train.count))
            let source = covering(images.train[chosen[item]], width: S, height: S)
            let left = generator.nextInt(below: source.width - S + 1), top = generator.nextInt(below: source.height - S + 1)
            let flip = generator.nextUniform() < 0.5
            let crop = source.cropped(left: left, top: top, width: S, height: S)
            pixels += flip ? Self.planar(crop.flippedHorizontally()) : Self.planar(crop)
            let index = step * batchSize + item
            holes += masks.mask(index: index, holeRatio: ratios, style: index % 5 == 4 ? .boxes : .irregular)
        }
        return InpaintingBatch(images: Tensor(shape: [batchSize, 3, S, S], scalars: pixels),
                               masks: Tensor(shape: [batchSize, 1, S, S], scalars: holes),
                               features: images.trainFeatures.map { vectors in Self.featureBatch(chosen.map { vectors[$0] }) })
    }

    /// Vectors as a batch (B, F).
    static func featureBatch(_ vectors: [[Float]]) -> Tensor {
        Tensor(shape: [vectors.count, vectors.first?.count ?? 0], scalars: vectors.flatMap { $0 })
    }

    /// The validation batch: each held-out image's centre square of side `size`, twice, with a
    /// small then a large mask: images (2V, 3, size, size), masks (2V, 1, size, size), features (2V, F).
    public func validationBatch(size: Int) -> InpaintingBatch {
        let masks = MaskGenerator(width: size, height: size, seed: 0)
        var pixels: [Float] = [], holes: [Float] = []
        for (index, image) in images.validation.enumerated() {
            let crop = centreFitted(image, width: size, height: size)
            for kind in [MaskKind.small, .large] {
                pixels += Self.planar(crop)
                holes += masks.mask(index: index, kind: kind)
            }
        }
        let count = 2 * images.validation.count
        return InpaintingBatch(images: Tensor(shape: [count, 3, size, size], scalars: pixels),
                               masks: Tensor(shape: [count, 1, size, size], scalars: holes),
                               features: images.validationFeatures.map { Self.featureBatch($0.flatMap { [$0, $0] }) })
    }

    /// RGBImage's interleaved pixels as planes (3·H·W).
    static func planar(_ image: RGBImage) -> [Float] { image.tensor().scalars }
}

/// `image` scaled up (keeping its aspect) so it covers width × height; unchanged if it does.
func covering(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    let scale = max(Double(width) / Double(image.width), Double(height) / Double(image.height))
    guard scale > 1 else { return image }
    return image.resized(width: max(width, Int((Double(image.width) * scale).rounded(.up))),
                         height: max(height, Int((Double(image.height) * scale).rounded(.up))))
}

/// `image` unchanged at width × height, else scaled to cover it and centre-cropped.
func centreFitted(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    if image.width == width && image.height == height { return image }
    let cover = covering(image, width: width, height: height)
    return cover.cropped(left: (cover.width - width) / 2, top: (cover.height - height) / 2, width: width, height: height)
}
