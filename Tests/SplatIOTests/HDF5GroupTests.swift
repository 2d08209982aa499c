import SplatIO
import TestSupport
import XCTest

/// Groups: automatic intermediate groups, `exists`, listing children and all datasets.
final class HDF5GroupTests: TemporaryDirectoryTestCase {
    private func makeTree() throws -> HDF5File {
        let file = try HDF5File(creating: temporaryPath("tree.h5"))
        try file.write([Float](repeating: 0.5, count: 12), shape: [4, 3], to: "encoder/conv1/weight")
        try file.write([Float](repeating: -1, count: 4), shape: [4], to: "/encoder/conv1/bias")
        try file.write([Double(1)], shape: [1], to: "encoder//scale/")
        try file.write([UInt8](arrayLiteral: 1, 2), shape: [2], to: "decoder/linear/weight")
        try file.createGroup("empty/inner")
        return file
    }

    func testIntermediateGroupsAreCreatedAndExist() throws {
        let file = try makeTree()
        for group in ["/", "encoder", "/encoder/conv1", "decoder/linear", "empty", "empty/inner"] {
            XCTAssertTrue(try file.exists(group), group)
            XCTAssertEqual(try file.kind(of: group), .group, group)
        }
        for dataset in ["encoder/conv1/weight", "/encoder/scale", "decoder/linear/weight"] {
            XCTAssertEqual(try file.kind(of: dataset), .dataset, dataset)
        }
        for missing in ["nothing", "encoder/conv2", "encoder/conv1/weight/below", "empty/inner/x/y"] {
            XCTAssertFalse(try file.exists(missing), missing)
            XCTAssertNil(try file.kind(of: missing), missing)
        }
        // Creating an existing group is a no-op; creating one where a dataset is throws.
        try file.createGroup("encoder/conv1")
        let error = assertThrowsFileError(try file.createGroup("encoder/scale"))
        XCTAssertEqual(error?.reason, "cannot create group '/encoder/scale': a dataset exists there")
    }

    func testChildrenAreListedByNameWithTheirKind() throws {
        let file = try makeTree()
        XCTAssertEqual(try file.children(), [
            HDF5Child(name: "decoder", kind: .group),
            HDF5Child(name: "empty", kind: .group),
            HDF5Child(name: "encoder", kind: .group),
        ])
        XCTAssertEqual(try file.children(of: "encoder"), [
            HDF5Child(name: "conv1", kind: .group),
            HDF5Child(name: "scale", kind: .dataset),
        ])
        XCTAssertEqual(try file.children(of: "/encoder/conv1/"), [
            HDF5Child(name: "bias", kind: .dataset),
            HDF5Child(name: "weight", kind: .dataset),
        ])
        XCTAssertEqual(try file.children(of: "empty/inner"), [])

        let notGroup = assertThrowsFileError(try file.children(of: "encoder/scale"))
        XCTAssertEqual(notGroup?.reason, "'/encoder/scale' is a dataset, not a group")
        let missing = assertThrowsFileError(try file.children(of: "nowhere"))
        XCTAssertEqual(missing?.reason, "no group '/nowhere' in file")
    }

    func testDatasetPathsListsEveryDatasetRecursively() throws {
        let file = try makeTree()
        XCTAssertEqual(try file.datasetPaths(), [
            "/decoder/linear/weight",
            "/encoder/conv1/bias",
            "/encoder/conv1/weight",
            "/encoder/scale",
        ])
        XCTAssertEqual(try file.datasetPaths(under: "encoder/conv1"), ["/encoder/conv1/bias", "/encoder/conv1/weight"])
        XCTAssertEqual(try file.datasetPaths(under: "empty"), [])
    }
}
