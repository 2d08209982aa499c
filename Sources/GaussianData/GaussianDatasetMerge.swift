import Foundation
import GaussianFitting
import GaussianRasterizer
import SplatIO

// Merging Gaussian datasets into one new dataset (`splatkit dataset merge`), for example photos
// and procedural art for one VAE. The inputs, complete or not, must hold sets of one size N in
// one spatial order, fitted at one image size and drawn by one rasterizer (a set's scales are in
// 1/pixels of its image, and evaluation and reports draw every set of a dataset alike); their
// fitting steps, recipes, seeds and crops may differ, and each input's own settings are kept.
//
// Items keep their input order, input after input, each named `<input file name>/<name>`
// (`procedural.h5/art_00001`), so two builds with the same item names merge without clashes and
// every item says where it came from. The merged file is then finished like a build: new splits
// by a seeded shuffle of all items, statistics over its train split. Sets are copied in batches
// of a few dozen, bit for bit, into a temporary file beside the output that is renamed at the
// end, so a failed merge leaves nothing behind.
//
// What a merged dataset adds to the layout (docs/FORMATS.md, "Merged datasets"):
//   /source               int32 (M): the input each item came from, an index into /sources
//   /sources              group, attribute `count` = S, the number of inputs
//   /sources/<i>          group per input i (0…S−1), attributes: `file` (the path as given),
//                         `items` (how many it gave), `complete` (0/1), and its own dataset
//                         settings under the root's attribute names (`steps`, `recipe`, `seed`, …)

/// One input of a merged dataset.
public struct MergedSource: Equatable, Sendable {
    /// The input's path, as given to the merge.
    public var file: String
    /// Items the merge took from it (all it held).
    public var items: Int
    /// Whether its build had finished.
    public var complete: Bool
    /// Its own settings (its splits and seed, not the merged file's).
    public var settings: DatasetSettings

    /// One line for `dataset info` and reports: "a.h5: 48 items, imagegs, 5000 steps, seed 1".
    public var summary: String {
        "\(file): \(items) items\(complete ? "" : " (incomplete)"), \(settings.recipe), \(settings.steps) steps, seed \(settings.seed)"
            + (settings.cropsSummary.map { ", " + $0 } ?? "")
    }
}

public enum GaussianDatasetMerge {
    /// Items read and appended at once.
    static let batchSize = 64

    /// Merges the datasets `inputs` (in this order) into a new, complete dataset at `output`,
    /// split by a shuffle seeded with `seed` into `splits` (train, validation, test fractions).
    /// `progress` is called after each input is copied.
    ///
    /// - Returns: the inputs as recorded in the merged file.
    /// - Throws: `FileError` naming the file and the problem: `output` exists; an input is
    ///   missing, not a dataset, or unlike the first (set size, order, image size, rasterizer);
    ///   two inputs share a file name; a prefixed name is too long or repeats; no items at all.
    @discardableResult
    public static func merge(_ inputs: [String], into output: String, seed: UInt64, splits: [Double],
                             progress: (MergedSource) -> Void = { _ in }) throws -> [MergedSource] {
        precondition(!inputs.isEmpty, "GaussianDatasetMerge.merge: no inputs")
        guard !FileManager.default.fileExists(atPath: output) else {
            throw FileError(output, "already exists; choose another --output or remove it first")
        }
        let sources = try inputs.map(inspect)
        try checkCompatible(sources)
        let prefixes = try namePrefixes(inputs)
        guard sources.contains(where: { $0.items > 0 }) else {
            throw FileError(inputs[0], "holds no items, and neither do the other inputs: nothing to merge")
        }
        let settings = mergedSettings(sources, seed: seed, splits: splits)

        try writeAtomically(to: output) { temporary in
            let merged = try GaussianDatasetFile(creating: temporary, settings: settings)
            defer { try? merged.close() }
            var names = Set<String>(), itemSources: [Int32] = []
            for (index, source) in sources.enumerated() {
                let input = try GaussianDatasetFile(opening: source.file)
                defer { try? input.close() }
                for start in stride(from: 0, to: source.items, by: batchSize) {
                    let range = start..<Swift.min(source.items, start + batchSize)
                    let items = try copies(of: range, in: input, prefix: prefixes[index])
                    for item in items {
                        guard names.insert(item.name).inserted else {
                            throw FileError(source.file, "holds the item name '\(item.name.dropFirst(prefixes[index].count))' twice")
                        }
                    }
                    try merged.append(contentsOf: items, at: itemSources.count)
                    itemSources += [Int32](repeating: Int32(index), count: items.count)
                }
                progress(source)
            }
            try record(sources, itemSources: itemSources, in: merged.file)
            try merged.finish()
            try merged.close()
        }
        return sources
    }

    /// Opens `path` as a dataset for its settings, item count and completeness.
    static func inspect(_ path: String) throws -> MergedSource {
        let dataset = try GaussianDatasetFile(opening: path)
        defer { try? dataset.close() }
        return MergedSource(file: path, items: try dataset.itemCount(), complete: dataset.isComplete, settings: dataset.settings)
    }

