import Foundation
import SplatIO
import TensorCore
import XCTest
@testable import Inpainting

/// The inpainting photo lists (issue 22): the committed train, validation and test lists are
/// disjoint and fixed, and an image set read through lists spans subfolders and refuses lists
/// that share an image or name a missing file.
final class InpaintingImageListsTests: XCTestCase {
    private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testTheCommittedListsAreDisjointAndWhole() throws {
        let lists = try ["train", "validation", "test"].map { name in
            try readNameList(at: repository.appendingPathComponent("configs/inpaint/\(name).txt").path)
        }
        XCTAssertEqual(lists.map(\.count), [163, 21, 19], "the lists are fixed")
        let all = lists.flatMap { $0 }
        XCTAssertEqual(Set(all).count, all.count, "no image is in two lists, or twice in one")
        XCTAssertTrue(all.allSatisfy { $0.hasPrefix("photos/") || $0.hasPrefix("cq100/") })
    }

    func testAnImageSetFromListsSpansSubfoldersAndRefusesOverlaps() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("inpaint-lists-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for folder in ["a", "b"] { try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }
        for (index, name) in ["a/one.png", "a/two.png", "b/three.png"].enumerated() {
            let pixels = [Float](repeating: Float(index) / 4, count: 8 * 6 * 3)
            try RGBImage(width: 8, height: 6, pixels: pixels).writePNG(to: root + "/" + name)
        }
        let write = { (name: String, text: String) throws -> String in
            let path = root + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let train = try write("train.txt", "# training\na/one.png\nb/three.png\n"), validation = try write("validation.txt", "a/two.png\n")
        let set = try InpaintingImageSet(root: root, trainList: train, validationList: validation)
        XCTAssertEqual(set.trainNames, ["a/one.png", "b/three.png"])
        XCTAssertEqual(set.validationNames, ["a/two.png"])
        XCTAssertEqual(set.train.count, 2)
        XCTAssertEqual(set.validation[0].width, 8)

        let overlapping = try write("overlap.txt", "b/three.png\n")
        XCTAssertThrowsError(try InpaintingImageSet(root: root, trainList: train, validationList: overlapping)) { error in
            XCTAssertTrue("\(error)".contains(overlapping) && "\(error)".contains("disjoint"), "\(error)")
        }
        let missing = try write("missing.txt", "a/four.png\n")
        XCTAssertThrowsError(try InpaintingImageSet(root: root, trainList: train, validationList: missing)) { error in
            XCTAssertTrue("\(error)".contains("a/four.png"), "\(error)")
        }
    }
}
