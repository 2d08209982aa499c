import XCTest
import SplatIO
import TestSupport
@testable import GaussianData
@testable import TensorCore

final class DatasetBuildTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("splatkit-dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    let settings = DatasetSettings(setSize: 12, imageSize: 24, steps: 30, recipe: .fit(.imagegs), order: .morton, seed: 5,
                                   splits: [0.6, 0.2, 0.2])

    func builder(_ output: String) -> DatasetBuilder {
        DatasetBuilder(source: .procedural(count: 5, seed: 9), output: output, settings: settings, workers: 2)
    }

    func testBuildWritesACompleteOrderedDataset() throws {
        XCTAssertTrue(try builder(path("a.h5")).run())
        let file = try GaussianDatasetFile(opening: path("a.h5"))
        XCTAssertTrue(file.isComplete)
        XCTAssertEqual(try file.itemCount(), 5)
        XCTAssertEqual(try file.names(0..<2), ["art_00000", "art_00001"])
        let sets = try file.gaussians(0..<5)
        XCTAssertEqual(sets.count, 5 * 12 * 8)
        for item in 0..<5 {  // Morton order within every set
            let rows = Array(sets[(item * 96)..<((item + 1) * 96)])
            let codes = (0..<12).map { SpatialOrder.mortonCode(x: rows[$0 * 8], y: rows[$0 * 8 + 1]) }
            XCTAssertEqual(codes, codes.sorted())
        }
        let splits = try file.splitIndices()
        XCTAssertEqual((splits.train + splits.validation + splits.test).sorted(), [0, 1, 2, 3, 4])
        XCTAssertEqual(splits.train.count, 3)
        let (mean, std) = try file.statistics()
        var accumulator = ColumnStatistics()
        for i in splits.train { accumulator.add(rows: try file.gaussians(i..<(i + 1))) }
        for c in 0..<8 {
            XCTAssertEqual(mean[c], accumulator.normalization.mean[c], accuracy: 1e-5)
            XCTAssertEqual(std[c], accumulator.normalization.standardDeviation[c], accuracy: 1e-5)
        }
        XCTAssertTrue(try file.quality("psnr", 0..<5).allSatisfy { $0 > 10 })
    }

    /// A build stopped after its first window and resumed equals one that never stopped.
    func testResumedBuildEqualsUninterrupted() throws {
        try builder(path("whole.h5")).run()
        var windows = 0
        XCTAssertFalse(try builder(path("part.h5")).run(shouldStop: { windows > 0 }) { _ in windows += 1 })
        let partial = try GaussianDatasetFile(opening: path("part.h5"))
        XCTAssertFalse(partial.isComplete)
        XCTAssertEqual(try partial.itemCount(), 4, "one window of 2 × workers")
        try partial.close()
        XCTAssertEqual(try globalHeapOffsets(in: path("part.h5")), [], "an unsealed dataset keeps its strings out of any global heap")
        var fitted = 0
        XCTAssertTrue(try builder(path("part.h5")).run(progress: { fitted = $0.fittedThisRun }))
        XCTAssertEqual(fitted, 1, "the resumed run fits only what was missing")
        let whole = try GaussianDatasetFile(opening: path("whole.h5")), resumed = try GaussianDatasetFile(opening: path("part.h5"))
        XCTAssertEqual(try whole.gaussians(0..<5), try resumed.gaussians(0..<5))
        XCTAssertEqual(try whole.splitIndices().train, try resumed.splitIndices().train)
        XCTAssertEqual(try whole.statistics().mean, try resumed.statistics().mean)
    }

    /// A build interrupted before datasets got fixed-length strings (its strings in a global
    /// heap, the file unsealed) resumes as it did, and equals one that never stopped.
    func testAnInterruptedBuildWithItsStringsInAGlobalHeapResumes() throws {
        try builder(path("whole.h5")).run()
        var windows = 0
        XCTAssertFalse(try builder(path("part.h5")).run(shouldStop: { windows > 0 }) { _ in windows += 1 })
        try moveStringsIntoAGlobalHeap(ofDatasetAt: path("part.h5"))
        XCTAssertEqual(try globalHeapOffsets(in: path("part.h5")).count, 1)
        var fitted = 0
        XCTAssertTrue(try builder(path("part.h5")).run(progress: { fitted = $0.fittedThisRun }))
        XCTAssertEqual(fitted, 1, "the resumed run fits only what was missing")
        let whole = try GaussianDatasetFile(opening: path("whole.h5")), resumed = try GaussianDatasetFile(opening: path("part.h5"))
        XCTAssertEqual(resumed.settings, whole.settings)
        XCTAssertEqual(try whole.gaussians(0..<5), try resumed.gaussians(0..<5))
        XCTAssertEqual(try whole.splitIndices().train, try resumed.splitIndices().train)
    }

    func testMismatchedSettingsAndBadFilesAreClearErrors() throws {
        try builder(path("a.h5")).run()
        var other = builder(path("a.h5"))
        other.settings.steps = 31
        XCTAssertThrowsError(try other.run()) { XCTAssertTrue("\($0)".contains("other settings"), "\($0)") }
        try Data("junk".utf8).write(to: URL(fileURLWithPath: path("junk.h5")))
        XCTAssertThrowsError(try GaussianDatasetFile(opening: path("junk.h5"))) { XCTAssertEqual(($0 as? FileError)?.path, self.path("junk.h5")) }
        XCTAssertThrowsError(try DatasetSource.images(folder: path("missing")).names()) { XCTAssertTrue("\($0)".contains("missing")) }
    }
}