    /// Throws for the first input whose sets cannot live in one dataset with the first input's.
    static func checkCompatible(_ sources: [MergedSource]) throws {
        let first = sources[0], reference = first.settings
        func rasterizer(_ recipe: SetRecipe) -> String {
            recipe.renderer == .additive ? "GaussianImage's additive rasterizer" : "the top-K rasterizer"
        }
        for source in sources.dropFirst() {
            let settings = source.settings
            if settings.setSize != reference.setSize {
                throw FileError(source.file, "holds sets of \(settings.setSize) Gaussians, but \(first.file) holds sets of "
                                + "\(reference.setSize): a dataset has one set size")
            }
            if settings.order != reference.order {
                throw FileError(source.file, "orders its Gaussians by \(settings.order.rawValue), but \(first.file) by \(reference.order.rawValue): "
                                + "a dataset has one spatial order")
            }
            if settings.imageSize != reference.imageSize {
                throw FileError(source.file, "was fitted at \(settings.imageSize) px, but \(first.file) at \(reference.imageSize) px: "
                                + "a dataset has one image size (a set's scales are in 1/pixels of its image, and evaluation "
                                + "and reports draw every set of a dataset at one size)")
            }
            if rasterizer(settings.recipe) != rasterizer(reference.recipe) {
                throw FileError(source.file, "was fitted with recipe \(settings.recipe), drawn by \(rasterizer(settings.recipe)), "
                                + "but \(first.file) with \(reference.recipe), drawn by \(rasterizer(reference.recipe)): evaluation "
                                + "and reports draw every set of a dataset with one rasterizer")
            }
        }
    }

    /// `<file name>/` for each input, which must be distinct.
    static func namePrefixes(_ inputs: [String]) throws -> [String] {
        var seen: [String: String] = [:]
        return try inputs.map { path in
            let name = (path as NSString).lastPathComponent
            if let other = seen[name] {
                throw FileError(path, "has the same file name as the input \(other); merged item names start with their "
                                + "input's file name, so the inputs need distinct file names")
            }
            seen[name] = path
            return name + "/"
        }
    }

    /// The merged file's settings: the inputs' common set size, image size and order; the most
    /// steps of any input; their recipes merged (SetRecipe.merging: in input order, each once); the merge's
    /// seed and splits; no crops of its own (each input's are in /sources).
    static func mergedSettings(_ sources: [MergedSource], seed: UInt64, splits: [Double]) -> DatasetSettings {
        let first = sources[0].settings
        return DatasetSettings(setSize: first.setSize, imageSize: first.imageSize, steps: sources.map(\.settings.steps).max()!,
                               recipe: .merging(sources.map(\.settings.recipe)), order: first.order, seed: seed, splits: splits)
    }

    /// Items `range` of `input`, unchanged but for the name prefix.
    static func copies(of range: Range<Int>, in input: GaussianDatasetFile, prefix: String) throws -> [DatasetItem] {
        let N = input.settings.setSize
        let sets = try input.gaussians(range), names = try input.names(range), sizes = try input.sourceSizes(range)
        let psnr = try input.quality("psnr", range), ssim = try input.quality("ssim", range)
        return try (0..<range.count).map { i in
            let name = prefix + names[i]
            guard name.utf8.count <= GaussianDatasetFile.nameLength else {
                throw FileError(input.path, "item '\(names[i])' would be named '\(name)', \(name.utf8.count) bytes, "
                                + "more than the \(GaussianDatasetFile.nameLength) a dataset stores; rename the file")
            }
            return DatasetItem(name: name, gaussians: Array(sets[(i * N * 8)..<((i + 1) * N * 8)]), psnr: psnr[i], ssim: ssim[i],
                               sourceWidth: sizes[i].width, sourceHeight: sizes[i].height)
        }
    }

    /// Writes `/source` and the `/sources` groups.
    static func record(_ sources: [MergedSource], itemSources: [Int32], in file: HDF5File) throws {
        try file.write(itemSources, shape: [itemSources.count], to: "source")
        try file.createGroup("sources")
        try file.setAttribute("count", to: sources.count, at: "sources")
        for (index, source) in sources.enumerated() {
            let group = "sources/\(index)"
            try file.createGroup(group)
            try file.setAttribute("file", to: source.file, at: group)
            try file.setAttribute("items", to: source.items, at: group)
            try file.setAttribute("complete", to: Int64(source.complete ? 1 : 0), at: group)
            try source.settings.write(to: file, at: group)
        }
    }
}

extension GaussianDatasetFile {
    /// The inputs of a merged dataset, in merge order; nil when the dataset was not merged.
    public func mergedSources() throws -> [MergedSource]? {
        guard try file.exists("sources") else { return nil }
        return try (0..<Int(try file.int64Attribute("count", at: "sources"))).map { index in
            let group = "sources/\(index)"
            return MergedSource(file: try file.stringAttribute("file", at: group), items: Int(try file.int64Attribute("items", at: group)),
                                complete: try file.int64Attribute("complete", at: group) == 1,
                                settings: try DatasetSettings(reading: file, at: group))
        }
    }

    /// For each item, the index in `mergedSources()` of the input it came from; nil when the
    /// dataset was not merged.
    public func itemSources() throws -> [Int]? {
        guard try file.exists("source") else { return nil }
        return try file.read(Int32.self, from: "source").values.map(Int.init)
    }
}
