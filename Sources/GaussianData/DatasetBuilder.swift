import Foundation
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

// Batch fitting of many images into a Gaussian dataset, resumable and parallel.
//
// Items are fitted in windows of a few per worker, in parallel (each fit single-threaded, so
// the workers share the cores), and appended in input order when the whole window is done, so
// the file's contents do not depend on scheduling. Every append is flushed: after an
// interruption, running the same build again continues at the first item not yet written and
// fits nothing twice; the result equals an uninterrupted build. The fit of item i is seeded
// with (seed, i), so it does not depend on which items were fitted before it.
//
// Several processes (`mpirun -np N`): the window grows to 2 · workers · N items, each rank fits
// a contiguous share of it, and rank 0 gathers the fitted items (a few KiB each, against
// seconds of fitting) and appends them exactly as one process would. Rank 0 gathers rather than
// each rank writing a shard to merge later because the one file, its order and its resume
// logic then stay what they are for one process: the bytes are the same for any N, an
// interrupted build resumes with any N, there are no shards to find, merge or clean up, and
// only rank 0 needs to see the output folder (every rank reads the inputs).

/// Where a build's images come from.
public enum DatasetSource {
    /// The PNG files of a folder, in name order.
    case images(folder: String)
    /// `count` procedural abstract-art images (see ProceduralArt.swift).
    case procedural(count: Int, seed: UInt64)

    /// The item names, in build order: the PNG file names, or with `crops` > 1 (images only)
    /// each file's crops `photo.png#crop00 …` (PhotoCrop.swift), or `art_00000 …`.
    public func names(crops: Int = 1) throws -> [String] {
        switch self {
        case .images(let folder):
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
                throw FileError(folder, "cannot list the image folder: \(error.localizedDescription)")
            }
            let pngs = entries.filter { $0.lowercased().hasSuffix(".png") }.sorted()
            guard !pngs.isEmpty else { throw FileError(folder, "no .png images in this folder") }
            guard crops > 1 else { return pngs }
            return pngs.flatMap { photo in (0..<crops).map { PhotoCrop.itemName(photo: photo, crop: $0, of: crops) } }
        case .procedural(let count, _):
            precondition(crops == 1, "DatasetSource: crops are cut from photos, not procedural images")
            let digits = Swift.max(5, String(count - 1).count)
            return (0..<count).map { "art_" + zeroPadded($0, digits: digits) }
        }
    }

    /// Item `index` (named `name`) prepared as the dataset's size × size square, and the size of
    /// its original (see `prepared(photo:index:settings:keepAspect:)`).
    func load(index: Int, name: String, settings: DatasetSettings, keepAspect: Bool) throws -> (image: RGBImage, width: Int, height: Int) {
        let size = settings.imageSize
        switch self {
        case .images(let folder):
            let file = settings.crops > 1 ? PhotoCrop.parse(itemName: name)?.photo ?? name : name
            let original = try RGBImage(contentsOfPNG: (folder as NSString).appendingPathComponent(file))
            return (Self.prepared(photo: original, index: index, settings: settings, keepAspect: keepAspect), original.width, original.height)
        case .procedural(_, let seed):
            return (ProceduralArt.image(index: index, size: size, seed: seed), size, size)
        }
    }

    /// The photo `original` as item `index` of a build with `settings` fits it, a size × size
    /// square (`settings.imageSize`): centre-cropped (or the whole image with `keepAspect`), or
    /// crop k of photo i when the settings ask for crops (item index = i · crops + k). Also how
    /// `SourceImages` finds an item's source again.
    static func prepared(photo original: RGBImage, index: Int, settings: DatasetSettings, keepAspect: Bool = false) -> RGBImage {
        let size = settings.imageSize
        guard settings.crops > 1 else { return original.preparedSquare(size: size, keepAspect: keepAspect) }
        let cut = PhotoCrop(seed: settings.seed, photo: index / settings.crops, crop: index % settings.crops,
                            width: original.width, height: original.height, flip: settings.flipCrops)
        return cut.apply(to: original, size: size)
    }
}

/// `number` in decimal, zero-padded on the left to `digits` digits.
func zeroPadded(_ number: Int, digits: Int) -> String {
    let text = String(number)
    return String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
}

/// Progress of a build, reported after every committed window.
public struct BuildProgress: Sendable {
    public let done: Int
    public let total: Int
    /// Items fitted in this run (not counting those found already done).
    public let fittedThisRun: Int
    public let imagesPerMinute: Double
    public let meanPSNR: Double
    public var estimatedSecondsLeft: Double { Double(total - done) / Swift.max(imagesPerMinute / 60, 1e-9) }
}

/// Builds (or resumes) a Gaussian dataset.
public struct DatasetBuilder {
    public var source: DatasetSource
    public var output: String
    public var settings: DatasetSettings
    public var workers: Int
    public var keepAspect = false

    public init(source: DatasetSource, output: String, settings: DatasetSettings, workers: Int) {
        self.source = source
        self.output = output
        self.settings = settings
        self.workers = Swift.max(1, workers)
    }

    /// The item names in build order (each photo's crops when `settings.crops` > 1).
    public func itemNames() throws -> [String] { try source.names(crops: settings.crops) }

