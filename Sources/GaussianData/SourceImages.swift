import Foundation
import SplatIO

// Finding again the image each item of a Gaussian dataset was fitted from, for `evaluate`,
// `reconstruct` and `report dataset`. A dataset stores no pixels, so a source is regenerated or
// re-read and prepared by the build's own functions (ProceduralArt, `DatasetSource.prepared`).
//
// An item is resolved with the settings of the build that fitted it: the dataset's own, or in a
// merged dataset (GaussianDatasetMerge.swift) those of its input `/sources/<source[item]>`, its
// name without the `<input file name>/` prefix and its index in that build = its index in the
// dataset less the items of the inputs before its own. Then, by name:
//   art_NNNNN          painting NNNNN regenerated from the build's seed (a procedural build), at
//                      any size; needs no folder
//   photo.png#cropKK   (a build with crops K ≥ 2) crop k of photo i, index = i · K + k, cut from
//                      `folder/photo.png` with the build's seed and flips. i is the build's own
//                      (the photo's place in its folder's name order then), so PNGs added to the
//                      folder since do not move it; the photo must still have the size recorded
//                      in /source_size, since a crop's place depends on it
//   anything else      `folder/name` or `folder/name.png`, centre-cropped square (a build without
//                      crops, or the PNGs of imported GaussVAE sets)
// An item that cannot be resolved (no folder given, no such PNG, a photo of another size, a PNG
// that does not decode, an input that was itself a merge) is reported with the reason, not
// thrown: a merge of several photo folders can only be compared to the one folder given, and
// the items of the others are left out.

/// The source of one dataset item, or why there is none.
public enum SourceImageLookup {
    /// The image, and where it came from ("photo.png, crop 2", "procedural, regenerated from seed 3").
    case found(RGBImage, origin: String)
    /// Why the source was not found (the same text for every item missing for the same reason).
    case notFound(reason: String)

    public var image: RGBImage? {
        if case .found(let image, _) = self { return image }
        return nil
    }
}

/// An item whose source image was not found, and why.
public struct MissingSource: Equatable, Sendable {
    public let name: String
    public let reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    /// Lines for the command line: how many of `total` items have no source, then one line per
    /// reason with its count and up to `examples` item names; nil when none are missing.
    public static func summary(_ missing: [MissingSource], of total: Int, examples: Int = 3) -> String? {
        guard !missing.isEmpty else { return nil }
        var reasons: [String] = [], names: [String: [String]] = [:]
        for item in missing {
            if names[item.reason] == nil { reasons.append(item.reason) }
            names[item.reason, default: []].append(item.name)
        }
        let head = missing.count == total ? "no source image for any of the \(total) sets"
            : "no source image for \(missing.count) of the \(total) sets (left out of the source comparisons)"
        return ([head + ":"] + reasons.map { reason in
            let shown = names[reason]!.prefix(examples).joined(separator: ", ") + (names[reason]!.count > examples ? ", …" : "")
            return "  \(names[reason]!.count) × \(reason) (\(shown))"
        }).joined(separator: "\n")
    }
}

/// Where the images a dataset's items were fitted from can be found again (rules at the top of
/// the file). Keep the dataset open while looking up.
public final class SourceImages {
    /// The folder of source PNGs (`--images DIR`), if given.
    public let folder: String?
    let dataset: GaussianDatasetFile
    /// The builds the items came from: the dataset's own, or one per input of a merged dataset.
    let builds: [Build]
    /// Per item, its build in `builds` (a merged dataset's /source); nil for one build.
    let itemBuilds: [Int]?
    /// The last photo read, reused by its other crops.
    private var lastPhoto: (path: String, image: RGBImage)?

    struct Build {
        /// What the dataset's item names add to the build's: "" or "<input file name>/".
        let prefix: String
        let settings: DatasetSettings
        /// The dataset index of the build's first item; it gave `items` in a row.
        let firstItem: Int
        let items: Int
    }

