import Foundation
import SplatIO
import TestSupport
import XCTest
@testable import GaussianData

final class PhotoCropTests: TemporaryDirectoryTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        // Two landscape "photos", 36 × 24, cut from procedural paintings.
        try FileManager.default.createDirectory(atPath: path("photos"), withIntermediateDirectories: false)
        for (index, name) in ["a.png", "b.png"].enumerated() {
            try ProceduralArt.image(index: index, size: 36, seed: 4).cropped(left: 0, top: 6, width: 36, height: 24)
                .writePNG(to: path("photos/\(name)"))
        }
    }

    func path(_ name: String) -> String { temporaryPath(name) }

    func settings(flip: Bool) -> DatasetSettings {
        DatasetSettings(setSize: 8, imageSize: 16, steps: 20, recipe: .fit(.imagegs), order: .morton, seed: 3, splits: [0.5, 0.25, 0.25],
                        crops: 3, flipCrops: flip)
    }

    func builder(_ output: String, flip: Bool = true) -> DatasetBuilder {
        DatasetBuilder(source: .images(folder: path("photos")), output: path(output), settings: settings(flip: flip), workers: 1)
    }

    func testCropsDependOnlyOnSeedPhotoAndCropAndStayInside() {
        let crops = (0..<40).map { PhotoCrop(seed: 3, photo: 1, crop: $0, width: 36, height: 24, flip: true) }
        XCTAssertEqual(crops, (0..<40).map { PhotoCrop(seed: 3, photo: 1, crop: $0, width: 36, height: 24, flip: true) })
        XCTAssertNotEqual(crops[0], PhotoCrop(seed: 4, photo: 1, crop: 0, width: 36, height: 24, flip: true))
        XCTAssertNotEqual(crops[0], PhotoCrop(seed: 3, photo: 0, crop: 0, width: 36, height: 24, flip: true))
        XCTAssertGreaterThan(Set(crops.map { [$0.left, $0.top, $0.side] }).count, 30, "crops differ between k")
        for crop in crops {
            XCTAssertTrue((12...24).contains(crop.side), "side \(crop.side): shorter side 24 × [0.5, 1]")
            XCTAssertTrue(crop.left >= 0 && crop.left + crop.side <= 36 && crop.top >= 0 && crop.top + crop.side <= 24, "\(crop)")
        }
        XCTAssertTrue(crops.contains { $0.flipped } && crops.contains { !$0.flipped })
        // Without flips the same squares are cut, none mirrored.
        let unflipped = (0..<40).map { PhotoCrop(seed: 3, photo: 1, crop: $0, width: 36, height: 24, flip: false) }
        XCTAssertEqual(unflipped.map { [$0.left, $0.top, $0.side] }, crops.map { [$0.left, $0.top, $0.side] })
        XCTAssertFalse(unflipped.contains { $0.flipped })
    }

    func testItemNamesRoundTrip() {
        XCTAssertEqual(PhotoCrop.itemName(photo: "a.png", crop: 2, of: 3), "a.png#crop02")
        XCTAssertEqual(PhotoCrop.itemName(photo: "a.png", crop: 7, of: 120), "a.png#crop007")
        XCTAssertEqual(PhotoCrop.parse(itemName: "x#crop1.png#crop12")?.photo, "x#crop1.png")
        XCTAssertEqual(PhotoCrop.parse(itemName: "x#crop1.png#crop12")?.crop, 12)
        XCTAssertNil(PhotoCrop.parse(itemName: "a.png"))
    }

    func testBuildFitsEachPhotosCropsAndResumesExactly() throws {
        let names = try builder("whole.h5").itemNames()
        XCTAssertEqual(names, ["a.png#crop00", "a.png#crop01", "a.png#crop02", "b.png#crop00", "b.png#crop01", "b.png#crop02"])
        XCTAssertEqual(try DatasetSource.images(folder: path("photos")).names(), ["a.png", "b.png"], "one centre crop by default")

        // Item 4 is crop 1 of photo 1, prepared at the dataset's size.
        let photo = try RGBImage(contentsOfPNG: path("photos/b.png"))
        let expected = PhotoCrop(seed: 3, photo: 1, crop: 1, width: 36, height: 24, flip: true).apply(to: photo, size: 16)
        let loaded = try DatasetSource.images(folder: path("photos")).load(index: 4, name: names[4], settings: settings(flip: true),
                                                                           keepAspect: false)
        XCTAssertEqual(loaded.image.pixels, expected.pixels)
        XCTAssertEqual([loaded.image.width, loaded.width, loaded.height], [16, 36, 24])
        let other = try DatasetSource.images(folder: path("photos")).load(index: 3, name: names[3], settings: settings(flip: true),
                                                                          keepAspect: false)
        XCTAssertNotEqual(other.image.pixels, loaded.image.pixels)

        XCTAssertTrue(try builder("whole.h5").run())
        var windows = 0
        XCTAssertFalse(try builder("part.h5").run(shouldStop: { windows > 0 }) { _ in windows += 1 })
        XCTAssertTrue(try builder("part.h5").run())
        let whole = try GaussianDatasetFile(opening: path("whole.h5")), resumed = try GaussianDatasetFile(opening: path("part.h5"))
        XCTAssertEqual(try resumed.names(0..<6), names)
        XCTAssertEqual(try whole.gaussians(0..<6), try resumed.gaussians(0..<6))
        XCTAssertEqual(whole.settings.crops, 3)
        XCTAssertTrue(whole.settings.flipCrops)
        try whole.close()
        XCTAssertThrowsError(try builder("whole.h5", flip: false).run()) { XCTAssertTrue("\($0)".contains("other settings"), "\($0)") }
    }
}
