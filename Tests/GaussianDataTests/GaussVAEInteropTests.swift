// GaussVAEInterop.importFolder: a folder of GaussVAE .npz sets becomes a dataset, whole or not
// at all; a set of 0 Gaussians (issue 23, item 12) or of another size is a FileError naming its
// file, and leaves no output behind.

import Foundation
import SplatIO
import TestSupport
import XCTest
@testable import GaussianData

final class GaussVAEInteropTests: TemporaryDirectoryTestCase {
    /// Writes `folder/<name>.npz` with `gaussians` of `count` rows.
    func writeSet(_ name: String, count: Int, in folder: String) throws {
        try FileManager.default.createDirectory(atPath: temporaryPath(folder), withIntermediateDirectories: true)
        let rows = (0..<(count * 8)).map { Float($0 % 8) * 0.1 + Float($0 / 8) }
        try NPZ.write([("gaussians", NPYArray(shape: [count, 8], floats: rows))], to: temporaryPath("\(folder)/\(name).npz"))
    }

    func importFolder(_ folder: String, to output: String) throws -> Int {
        try GaussVAEInterop.importFolder(temporaryPath(folder), statistics: nil, output: temporaryPath(output), order: .none,
                                         seed: 1, splits: [0.6, 0.2, 0.2])
    }

    func testImportsEverySet() throws {
        for name in ["a", "b", "c"] { try writeSet(name, count: 4, in: "sets") }
        XCTAssertEqual(try importFolder("sets", to: "data.h5"), 3)
        let dataset = try GaussianDatasetFile(opening: temporaryPath("data.h5"))
        XCTAssertTrue(dataset.isComplete)
        XCTAssertEqual(try dataset.names(0..<3), ["a", "b", "c"])
        XCTAssertEqual(try dataset.gaussians(1..<2).count, 32)
    }

    func testASetOfNoGaussiansIsAFileErrorAndWritesNothing() throws {
        try writeSet("empty", count: 0, in: "sets")
        XCTAssertThrowsError(try importFolder("sets", to: "data.h5")) { error in
            XCTAssertEqual(error as? FileError, FileError(temporaryPath("sets/empty.npz"),
                                                          "'gaussians' has shape [0, 8]: a set holds 1...1048576 Gaussians"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporaryPath("data.h5")))
    }

    func testASetOfAnotherSizeLeavesNoPartialDataset() throws {
        try writeSet("a", count: 4, in: "sets")
        try writeSet("b", count: 4, in: "sets")
        try writeSet("c", count: 5, in: "sets")
        XCTAssertThrowsError(try importFolder("sets", to: "data.h5")) { error in
            XCTAssertEqual(error as? FileError, FileError(temporaryPath("sets/c.npz"), "holds 5 Gaussians; the first file (a.npz) holds 4"))
        }
        XCTAssertEqual(try directoryEntries().filter { $0.contains("data.h5") }, [], "no dataset and no temporary file")
    }
}
