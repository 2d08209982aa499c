import TestSupport
import XCTest
import SplatIO
@testable import GaussianRasterizer
@testable import TensorCore

final class GaussianSetFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("splatkit-sets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testRoundTrip() throws {
        let path = folder.appendingPathComponent("set.h5").path
        let gaussians = randomImageGSParameters(count: 9, width: 30, height: 20, seed: 2).detached()
        try GaussianSet(gaussians: gaussians, width: 30, height: 20, psnr: 31.5, ssim: 0.9, recipe: "imagegs", steps: 100).write(to: path)
        let read = try GaussianSet(contentsOf: path)
        XCTAssertEqual(read.gaussians.scalars, gaussians.scalars)
        XCTAssertEqual(read.gaussians.shape, [9, 8])
        XCTAssertEqual([read.width, read.height], [30, 20])
        XCTAssertEqual(read.psnr, 31.5)
        XCTAssertEqual(read.recipe, "imagegs")
        XCTAssertEqual(read.steps, 100)
    }

    func testBadFilesGiveClearErrors() throws {
        let notHDF5 = folder.appendingPathComponent("junk.h5").path
        try Data("not an hdf5 file".utf8).write(to: URL(fileURLWithPath: notHDF5))
        XCTAssertThrowsError(try GaussianSet(contentsOf: notHDF5)) { error in
            XCTAssertEqual((error as? FileError)?.path, notHDF5)
        }
        let wrongShape = folder.appendingPathComponent("shape.h5").path
        let file = try HDF5File(creating: wrongShape)
        try file.write(Tensor.zeros([4, 7]), to: "gaussians")
        try file.setAttribute("format", to: GaussianSet.format)
        try file.setAttribute("format_version", to: Int64(1))
        try file.setAttribute("convention", to: "imagegs")
        try file.close()
        XCTAssertThrowsError(try GaussianSet(contentsOf: wrongShape)) { error in
            XCTAssertTrue("\(error)".contains("(N, 8)"), "\(error)")
        }
        let other = folder.appendingPathComponent("other.h5").path
        let otherFile = try HDF5File(creating: other)
        try otherFile.setAttribute("format", to: "splatkit-checkpoint")
        try otherFile.close()
        XCTAssertThrowsError(try GaussianSet(contentsOf: other)) { error in
            XCTAssertTrue("\(error)".contains("not a SplatKit Gaussian set"), "\(error)")
        }
    }
}
