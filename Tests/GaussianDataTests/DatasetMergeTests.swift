import Foundation
import SplatIO
import TestSupport
import XCTest
@testable import GaussianData

final class DatasetMergeTests: TemporaryDirectoryTestCase {
    func path(_ name: String) -> String { temporaryPath(name) }

    func settings(setSize: Int = 8, steps: Int = 20, seed: UInt64) -> DatasetSettings {
        DatasetSettings(setSize: setSize, imageSize: 16, steps: steps, recipe: .fit(.imagegs), order: .morton, seed: seed,
                        splits: [0.6, 0.2, 0.2])
    }

    /// `count` procedural 16 × 16 images fitted with 8 Gaussians; with `stopAfterWindow` only the
    /// first window of 2 is written and the dataset stays incomplete.
    @discardableResult
    func build(_ name: String, count: Int, steps: Int = 20, seed: UInt64, stopAfterWindow: Bool = false) throws -> String {
        let builder = DatasetBuilder(source: .procedural(count: count, seed: seed), output: path(name),
                                     settings: settings(steps: steps, seed: seed), workers: 1)
        var windows = 0
        try builder.run(shouldStop: { stopAfterWindow && windows > 0 }) { _ in windows += 1 }
        return path(name)
    }

    func testMergeCopiesEveryItemAndRecordsItsSource() throws {
        let a = try build("procedural.h5", count: 3, seed: 1)
        let b = try build("other.h5", count: 5, steps: 10, seed: 2, stopAfterWindow: true)
        let output = path("out/merged.h5")
        var reported: [String] = []
        let sources = try GaussianDatasetMerge.merge([a, b], into: output, seed: 7, splits: [0.6, 0.2, 0.2]) { reported.append($0.file) }
        XCTAssertEqual(reported, [a, b])
        XCTAssertEqual(sources.map(\.items), [3, 2])
        XCTAssertEqual(sources.map(\.complete), [true, false])

        let merged = try GaussianDatasetFile(opening: output)
        XCTAssertTrue(merged.isComplete)
        XCTAssertEqual(try merged.itemCount(), 5)
        XCTAssertEqual(try merged.names(0..<5), ["procedural.h5/art_00000", "procedural.h5/art_00001", "procedural.h5/art_00002",
                                                 "other.h5/art_00000", "other.h5/art_00001"])
        XCTAssertEqual(try merged.itemSources(), [0, 0, 0, 1, 1])
        XCTAssertEqual(try merged.mergedSources(), sources)
        XCTAssertEqual(sources[1].settings, settings(steps: 10, seed: 2))
        XCTAssertEqual(merged.settings, DatasetSettings(setSize: 8, imageSize: 16, steps: 20, recipe: .fit(.imagegs), order: .morton,
                                                        seed: 7, splits: [0.6, 0.2, 0.2]))

        // Sets, qualities and source sizes equal the inputs' bit for bit, in input order.
        var offset = 0
        for (input, count) in [(a, 3), (b, 2)] {
            let original = try GaussianDatasetFile(opening: input)
            let range = offset..<(offset + count)
            XCTAssertEqual(try merged.gaussians(range).map(\.bitPattern), try original.gaussians(0..<count).map(\.bitPattern))
            XCTAssertEqual(try merged.quality("psnr", range), try original.quality("psnr", 0..<count))
            XCTAssertEqual(try merged.quality("ssim", range), try original.quality("ssim", 0..<count))
            XCTAssertEqual(try merged.sourceSizes(range).map(\.width), try original.sourceSizes(0..<count).map(\.width))
            offset += count
        }

        // New splits over all items, statistics over the new train split.
        let splits = try merged.splitIndices()
        XCTAssertEqual((splits.train + splits.validation + splits.test).sorted(), Array(0..<5))
        XCTAssertEqual([splits.train.count, splits.validation.count, splits.test.count], [3, 1, 1])
        var accumulator = ColumnStatistics()
        for index in splits.train { accumulator.add(rows: try merged.gaussians(index..<(index + 1))) }
        let (mean, std) = try merged.statistics()
        XCTAssertEqual(mean, accumulator.normalization.mean)
        XCTAssertEqual(std, accumulator.normalization.standardDeviation)

        // The same merge again gives the same file contents.
        try GaussianDatasetMerge.merge([a, b], into: path("again.h5"), seed: 7, splits: [0.6, 0.2, 0.2])
        let again = try GaussianDatasetFile(opening: path("again.h5"))
        XCTAssertEqual(try again.splitIndices().train, splits.train)
        XCTAssertEqual(try again.statistics().mean, mean)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("out")), ["merged.h5"], "no temporary file left")
    }

    func testUnlikeInputsAreRefusedNamingTheFileAndWriteNothing() throws {
        let a = try build("a.h5", count: 2, seed: 1)
        let six = path("six.h5"), large = path("large.h5"), copy = path("copy/a.h5")
        try GaussianDatasetFile(creating: six, settings: settings(setSize: 6, seed: 1)).close()
        var largeSettings = settings(seed: 1)
        largeSettings.imageSize = 24
        try GaussianDatasetFile(creating: large, settings: largeSettings).close()
        try FileManager.default.createDirectory(atPath: path("copy"), withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: a, toPath: copy)
        let before = try directoryEntries()

        func refusal(_ inputs: [String], into output: String? = nil, line: UInt = #line) -> FileError? {
            do {
                try GaussianDatasetMerge.merge(inputs, into: output ?? path("merged.h5"), seed: 0, splits: [0.8, 0.1, 0.1])
                XCTFail("merged \(inputs)", line: line)
            } catch let error as FileError {
                return error
            } catch {
                XCTFail("expected a FileError, got \(error)", line: line)
            }
            return nil
        }
        let mismatch = refusal([a, six])
        XCTAssertEqual(mismatch?.path, six)
        XCTAssertTrue(mismatch?.reason.hasPrefix("holds sets of 6 Gaussians, but \(a) holds sets of 8") == true, "\(String(describing: mismatch))")
        XCTAssertEqual(refusal([a, large])?.path, large)
        XCTAssertTrue(refusal([a, large])?.reason.contains("fitted at 24 px") == true)
        XCTAssertEqual(refusal([a, path("missing.h5")]), FileError(path("missing.h5"), "no such file"))
        XCTAssertEqual(refusal([a, copy])?.path, copy)
        XCTAssertTrue(refusal([a, copy])?.reason.contains("same file name") == true)
        XCTAssertEqual(refusal([a, six], into: a), FileError(a, "already exists; choose another --output or remove it first"))
        XCTAssertEqual(try directoryEntries(), before, "nothing written")
    }

    /// A problem found while copying (a name repeated inside one input) leaves no output and no
    /// temporary file behind.
    func testFailureWhileCopyingLeavesNothing() throws {
        let a = try build("a.h5", count: 2, seed: 1)
        let repeated = path("repeated.h5")
        let file = try GaussianDatasetFile(creating: repeated, settings: settings(seed: 4))
        let item = DatasetItem(name: "same", gaussians: [Float](repeating: 0.5, count: 64), psnr: 20, ssim: 0.5,
                               sourceWidth: 16, sourceHeight: 16)
        try file.append(contentsOf: [item, item], at: 0)
        try file.close()
        XCTAssertThrowsError(try GaussianDatasetMerge.merge([a, repeated], into: path("merged.h5"), seed: 0, splits: [0.8, 0.1, 0.1])) {
            XCTAssertEqual(($0 as? FileError)?.path, repeated)
            XCTAssertTrue("\($0)".contains("'same' twice"), "\($0)")
        }
        XCTAssertEqual(try directoryEntries(), ["a.h5", "repeated.h5"])
    }

    /// h5py reads the merged file's names, item sources and per-input settings.
    func testH5pyReadsTheMergedFile() throws {
        let probe = try runPython("import h5py, numpy")
        guard probe.status == 0 else { throw XCTSkip("h5py is not importable by python3: \(probe.standardError)") }
        let a = try build("procedural.h5", count: 2, seed: 1)
        let b = try build("other.h5", count: 2, steps: 10, seed: 2)
        try GaussianDatasetMerge.merge([a, b], into: path("merged.h5"), seed: 7, splits: [0.5, 0.5, 0.0])
        let script = """
            import h5py, json, sys
            with h5py.File(sys.argv[1], "r") as f:
                sources = f["sources"]
                print(json.dumps({
                    "names": [bytes(row).rstrip(b"\\0").decode() for row in f["names"][()]],
                    "source": [int(s) for s in f["source"][()]],
                    "source_dtype": str(f["source"].dtype),
                    "files": [sources[str(i)].attrs["file"].decode() for i in range(int(sources.attrs["count"]))],
                    "items": [int(sources[str(i)].attrs["items"]) for i in range(int(sources.attrs["count"]))],
                    "steps": [int(sources[str(i)].attrs["steps"]) for i in range(int(sources.attrs["count"]))],
                    "gaussians": list(f["gaussians"].shape)}))
            """
        let result = try runPython(script, arguments: [path("merged.h5")])
        XCTAssertEqual(result.status, 0, result.standardError)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(summary["names"] as? [String], ["procedural.h5/art_00000", "procedural.h5/art_00001",
                                                       "other.h5/art_00000", "other.h5/art_00001"])
        XCTAssertEqual(summary["source"] as? [Int], [0, 0, 1, 1])
        XCTAssertEqual(summary["source_dtype"] as? String, "int32")
        XCTAssertEqual(summary["files"] as? [String], [a, b])
        XCTAssertEqual(summary["items"] as? [Int], [2, 2])
        XCTAssertEqual(summary["steps"] as? [Int], [20, 10])
        XCTAssertEqual(summary["gaussians"] as? [Int], [4, 8, 8])
    }
}
