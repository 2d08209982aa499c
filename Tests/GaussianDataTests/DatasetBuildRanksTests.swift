import XCTest
import SplatIO
import TestSupport
@testable import GaussianData
@testable import TensorCore

// DatasetBuilder with several ranks (threads of this process as an InProcessJob): rank 0 gathers
// and writes, and the file is byte for byte the single process's; the items travel bit for bit.

final class DatasetBuildRanksTests: TemporaryDirectoryTestCase {
    private func builder(_ name: String) -> DatasetBuilder {
        let settings = DatasetSettings(setSize: 12, imageSize: 24, steps: 30, recipe: .fit(.imagegs), order: .morton, seed: 5,
                                       splits: [0.6, 0.2, 0.2])
        return DatasetBuilder(source: .procedural(count: 7, seed: 9), output: temporaryPath(name),
                              settings: settings, workers: 1)
    }

    func testThreeRanksWriteTheBytesOfOneProcess() throws {
        XCTAssertTrue(try builder("one.h5").run())
        var progressCalls = [Int](repeating: 0, count: 3)
        let lock = NSLock()
        let completed = InProcessJob(size: 3).run { communicator -> Bool in
            (try? self.builder("three.h5").run(communicator: communicator) { _ in
                lock.lock()
                progressCalls[communicator.rank] += 1
                lock.unlock()
            }) ?? false
        }
        XCTAssertEqual(completed, [true, true, true])
        XCTAssertGreaterThan(progressCalls[0], 0)
        XCTAssertEqual(progressCalls[1] + progressCalls[2], 0, "only rank 0 reports progress")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: temporaryPath("three.h5"))),
                       try Data(contentsOf: URL(fileURLWithPath: temporaryPath("one.h5"))))
    }

    func testItemsAndErrorsTravelBitForBit() {
        let item = DatasetItem(name: "photo.png#crop03", gaussians: [1.5, -0.0, .infinity, Float(bitPattern: 0x7FC0_1234), 3e-38],
                               psnr: 31.25, ssim: 0.875, sourceWidth: 768, sourceHeight: 512)
        let bytes = DatasetItem.encoded(.success(item)) + DatasetItem.encoded(.failure(FileError("x.png", "not a PNG file")))
        let outcomes = DatasetItem.decodedOutcomes(bytes, rank: 2)
        XCTAssertEqual(outcomes.count, 2)
        let decoded = try? outcomes[0].get()
        XCTAssertEqual(decoded?.name, item.name)
        XCTAssertEqual(decoded?.gaussians.map(\.bitPattern), item.gaussians.map(\.bitPattern))
        XCTAssertEqual(decoded.map { [$0.psnr, $0.ssim] }, [item.psnr, item.ssim])
        XCTAssertEqual(decoded.map { [$0.sourceWidth, $0.sourceHeight] }, [768, 512])
        XCTAssertThrowsError(try outcomes[1].get()) { error in
            XCTAssertTrue("\(error)".hasPrefix("rank 2: ") && "\(error)".contains("x.png") && "\(error)".contains("not a PNG file"), "\(error)")
        }
    }
}
