import Foundation
import GaussianFitting
import SplatIO
import TensorCore

// A dataset of fitted Gaussian sets in one streaming HDF5 file (layout in docs/FORMATS.md,
// "Gaussian datasets"). Items are appended in input order while a build runs (`complete` = 0);
// finishing it writes the splits and the per-parameter statistics of the train split and sets
// `complete` = 1. Nothing needs the whole dataset in memory: sets are read by row ranges.
//
//   /gaussians            float32 (M, N, 8), chunked per set, shuffle + gzip
//   /names                uint8 (M, 256): UTF-8 names, zero-padded
//   /psnr, /ssim          float32 (M): quality of each fit
//   /source_size          int32 (M, 2): width, height of each source image before resizing
//   /splits/{train,validation,test}   int64 item indices (sorted), when complete
//   /statistics/{mean,std}            float32 (8) over the train split, when complete
//   root attributes: the DatasetSettings (set_size, image_size, steps, recipe, order, seed,
//   split_fractions, crops, flip_crops) and complete; merged datasets add /source and /sources
//   (GaussianDatasetMerge.swift)

/// Settings fixed when a dataset is created; a resumed build must use the same ones.
public struct DatasetSettings: Equatable, Sendable {
    public var setSize: Int
    public var imageSize: Int
    public var steps: Int
    /// How the sets were made (validated when read from a file).
    public var recipe: SetRecipe
    /// The spatial order of every set's Gaussians (validated when read from a file).
    public var order: SpatialOrder
    public var seed: UInt64
    public var splits: [Double]
    /// Random square crops per photo (`dataset build --crops`); 1 = one centre crop each.
    public var crops: Int
    /// Whether those crops are mirrored at random (`--flip`).
    public var flipCrops: Bool

    public init(setSize: Int, imageSize: Int, steps: Int, recipe: SetRecipe, order: SpatialOrder, seed: UInt64, splits: [Double],
                crops: Int = 1, flipCrops: Bool = false) {
        self.setSize = setSize
        self.imageSize = imageSize
        self.steps = steps
        self.recipe = recipe
        self.order = order
        self.seed = seed
        self.splits = splits
        self.crops = crops
        self.flipCrops = flipCrops
    }
}

extension DatasetSettings {
    /// "4 random square crops per photo[, mirrored at random]", or nil for one centre crop.
    public var cropsSummary: String? {
        crops > 1 ? "\(crops) random square crops per photo" + (flipCrops ? ", mirrored at random" : "") : nil
    }

    /// Writes the settings as attributes of `objectPath` (the root of a dataset, or a merged
    /// dataset's `/sources/<i>` group).
    func write(to file: HDF5File, at objectPath: String = "/") throws {
        try file.setAttribute("set_size", to: setSize, at: objectPath)
        try file.setAttribute("image_size", to: imageSize, at: objectPath)
        try file.setAttribute("steps", to: steps, at: objectPath)
        try file.setAttribute("recipe", to: recipe.description, at: objectPath)
        try file.setAttribute("order", to: order.rawValue, at: objectPath)
        try file.setAttribute("seed", to: Int64(bitPattern: seed), at: objectPath)
        try file.setAttribute("split_fractions", to: splits, at: objectPath)
        try file.setAttribute("crops", to: crops, at: objectPath)
        try file.setAttribute("flip_crops", to: Int64(flipCrops ? 1 : 0), at: objectPath)
    }

    /// Reads the settings `write(to:at:)` wrote; files from before crops existed have none (1, off).
    init(reading file: HDF5File, at objectPath: String = "/") throws {
        func integer(_ name: String) throws -> Int { Int(try file.int64Attribute(name, at: objectPath)) }
        let orderName = try file.stringAttribute("order", at: objectPath)
        guard let order = SpatialOrder(rawValue: orderName) else {
            throw FileError(file.path, "attribute 'order' is '\(orderName)', not one of \(SpatialOrder.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(setSize: try integer("set_size"), imageSize: try integer("image_size"), steps: try integer("steps"),
                  recipe: try SetRecipe.read(file.stringAttribute("recipe", at: objectPath), in: file.path,
                                              what: "attribute 'recipe'"), order: order,
                  seed: UInt64(bitPattern: try file.int64Attribute("seed", at: objectPath)),
                  splits: try file.doubleArrayAttribute("split_fractions", at: objectPath),
                  crops: try file.hasAttribute("crops", at: objectPath) ? try integer("crops") : 1,
                  flipCrops: try file.hasAttribute("flip_crops", at: objectPath) ? try integer("flip_crops") == 1 : false)
    }
}

/// One fitted item to append.
public struct DatasetItem {
    public let name: String
    /// (N, 8) rows, already in the dataset's spatial order.
    public let gaussians: [Float]
    public let psnr: Float
    public let ssim: Float
    public let sourceWidth: Int
    public let sourceHeight: Int
}

/// An open Gaussian dataset file.
public final class GaussianDatasetFile {
    public static let format = "splatkit-dataset"
    public static let formatVersion: Int64 = 1
    /// Bytes reserved per name in `/names`.
    public static let nameLength = 256

