import TestSupport
import XCTest
import SplatIO
@testable import GaussianFitting
import GaussianRasterizer
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
        try GaussianSet(gaussians: gaussians, width: 30, height: 20, psnr: 31.5, ssim: 0.9, recipe: .fit(.imagegs), steps: 100).write(to: path)
        let read = try GaussianSet(contentsOf: path)
        XCTAssertEqual(read.gaussians.scalars, gaussians.scalars)
        XCTAssertEqual(read.gaussians.shape, [9, 8])
        XCTAssertEqual([read.width, read.height], [30, 20])
        XCTAssertEqual(read.psnr, 31.5)
        XCTAssertEqual(read.recipe, .fit(.imagegs))
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

    /// Screen features → Image-GS parameters → screen features is the identity (conics from
    /// random rotations and scales, both orders of the axes).
    func testImageGSParametersFromScreenFeaturesInvertsTheConic() {
        let parameters = randomInput([12, 8], seed: 5)
        var rows = parameters.scalars
        for g in 0..<12 {
            rows[g * 8 + 2] = 0.2 + abs(rows[g * 8 + 2])  // nonzero inverse scales
            rows[g * 8 + 3] = 0.3 + abs(rows[g * 8 + 3])
            rows[g * 8 + 4] *= 3                           // rotations beyond ±π/2
        }
        let screen = imageGSScreenFeatures(Tensor(shape: [12, 8], scalars: rows), width: 40, height: 30)
        let recovered = imageGSParameters(fromScreenFeatures: screen, width: 40, height: 30)
        let again = imageGSScreenFeatures(recovered, width: 40, height: 30)
        for (x, y) in zip(again.scalars, screen.scalars) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(y))) }
        for g in 0..<12 {
            XCTAssertGreaterThanOrEqual(recovered.scalars[g * 8 + 2], recovered.scalars[g * 8 + 3])
            XCTAssertLessThanOrEqual(abs(recovered.scalars[g * 8 + 4]), Float.pi / 2 + 1e-6)
        }
    }
}