    /// Fit options for item `index` (a build's settings name a SplatKit recipe: `run` checks).
    func fitOptions(index: Int) -> FitOptions {
        var options = FitOptions()
        options.gaussians = settings.setSize
        options.steps = settings.steps
        options.recipe = settings.fitRecipe ?? .imagegs
        options.seed = settings.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index)
        return options
    }

    /// Fits every item not yet in `output`, appending in order, then finishes the dataset.
    /// Returns early (leaving a resumable, incomplete file) when `shouldStop()` turns true.
    ///
    /// With a `communicator` of several ranks (`mpirun -np N splatkit dataset build`), every
    /// rank fits its contiguous share of each window and rank 0 gathers the fitted items and
    /// writes them in order, alone: the file is byte for byte the one a single process writes,
    /// and resumes with any number of ranks. Only rank 0 opens the output; every rank reads the
    /// inputs. Rank 0's progress callback is the one that is called.
    /// - Returns: whether the dataset is complete.
    @discardableResult
    public func run(communicator: any Communicator = SingleProcess(), shouldStop: () -> Bool = { false },
                    progress: (BuildProgress) -> Void = { _ in }) throws -> Bool {
        guard settings.fitRecipe != nil else {
            throw FileError(output, "recipe '\(settings.recipe)' is not a fitting recipe (\(FitRecipe.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let order = settings.order
        let names = try itemNames()
        let dataset = communicator.isRoot ? try openOutput(names: names) : nil
        defer { try? dataset?.close() }
        // Rank 0 says where the file stands: the items written, or −1 when it is complete.
        var position = [Float](repeating: 0, count: 1)
        if let dataset { position[0] = dataset.isComplete ? -1 : Float(try dataset.itemCount()) }
        position.withUnsafeMutableBufferPointer { communicator.broadcast($0, root: 0) }
        if position[0] < 0 { return true }
        var done = Int(position[0])

        let started = monotonicSeconds()
        var fittedThisRun = 0, psnrSum = 0.0
        let previousThreads = ComputeThreads.count
        ComputeThreads.set(1)  // one thread per fit; the workers share the cores
        defer { ComputeThreads.set(previousThreads) }
        while done < names.count && !communicator.any(shouldStop()) {
            let window = Array(done..<Swift.min(names.count, done + 2 * workers * communicator.size))
            let mine = Array(window[communicator.share(of: window.count)])
            var results = [Result<DatasetItem, Error>?](repeating: nil, count: mine.count)
            results.withUnsafeMutableBufferPointer { slots in
                parallelItems(mine.count, threads: workers) { slot in
                    slots[slot] = Result { try fit(index: mine[slot], name: names[mine[slot]], order: order) }
                }
            }
            let outcomes = gatherOutcomes(results.map { $0! }, communicator: communicator)
            if let dataset {
                for (index, outcome) in zip(window, outcomes) {
                    let item = try outcome.get()
                    try dataset.append(item, at: index)
                    psnrSum += Double(item.psnr)
                }
            }
            done += window.count
            fittedThisRun += window.count
            let minutes = Swift.max((monotonicSeconds() - started) / 60, 1e-9)
            if communicator.isRoot {
                progress(BuildProgress(done: done, total: names.count, fittedThisRun: fittedThisRun,
                                       imagesPerMinute: Double(fittedThisRun) / minutes, meanPSNR: psnrSum / Double(fittedThisRun)))
            }
        }
        guard done == names.count else { return false }
        try dataset?.finish()
        return true
    }

    /// The output dataset, created, or opened to resume after its settings and first items
    /// were checked against this build.
    private func openOutput(names: [String]) throws -> GaussianDatasetFile {
        let dataset: GaussianDatasetFile
        if FileManager.default.fileExists(atPath: output) {
            dataset = try GaussianDatasetFile(opening: output, forWriting: true)
            guard dataset.settings == settings else {
                try? dataset.close()
                throw FileError(output, "exists with other settings (\(dataset.settings)); use another --output or the same options to resume")
            }
        } else {
            dataset = try GaussianDatasetFile(creating: output, settings: settings)
        }
        guard !dataset.isComplete else { return dataset }
        let done = try dataset.itemCount()
        if done > 0 {
            let existing = try dataset.names(0..<done)
            guard existing == Array(names.prefix(done)) else {
                try? dataset.close()
                throw FileError(output, "holds items that are not the first \(done) inputs of this build; use another --output")
            }
        }
        return dataset
    }

    /// Every rank's fit outcomes of a window, in window order, on rank 0 (`[]` elsewhere).
    /// One process passes its own through untouched.
    private func gatherOutcomes(_ outcomes: [Result<DatasetItem, Error>], communicator: any Communicator) -> [Result<DatasetItem, Error>] {
        guard communicator.size > 1 else { return outcomes }
        let bytes = outcomes.flatMap { DatasetItem.encoded($0) }
        return communicator.gather(bytes: bytes, root: 0).enumerated().flatMap { rank, message in
            DatasetItem.decodedOutcomes(message, rank: rank)
        }
    }

    /// Loads, fits and orders item `index`.
    func fit(index: Int, name: String, order: SpatialOrder) throws -> DatasetItem {
        let (image, width, height) = try source.load(index: index, name: name, settings: settings, keepAspect: keepAspect)
        let result = GaussianFitter(image: image.tensor(), options: fitOptions(index: index)).run(progressInterval: Int.max)
        let rows = result.gaussians.scalars
        let permutation = order.permutation(for: rows, count: settings.setSize)
        let ordered = permutation.flatMap { rows[($0 * 8)..<($0 * 8 + 8)] }
        return DatasetItem(name: name, gaussians: ordered, psnr: result.psnr, ssim: result.ssim, sourceWidth: width, sourceHeight: height)
    }
}

