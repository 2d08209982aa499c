import XCTest
import TestSupport
@testable import GaussianData
import TensorCore

// Splits keep every source image in one split: crops of a photo never straddle train and test.

final class DatasetSplitsTests: XCTestCase {
    func testSourceKeyDropsCropSuffixAndMergePrefix() {
        XCTAssertEqual(sourceImageKey(ofItemNamed: "photo.png#crop03"), "photo.png")
        XCTAssertEqual(sourceImageKey(ofItemNamed: "photos_c16.h5/photo.png#crop12"), "photo.png")
        XCTAssertEqual(sourceImageKey(ofItemNamed: "photo.png"), "photo.png")
        XCTAssertEqual(sourceImageKey(ofItemNamed: "procedural.h5/art_00007"), "art_00007")
        XCTAssertEqual(sourceImageKey(ofItemNamed: "odd#cropped"), "odd#cropped", "not a crop number")
    }

    /// 30 photos × 4 crops, listed photo by photo as a build writes them.
    private let cropNames = (0..<30).flatMap { photo in (0..<4).map { String(format: "p%02d.png#crop%02d", photo, $0) } }

    func testCropsOfOnePhotoShareASplit() {
        let splitting = splitBySource(names: cropNames, fractions: [0.8, 0.1, 0.1], seed: 3)
        let (train, validation, test) = (splitting.train, splitting.validation, splitting.test)
        XCTAssertTrue(splitting.keepsSources)
        XCTAssertEqual((train + validation + test).sorted(), Array(0..<120), "every item once")
        func photos(_ items: [Int]) -> Set<String> { Set(items.map { sourceImageKey(ofItemNamed: cropNames[$0]) }) }
        XCTAssertTrue(photos(train).isDisjoint(with: photos(test)))
        XCTAssertTrue(photos(train).isDisjoint(with: photos(validation)))
        XCTAssertTrue(photos(validation).isDisjoint(with: photos(test)))
        XCTAssertEqual(train.count, 96, "whole photos up to 80 %")
        XCTAssertEqual(validation.count, 12)
        XCTAssertEqual(test.count, 12)
        XCTAssertEqual(splitBySource(names: cropNames, fractions: [0.8, 0.1, 0.1], seed: 3).test, test, "seeded")
        XCTAssertNotEqual(splitBySource(names: cropNames, fractions: [0.8, 0.1, 0.1], seed: 4).test, test)
    }

    /// Items that are their own sources split exactly as a seeded shuffle of the items.
    func testDistinctSourcesSplitAsAShuffleOfItems() {
        let names = (0..<50).map { String(format: "art_%05d", $0) }
        let splitting = splitBySource(names: names, fractions: [0.7, 0.2, 0.1], seed: 9)
        let (train, validation, test) = (splitting.train, splitting.validation, splitting.test)
        XCTAssertTrue(splitting.keepsSources)
        var generator = RandomGenerator(seed: 9 ^ 0x5EED_5EED)
        let order = generator.permutation(50)
        XCTAssertEqual(train, order[0..<35].sorted())
        XCTAssertEqual(validation, order[35..<45].sorted())
        XCTAssertEqual(test, order[45...].sorted())
    }

    /// Two photos in 8 crops each cannot fill three splits whole: items are split one by one.
    func testTooFewSourcesFallBackToItems() {
        let names = (0..<2).flatMap { photo in (0..<8).map { "p\(photo).png#crop0\($0)" } }
        let splitting = splitBySource(names: names, fractions: [0.75, 0.125, 0.125], seed: 1)
        XCTAssertEqual([splitting.train.count, splitting.validation.count, splitting.test.count], [12, 2, 2])
        XCTAssertFalse(splitting.keepsSources, "the fallback is reported, for the builder's warning")
    }
}

/// A finished dataset records whether its splits keep sources whole, for `dataset build`'s
/// warning and `dataset info`.
final class DatasetSplitRecordTests: TemporaryDirectoryTestCase {
    private func finishedDataset(names: [String]) throws -> (keepsSources: Bool, recorded: Bool?) {
        let path = temporaryPath("data-\(names.first!).h5")
        let settings = DatasetSettings(setSize: 2, imageSize: 16, steps: 1, recipe: .fit(.imagegs), order: .morton, seed: 1,
                                       splits: [0.75, 0.125, 0.125])
        let file = try GaussianDatasetFile(creating: path, settings: settings)
        for (index, name) in names.enumerated() {
            try file.append(DatasetItem(name: name, gaussians: [Float](repeating: 0.5, count: 16), psnr: 20, ssim: 0.5,
                                        sourceWidth: 16, sourceHeight: 16), at: index)
        }
        let keepsSources = try file.finish()
        try file.close()
        let reopened = try GaussianDatasetFile(opening: path)
        defer { try? reopened.close() }
        return (keepsSources, reopened.splitsKeepSources)
    }

    func testFallbackToItemSplitsIsRecorded() throws {
        let twoPhotos = try finishedDataset(names: (0..<2).flatMap { photo in (0..<8).map { "p\(photo).png#crop0\($0)" } })
        XCTAssertFalse(twoPhotos.keepsSources)
        XCTAssertEqual(twoPhotos.recorded, false)
        let sixteenPhotos = try finishedDataset(names: (0..<16).map { "p\($0).png" })
        XCTAssertTrue(sixteenPhotos.keepsSources)
        XCTAssertEqual(sixteenPhotos.recorded, true)
    }
}