    public let path: String
    public let settings: DatasetSettings
    let file: HDF5File

    /// Creates a new, empty (incomplete) dataset, replacing nothing: the path must not exist.
    public init(creating path: String, settings: DatasetSettings) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw FileError(path, "already exists") }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try createOutputFolder(folder, purpose: "folder of \((path as NSString).lastPathComponent)")
        }
        self.path = path
        self.settings = settings
        file = try HDF5File(creating: path, sealed: false)  // it grows while a build runs
        let N = settings.setSize
        try file.createExtendableDataset("gaussians", of: Float.self, rowShape: [N, 8], chunkShape: [1, N, 8])
        try file.createExtendableDataset("names", of: UInt8.self, rowShape: [Self.nameLength], chunkShape: [64, Self.nameLength])
        try file.createExtendableDataset("psnr", of: Float.self, rowShape: [], chunkShape: [1024])
        try file.createExtendableDataset("ssim", of: Float.self, rowShape: [], chunkShape: [1024])
        try file.createExtendableDataset("source_size", of: Int32.self, rowShape: [2], chunkShape: [1024, 2])
        try file.setFormat(Self.format, version: Self.formatVersion)
        try settings.write(to: file)
        try file.setAttribute("complete", to: Int64(0))
        try file.flush()
    }

    /// Opens an existing dataset (read-only unless `forWriting`), checking its format.
    public init(opening path: String, forWriting: Bool = false) throws {
        self.path = path
        file = try HDF5File(opening: path, mode: forWriting ? .readWrite : .readOnly)
        try file.checkFormat(Self.format, newestVersion: Self.formatVersion, kind: "Gaussian dataset")
        settings = try DatasetSettings(reading: file)
        try validateLayout()
        if forWriting && !isComplete {
            // A build killed mid-append can leave a torn last chunk; drop it so the rerun refits
            // those items instead of failing on it (`itemCount` is the shortest dataset).
            for dataset in Self.itemDatasets { try file.dropUnreadableTailRows(of: dataset) }
        }
    }

    /// The datasets that hold one row per item.
    static let itemDatasets = ["gaussians", "psnr", "ssim", "source_size", "names"]

    public func close() throws { try file.close() }

    /// Whether the build finished (splits and statistics written).
    public var isComplete: Bool { ((try? file.int64Attribute("complete")) ?? 0) == 1 }

    /// Whether the splits keep every source image whole (false: too few source images for the
    /// fractions, so items were split one by one); nil for an incomplete dataset or one
    /// finished before this was recorded.
    public var splitsKeepSources: Bool? {
        guard isComplete, let value = try? file.int64Attribute("splits_keep_sources") else { return nil }
        return value == 1
    }

    /// Items fully written: the shortest of the per-item datasets (`names` is written last in
    /// every append, so a torn append shows up as extra rows elsewhere, which `append`
    /// overwrites).
    public func itemCount() throws -> Int {
        try Self.itemDatasets.map { try file.rowCount(of: $0) }.min() ?? 0
    }

    /// Writes `item` as item number `index` (= `itemCount()`), overwriting rows a torn earlier
    /// append may have left, then flushes.
    public func append(_ item: DatasetItem, at index: Int) throws {
        try append(contentsOf: [item], at: index)
    }

    /// Writes `items` as items `index…` (`index` = `itemCount()`), overwriting rows a torn
    /// earlier append may have left, then flushes once.
    public func append(contentsOf items: [DatasetItem], at index: Int) throws {
        for item in items {
            precondition(item.gaussians.count == settings.setSize * 8, "append: set of \(item.gaussians.count / 8) Gaussians, dataset holds \(settings.setSize)")
        }
        try writeRows(items.flatMap(\.gaussians), count: items.count, to: "gaussians", at: index)
        try writeRows(items.map(\.psnr), count: items.count, to: "psnr", at: index)
        try writeRows(items.map(\.ssim), count: items.count, to: "ssim", at: index)
        try writeRows(items.flatMap { [Int32($0.sourceWidth), Int32($0.sourceHeight)] }, count: items.count, to: "source_size", at: index)
        try writeRows(encodedNames(items.map(\.name), length: Self.nameLength), count: items.count, to: "names", at: index)
        try file.flush()
    }

    /// Writes `count` rows at `index`: over the rows that exist there, appending the rest.
    private func writeRows<E: HDF5Element>(_ values: [E], count: Int, to dataset: String, at index: Int) throws {
        let existing = Swift.min(count, Swift.max(0, try file.rowCount(of: dataset) - index))
        let rowLength = count > 0 ? values.count / count : 0
        if existing > 0 { try file.overwriteRows(Array(values[0..<(existing * rowLength)]), in: dataset, startingAt: index) }
        if existing < count { try file.appendRows(Array(values[(existing * rowLength)...]), to: dataset) }
    }

    /// Names of items `range`.
    public func names(_ range: Range<Int>) throws -> [String] {
        decodedNames(try file.readRows(UInt8.self, from: "names", range: range).values, length: Self.nameLength)
    }

    /// Sets of items `range`: (count, N, 8) row-major.
    public func gaussians(_ range: Range<Int>) throws -> [Float] {
        try file.readRows(Float.self, from: "gaussians", range: range).values
    }

    /// Width and height of the source image of each item of `range`, before resizing (0 when unknown).
    public func sourceSizes(_ range: Range<Int>) throws -> [(width: Int, height: Int)] {
        let values = try file.readRows(Int32.self, from: "source_size", range: range).values
        return (0..<range.count).map { (Int(values[2 * $0]), Int(values[2 * $0 + 1])) }
    }

    /// Per-item fit PSNR or SSIM of items `range`.
    public func quality(_ metric: String, _ range: Range<Int>) throws -> [Float] {
        try file.readRows(Float.self, from: metric, range: range).values
    }

    /// The split index lists (train, validation, test), when complete, each index checked.
    public func splitIndices() throws -> (train: [Int], validation: [Int], test: [Int]) {
        let count = try itemCount()
        func read(_ name: String) throws -> [Int] {
            try checkedSplit(try file.read(Int64.self, from: "splits/\(name)").values, name: name, itemCount: count)
        }
        return (try read("train"), try read("validation"), try read("test"))
    }

    /// Per-parameter mean and std over the train split, when complete (8 finite values each).
    public func statistics() throws -> (mean: [Float], std: [Float]) {
        try checkedStatistics(mean: try file.read(Float.self, from: "statistics/mean").values,
                              std: try file.read(Float.self, from: "statistics/std").values)
    }

    /// Splits items into train/validation/test by a seeded shuffle of their source images
    /// (DatasetSplits.swift: crops of one photo stay in one split), computes the train
    /// statistics in a streaming pass, writes both and marks the dataset complete; `close()`
    /// then seals the file (a CRC-32 of all of it, checked at every open). Returns whether the
    /// splits keep every source image whole (`splitsKeepSources`); callers warn when not.
    @discardableResult
    public func finish() throws -> Bool {
        let count = try itemCount()
        guard count >= 1 else { throw FileError(path, "cannot finish an empty dataset") }
        let splitting = splitBySource(names: try names(0..<count), fractions: settings.splits, seed: settings.seed)
        let train = splitting.train
        for (name, indices) in [("train", train), ("validation", splitting.validation), ("test", splitting.test)] {
            try file.write(indices.map(Int64.init), shape: [indices.count], to: "splits/\(name)")
        }
        try file.setAttribute("splits_keep_sources", to: Int64(splitting.keepsSources ? 1 : 0))
        var accumulator = ColumnStatistics()
        for index in (train.isEmpty ? Array(0..<count) : train) {
            accumulator.add(rows: try gaussians(index..<(index + 1)))
        }
        let normalization = accumulator.normalization
        try file.write(normalization.mean, shape: [8], to: "statistics/mean")
        try file.write(normalization.standardDeviation, shape: [8], to: "statistics/std")
        try file.setAttribute("complete", to: Int64(1))
        try file.flush()
        try file.sealAtClose()  // final now: `close()` writes the file's CRC-32
        return splitting.keepsSources
    }
}

/// The sets of one split (or all items) of a dataset file, as a data-loader source. Reads go
/// to the HDF5 file one set at a time; use one loader iterator at a time per file (HDF5 is
/// not thread-safe).
public struct DatasetSplit: GaussianSetSource {
    public let file: GaussianDatasetFile
    /// Dataset item indices, in loader order (local index i reads item `items[i]`).
    public let items: [Int]

    /// The train, validation or test split of a complete dataset; "all" for every item.
    public init(_ file: GaussianDatasetFile, split: String) throws {
        self.file = file
        switch split {
        case "all": items = Array(0..<(try file.itemCount()))
        case "train", "validation", "test":
            guard file.isComplete else { throw FileError(file.path, "the dataset is incomplete, so it has no '\(split)' split yet") }
            let splits = try file.splitIndices()
            items = split == "train" ? splits.train : (split == "validation" ? splits.validation : splits.test)
        default:
            throw FileError(file.path, "unknown split '\(split)' (train, validation, test or all)")
        }
    }

    public var count: Int { items.count }
    public var setSize: Int { file.settings.setSize }

    public func read(indices: [Int]) throws -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(indices.count * setSize * 8)
        for index in indices { values += try file.gaussians(items[index]..<(items[index] + 1)) }
        return values
    }
}
