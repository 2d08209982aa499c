// GaussianDatasetFile+Validation.swift: a dataset whose counts and shapes disagree is a
// `FileError` naming the file and what is wrong (issue 23, items 4–7), never a trap, a hang or
// a huge allocation. Each test writes a small complete dataset, then damages one thing.

import Foundation
import SplatIO
import TestSupport
import XCTest
@testable import GaussianData

final class DatasetValidationTests: TemporaryDirectoryTestCase {
    /// A complete dataset of 5 sets of 4 Gaussians.
    func writeDataset(_ name: String = "data.h5") throws -> String {
        let path = temporaryPath(name)
        let settings = DatasetSettings(setSize: 4, imageSize: 16, steps: 1, recipe: .fit(.imagegs), order: .morton, seed: 3,
                                       splits: [0.6, 0.2, 0.2])
        let file = try GaussianDatasetFile(creating: path, settings: settings)
        for index in 0..<5 {
            let gaussians = (0..<32).map { Float($0 % 8) * 0.1 + Float(index) }
            try file.append(DatasetItem(name: "art_\(index)", gaussians: gaussians, psnr: 20, ssim: 0.5,
                                        sourceWidth: 16, sourceHeight: 16), at: index)
        }
        try file.finish()
        try file.close()
        return path
    }

    /// Opens `path` as raw HDF5 for writing, runs `damage`, closes it.
    func damage(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        let file = try HDF5File(opening: path, mode: .readWrite)
        try body(file)
        try file.close()
    }

    func assertFileError(_ expected: FileError, _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual(error as? FileError, expected, line: line)
        }
    }

    func testAnIntactDatasetOpensAndReads() throws {
        let path = try writeDataset()
        let file = try GaussianDatasetFile(opening: path)
        let splits = try file.splitIndices()
        XCTAssertEqual((splits.train + splits.validation + splits.test).sorted(), [0, 1, 2, 3, 4])
        XCTAssertEqual(try file.statistics().mean.count, 8)
        XCTAssertEqual(try file.names(0..<2), ["art_0", "art_1"])
    }

    func testNamesOfTheWrongWidth() throws {
        let path = try writeDataset()
        try damage(path) { try $0.write([UInt8](repeating: 65, count: 5 * 100), shape: [5, 100], to: "names") }
        assertFileError(FileError(path, "dataset 'names' has shape [5, 100], expected (M, 256)")) {
            _ = try GaussianDatasetFile(opening: path)
        }
    }

    func testSplitIndexBeyondTheItems() throws {
        let path = try writeDataset()
        try damage(path) { try $0.write([0, Int64.max] as [Int64], shape: [2], to: "splits/validation") }
        let file = try GaussianDatasetFile(opening: path)
        assertFileError(FileError(path, "split 'validation' holds item index \(Int64.max), but the dataset has 5 items")) {
            _ = try file.splitIndices()
        }
        XCTAssertThrowsError(try DatasetSplit(file, split: "validation"))
        try file.close()
        try damage(path) { try $0.write([-1] as [Int64], shape: [1], to: "splits/validation") }
        assertFileError(FileError(path, "split 'validation' holds item index -1, but the dataset has 5 items")) {
            _ = try GaussianDatasetFile(opening: path).splitIndices()
        }
    }

    func testStatisticsOfTheWrongLengthOrNotFinite() throws {
        let path = try writeDataset()
        try damage(path) { try $0.write([Float](repeating: 1, count: 3), shape: [3], to: "statistics/mean") }
        assertFileError(FileError(path, "dataset 'statistics/mean' holds 3 values, expected 8 (one per parameter)")) {
            _ = try GaussianDatasetFile(opening: path).statistics()
        }
        try damage(path) {
            try $0.write([Float](repeating: 0, count: 8), shape: [8], to: "statistics/mean")
            try $0.write([Float](repeating: 1, count: 9), shape: [9], to: "statistics/std")
        }
        assertFileError(FileError(path, "dataset 'statistics/std' holds 9 values, expected 8 (one per parameter)")) {
            _ = try GaussianDatasetFile(opening: path).statistics()
        }
        try damage(path) { try $0.write([1, 1, 1, .nan, 1, 1, 1, 1] as [Float], shape: [8], to: "statistics/std") }
        assertFileError(FileError(path, "dataset 'statistics/std' holds NaN or infinite values")) {
            _ = try GaussianDatasetFile(opening: path).statistics()
        }
    }

    func testSetSizeNegativeZeroHugeOrDisagreeingWithTheSets() throws {
        let path = try writeDataset()
        for setSize in [-1, 0, Int.max, 1 << 40] {
            try damage(path) { try $0.setAttribute("set_size", to: setSize) }
            assertFileError(FileError(path, "set_size \(setSize) is invalid (a set holds 1...1048576 Gaussians)")) {
                _ = try GaussianDatasetFile(opening: path)
            }
        }
        try damage(path) { try $0.setAttribute("set_size", to: 512) }
        assertFileError(FileError(path, "dataset 'gaussians' has shape [5, 4, 8], expected (M, 512, 8) for set_size 512")) {
            _ = try GaussianDatasetFile(opening: path)
        }
    }

    func testAnUnknownOrderIsAFileError() throws {
        let path = try writeDataset()
        try damage(path) { try $0.setAttribute("order", to: "zigzag") }
        assertFileError(FileError(path, "attribute 'order' is 'zigzag', not one of morton, hilbert, none")) {
            _ = try GaussianDatasetFile(opening: path)
        }
    }

    /// An unsealed dataset whose global heap libhdf5 1.10 would loop on forever (a spliced
    /// dataset, in scripts/fuzz): reading it, or rerunning its build, is a `FileError` at once.
    func testADamagedGlobalHeapOfAnUnsealedDatasetIsAFileError() throws {
        let path = try writeDataset()
        try moveStringsIntoAGlobalHeap(ofDatasetAt: path)
        XCTAssertEqual(try GaussianDatasetFile(opening: path).settings.order, .morton, "intact, it opens")
        let heap = try XCTUnwrap(globalHeapOffsets(in: path).first)
        try makeFirstHeapObjectEndlessFreeSpace(in: path, collectionAt: heap)
        let expected = FileError(path, "damaged: the global heap collection at byte \(heap) has free space at byte \(heap + 16) "
                                 + "of 0 bytes, less than its own header (HDF5 checksums no global heap; libhdf5 would loop or "
                                 + "read out of bounds on it)")
        for forWriting in [false, true] {
            let outcome = withinDeadline(seconds: 10) { try GaussianDatasetFile(opening: path, forWriting: forWriting) }
            assertFileError(expected) { _ = try outcome.get() }
        }
    }

    func testSetsOfAnotherWidthAreNotReadAsEightColumns() throws {
        // (M, 16, 7) sets must not be read as (M', N, 8): the column count is part of the shape.
        let path = try writeDataset()
        try damage(path) {
            try $0.setAttribute("set_size", to: 16)
            try $0.write([Float](repeating: 0, count: 5 * 16 * 7), shape: [5, 16, 7], to: "gaussians")
        }
        assertFileError(FileError(path, "dataset 'gaussians' has shape [5, 16, 7], expected (M, 16, 8) for set_size 16")) {
            _ = try GaussianDatasetFile(opening: path)
        }
    }

    func testPerItemDatasetsOfTheWrongType() throws {
        let path = try writeDataset()
        try damage(path) { try $0.write([Double](repeating: 20, count: 5), shape: [5], to: "psnr") }
        assertFileError(FileError(path, "dataset 'psnr' holds float64 elements, expected float32")) {
            _ = try GaussianDatasetFile(opening: path)
        }
    }
}