    /// - Throws: `FileError` when `folder` is not a folder, or a merged dataset's /source or
    ///   /sources cannot be read.
    public init(dataset: GaussianDatasetFile, folder: String?) throws {
        var isFolder: ObjCBool = false
        if let folder, !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
            throw FileError(folder, "is not a folder (--images names the folder of PNGs the dataset was built from)")
        }
        self.dataset = dataset
        self.folder = folder
        if let inputs = try dataset.mergedSources() {
            var first = 0
            builds = inputs.map { input in
                defer { first += input.items }
                return Build(prefix: (input.file as NSString).lastPathComponent + "/", settings: input.settings, firstItem: first,
                             items: input.items)
            }
            itemBuilds = try dataset.itemSources() ?? []
        } else {
            builds = [Build(prefix: "", settings: dataset.settings, firstItem: 0, items: Int.max)]
            itemBuilds = nil
        }
    }

    /// The source of dataset item `item` as a size × size image, or why it was not found.
    /// - Throws: `FileError` only when the dataset itself cannot be read.
    public func image(item: Int, size: Int) throws -> SourceImageLookup {
        precondition(size >= 1, "SourceImages.image: size \(size) must be positive")
        let name = try dataset.names(item..<(item + 1))[0]
        let buildIndex = itemBuilds.map { item < $0.count ? $0[item] : -1 } ?? 0
        guard builds.indices.contains(buildIndex) else {
            return .notFound(reason: "the merged dataset's /source names no input for the item")
        }
        let build = builds[buildIndex]
        let index = item - build.firstItem
        guard name.hasPrefix(build.prefix), (0..<build.items).contains(index) else {
            return .notFound(reason: "the item is not where the merged dataset's /sources say its input's items are")
        }
        let local = String(name.dropFirst(build.prefix.count))
        var settings = build.settings
        settings.imageSize = size
        if local.contains("/") {
            return .notFound(reason: "it comes from an input that was itself merged, whose own inputs' settings are not kept")
        }
        if let number = Self.proceduralIndex(local), build.settings.imageSize > 0, settings.crops == 1 {
            return .found(ProceduralArt.image(index: number, size: size, seed: settings.seed),
                          origin: "procedural, regenerated from seed \(settings.seed)")
        }
        guard let folder else {
            return .notFound(reason: "it was fitted from a PNG file: give --images DIR, the folder the dataset was built from")
        }
        guard settings.crops > 1 else {
            let candidates = [local, local + ".png"].filter { !$0.isEmpty && Self.isFile((folder as NSString).appendingPathComponent($0)) }
            guard let file = candidates.first else { return .notFound(reason: "no such PNG in \(folder)") }
            return photo(file, in: folder, index: index, settings: settings, recordedSize: nil, origin: file)
        }
        guard let crop = PhotoCrop.parse(itemName: local), crop.crop == index % settings.crops else {
            return .notFound(reason: "its name is not that of crop k = index mod \(settings.crops) of its build's photo")
        }
        guard Self.isFile((folder as NSString).appendingPathComponent(crop.photo)) else {
            return .notFound(reason: "no such PNG in \(folder)")
        }
        let recorded = try dataset.sourceSizes(item..<(item + 1))[0]
        return photo(crop.photo, in: folder, index: index, settings: settings, recordedSize: recorded,
                     origin: "\(crop.photo), crop \(crop.crop)")
    }

    /// Photo `file` of `folder` prepared as item `index` of a build with `settings`; not found
    /// when it does not decode, or when `recordedSize` (unless 0 × 0) is not its size.
    private func photo(_ file: String, in folder: String, index: Int, settings: DatasetSettings,
                       recordedSize: (width: Int, height: Int)?, origin: String) -> SourceImageLookup {
        let path = (folder as NSString).appendingPathComponent(file)
        let original: RGBImage
        if let lastPhoto, lastPhoto.path == path {
            original = lastPhoto.image
        } else {
            do { original = try RGBImage(contentsOfPNG: path) } catch { return .notFound(reason: "\(error)") }
            lastPhoto = (path, original)
        }
        if let recordedSize, recordedSize.width > 0, recordedSize.width != original.width || recordedSize.height != original.height {
            return .notFound(reason: "the PNG of that name in \(folder) has another size than the photo the crop was cut from")
        }
        return .found(DatasetSource.prepared(photo: original, index: index, settings: settings), origin: origin)
    }

    /// The index in `art_NNNNN`, or nil for other names.
    static func proceduralIndex(_ name: String) -> Int? {
        guard name.hasPrefix("art_") else { return nil }
        let digits = name.dropFirst(4)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// Whether `path` is a file (not a folder).
    static func isFile(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
    }
}
