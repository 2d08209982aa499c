// SourceImages.swift: the source of every item of a crops dataset and of a merged dataset
// (crops + procedural) is exactly the image its build fitted; items that cannot be found are
// reported with their reason, never thrown. Tiny: 16 × 16 images, 8 Gaussians, 20 steps.

import Foundation
import GaussianRasterizer
import NeuralNetwork
import SplatIO
import TensorCore
import TestSupport
import XCTest
@testable import GaussianData

final class SourceImagesTests: TemporaryDirectoryTestCase {
    func path(_ name: String) -> String { temporaryPath(name) }

    /// Writes `names` as PNGs of `width` × `height` into `folder`, cut from paintings seeded `seed`.
    func writePhotos(_ names: [String], width: Int, height: Int, seed: UInt64, in folder: String) throws {
        try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true)
        for (index, name) in names.enumerated() {
            try ProceduralArt.image(index: index, size: Swift.max(width, height), seed: seed)
                .cropped(left: 0, top: 0, width: width, height: height).writePNG(to: path("\(folder)/\(name)"))
        }
    }

    func settings(seed: UInt64, crops: Int = 1, flip: Bool = false) -> DatasetSettings {
        DatasetSettings(setSize: 8, imageSize: 16, steps: 20, recipe: .fit(.imagegs), order: .morton, seed: seed,
                        splits: [0.5, 0.25, 0.25], crops: crops, flipCrops: flip)
    }

    /// Builds `output` and returns its builder.
    @discardableResult
    func build(_ output: String, from source: DatasetSource, settings: DatasetSettings) throws -> DatasetBuilder {
        let builder = DatasetBuilder(source: source, output: path(output), settings: settings, workers: 1)
        XCTAssertTrue(try builder.run())
        return builder
    }

    /// Photo crops, 3 of each of 2 photos, mirrored at random.
    func buildCrops(_ output: String = "photos.h5") throws -> DatasetBuilder {
        try writePhotos(["a.png", "b.png"], width: 24, height: 20, seed: 4, in: "photos")
        return try build(output, from: .images(folder: path("photos")), settings: settings(seed: 3, crops: 3, flip: true))
    }

    /// Asserts that the source of item `item` of `dataset` is what `builder` fitted as its item
    /// `index`: the same pixels, and the stored fit's render has the stored PSNR against it.
    func assertSource(_ sources: SourceImages, item: Int, of dataset: GaussianDatasetFile, isItem index: Int,
                      of builder: DatasetBuilder, file: StaticString = #filePath, line: UInt = #line) throws {
        let name = String(try dataset.names(item..<(item + 1))[0].split(separator: "/").last!)  // as the build named it
        let fitted = try builder.source.load(index: index, name: name, settings: builder.settings, keepAspect: false).image
        let lookup = try sources.image(item: item, size: 16)
        guard case .found(let image, let origin) = lookup else {
            return XCTFail("item \(item) (\(name)): \(lookup)", file: file, line: line)
        }
        XCTAssertTrue(image == fitted, "item \(item) (\(name)): \(origin) is not the image fitted", file: file, line: line)
        let set = Tensor(shape: [8, 8], scalars: try dataset.gaussians(item..<(item + 1)))
        let render = withoutGradients { renderImageGS(set, width: 16, height: 16) }.clamped(min: 0, max: 1)
        XCTAssertEqual(psnr(render, image.tensor()), try dataset.quality("psnr", item..<(item + 1))[0], accuracy: 0.01,
                       "item \(item) (\(name)): the stored fit was made against this image", file: file, line: line)
    }

    func testCropsResolveToTheCropsTheBuildFitted() throws {
        let builder = try buildCrops()
        // A PNG added since, first in name order, does not move the photos' numbers.
        try writePhotos(["0.png"], width: 30, height: 18, seed: 8, in: "photos")
        let dataset = try GaussianDatasetFile(opening: path("photos.h5"))
        defer { try? dataset.close() }
        let sources = try SourceImages(dataset: dataset, folder: path("photos"))
        for item in 0..<6 { try assertSource(sources, item: item, of: dataset, isItem: item, of: builder) }
        XCTAssertEqual(try sources.image(item: 4, size: 32).image.map { [$0.width, $0.height] }, [32, 32], "any size")
        guard case .found(_, let origin) = try sources.image(item: 5, size: 16) else { return XCTFail() }
        XCTAssertEqual(origin, "b.png, crop 2")

        // Without the folder, or with another photo under the same name, nothing is found.
        guard case .notFound(let reason) = try SourceImages(dataset: dataset, folder: nil).image(item: 0, size: 16) else {
            return XCTFail("found without --images")
        }
        XCTAssertTrue(reason.contains("give --images DIR"), reason)
        try writePhotos(["a.png"], width: 20, height: 20, seed: 4, in: "resized")
        guard case .notFound(let resized) = try SourceImages(dataset: dataset, folder: path("resized")).image(item: 0, size: 16) else {
            return XCTFail("a photo of another size was taken for the one cropped")
        }
        XCTAssertTrue(resized.contains("another size"), resized)
    }

    func testMergedItemsResolveWithTheirInputsSettings() throws {
        let photos = try buildCrops()
        let procedural = try build("procedural.h5", from: .procedural(count: 3, seed: 5), settings: settings(seed: 5))
        try writePhotos(["c.png", "a.png"], width: 18, height: 22, seed: 6, in: "others")  // a.png: another photo, same name
        let others = try build("others.h5", from: .images(folder: path("others")), settings: settings(seed: 7, crops: 2))
        try GaussianDatasetMerge.merge([path("photos.h5"), path("procedural.h5"), path("others.h5")], into: path("merged.h5"),
                                       seed: 1, splits: [0.5, 0.25, 0.25])
        let merged = try GaussianDatasetFile(opening: path("merged.h5"))
        defer { try? merged.close() }
        XCTAssertEqual(try merged.names(5..<8), ["photos.h5/b.png#crop02", "procedural.h5/art_00000", "procedural.h5/art_00001"])

        // Each input's items are resolved with its own settings: seed, crops, flips.
        let sources = try SourceImages(dataset: merged, folder: path("photos"))
        for item in 0..<6 { try assertSource(sources, item: item, of: merged, isItem: item, of: photos) }
        for item in 6..<9 { try assertSource(sources, item: item, of: merged, isItem: item - 6, of: procedural) }

        // Only one folder: the other photo input's items are reported, not thrown, not confused.
        let missing = try (9..<13).map { item -> String in
            guard case .notFound(let reason) = try sources.image(item: item, size: 16) else { return "found" }
            return reason
        }
        XCTAssertEqual(try merged.names(9..<13), ["others.h5/a.png#crop00", "others.h5/a.png#crop01",
                                                   "others.h5/c.png#crop00", "others.h5/c.png#crop01"])
        XCTAssertTrue(missing[0].contains("another size") && missing[1].contains("another size"), "\(missing)")
        XCTAssertEqual(missing[2], "no such PNG in \(path("photos"))")
        let otherSources = try SourceImages(dataset: merged, folder: path("others"))
        for item in 9..<13 { try assertSource(otherSources, item: item, of: merged, isItem: item - 9, of: others) }

        // Procedural items need no folder.
        let noFolder = try SourceImages(dataset: merged, folder: nil)
        XCTAssertNotNil(try noFolder.image(item: 7, size: 16).image)
        XCTAssertNil(try noFolder.image(item: 0, size: 16).image)
    }

    func testUnknownItemsAreReportedWithTheirReason() throws {
        let settings = settings(seed: 2)
        let file = try GaussianDatasetFile(creating: path("odd.h5"), settings: settings)
        for (index, name) in ["art_00000", "photo.png", "missing.png", "inner.h5/art_00001"].enumerated() {
            try file.append(DatasetItem(name: name, gaussians: [Float](repeating: 0.5, count: 64), psnr: 20, ssim: 0.5,
                                        sourceWidth: 16, sourceHeight: 16), at: index)
        }
        try writePhotos(["photo.png"], width: 16, height: 16, seed: 1, in: "images")
        let sources = try SourceImages(dataset: file, folder: path("images"))
        XCTAssertEqual(try sources.image(item: 0, size: 16).image, ProceduralArt.image(index: 0, size: 16, seed: 2))
        XCTAssertEqual(try sources.image(item: 1, size: 16).image, try RGBImage(contentsOfPNG: path("images/photo.png")).preparedSquare(size: 16))
        guard case .notFound(let missing) = try sources.image(item: 2, size: 16),
              case .notFound(let nested) = try sources.image(item: 3, size: 16) else { return XCTFail("found an unknown item") }
        XCTAssertEqual(missing, "no such PNG in \(path("images"))")
        XCTAssertTrue(nested.contains("itself merged"), nested)

        let summary = MissingSource.summary([MissingSource(name: "x.png", reason: missing), MissingSource(name: "y.png", reason: missing),
                                             MissingSource(name: "inner.h5/art_00001", reason: nested)], of: 10, examples: 1)
        XCTAssertEqual(summary, """
            no source image for 3 of the 10 sets (left out of the source comparisons):
              2 × \(missing) (x.png, …)
              1 × \(nested) (inner.h5/art_00001)
            """)
        XCTAssertNil(MissingSource.summary([], of: 10))
        XCTAssertThrowsError(try SourceImages(dataset: file, folder: path("nowhere"))) { error in
            XCTAssertEqual(error as? FileError, FileError(path("nowhere"), "is not a folder (--images names the folder of PNGs the dataset was built from)"))
        }
        try file.close()
    }
}
