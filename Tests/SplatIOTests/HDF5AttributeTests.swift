import SplatIO
import TestSupport
import XCTest

/// Attributes on the root, groups and datasets: every supported type, replacement, listing,
/// and the errors for missing or mistyped attributes.
final class HDF5AttributeTests: TemporaryDirectoryTestCase {
    func testAttributesRoundTripOnRootGroupsAndDatasets() throws {
        let path = temporaryPath("attributes.h5")
        let file = try HDF5File(creating: path)
        try file.write([Float](repeating: 0, count: 6), shape: [2, 3], to: "model/layer/weight")

        try file.setAttribute("name", to: "SplatKit ✓ — ünïcode")
        try file.setAttribute("empty", to: "")
        try file.setAttribute("version", to: Int64.min)
        try file.setAttribute("step", to: 42)
        try file.setAttribute("learning_rate", to: 1e-3, at: "model")
        try file.setAttribute("betas", to: [0.9, 0.999, -0.0], at: "/model/")
        try file.setAttribute("shape", to: [Int64.max, 3, -4], at: "model/layer/weight")
        try file.setAttribute("ints", to: [1, 2], at: "model/layer")
        try file.setAttribute("none", to: [Double](), at: "model/layer")
        try file.close()

        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.stringAttribute("name"), "SplatKit ✓ — ünïcode")
        XCTAssertEqual(try reopened.stringAttribute("empty", at: "/"), "")
        XCTAssertEqual(try reopened.int64Attribute("version"), Int64.min)
        XCTAssertEqual(try reopened.int64Attribute("step"), 42)
        XCTAssertEqual(try reopened.doubleAttribute("learning_rate", at: "model"), 1e-3)
        XCTAssertEqual(try reopened.doubleArrayAttribute("betas", at: "model").map(\.bitPattern),
                       [0.9, 0.999, -0.0].map(\.bitPattern))
        XCTAssertEqual(try reopened.int64ArrayAttribute("shape", at: "model/layer/weight"), [Int64.max, 3, -4])
        XCTAssertEqual(try reopened.int64ArrayAttribute("ints", at: "model/layer"), [1, 2])
        XCTAssertEqual(try reopened.doubleArrayAttribute("none", at: "model/layer"), [])
        // A scalar reads as a one-element array.
        XCTAssertEqual(try reopened.doubleArrayAttribute("learning_rate", at: "model"), [1e-3])

        XCTAssertEqual(try reopened.attributeNames(), ["empty", "name", "step", "version"])
        XCTAssertEqual(try reopened.attributeNames(at: "model"), ["betas", "learning_rate"])
        XCTAssertTrue(try reopened.hasAttribute("shape", at: "model/layer/weight"))
        XCTAssertFalse(try reopened.hasAttribute("shape", at: "model/layer"))
    }

    func testSettingAnAttributeAgainReplacesValueAndType() throws {
        let file = try HDF5File(creating: temporaryPath("replace.h5"))
        try file.setAttribute("value", to: 1.5)
        try file.setAttribute("value", to: "now a string")
        XCTAssertEqual(try file.stringAttribute("value"), "now a string")
        XCTAssertEqual(try file.attributeNames(), ["value"])
    }

    func testMissingAndMistypedAttributesNameTheFileObjectAndAttribute() throws {
        let path = temporaryPath("errors.h5")
        let file = try HDF5File(creating: path)
        try file.createGroup("model")
        try file.setAttribute("label", to: "text", at: "model")
        try file.setAttribute("pair", to: [1.0, 2.0], at: "model")

        let missing = assertThrowsFileError(try file.doubleAttribute("lr", at: "model"))
        XCTAssertEqual(missing?.path, path)
        XCTAssertEqual(missing?.reason, "no attribute 'lr' of '/model'")

        let noObject = assertThrowsFileError(try file.stringAttribute("label", at: "decoder"))
        XCTAssertEqual(noObject?.reason, "no object '/decoder' in file")

        let notNumber = assertThrowsFileError(try file.int64Attribute("label", at: "model"))
        XCTAssertEqual(notNumber?.reason, "attribute 'label' of '/model' holds string, which cannot be read as int64")

        let notString = assertThrowsFileError(try file.stringAttribute("pair", at: "model"))
        XCTAssertEqual(notString?.reason, "attribute 'pair' of '/model' holds float64, not a string")

        let notScalar = assertThrowsFileError(try file.doubleAttribute("pair", at: "model"))
        XCTAssertEqual(notScalar?.reason, "attribute 'pair' of '/model' has 2 elements, expected one")

        let noTarget = assertThrowsFileError(try file.setAttribute("x", to: 1, at: "missing/group"))
        XCTAssertEqual(noTarget?.reason, "no object '/missing/group' in file")
    }
}
