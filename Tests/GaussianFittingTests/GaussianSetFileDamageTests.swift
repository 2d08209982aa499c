import Foundation
import GaussianRasterizer
import GaussianFitting
import SplatIO
import TensorCore
import TestSupport
import XCTest

/// A saved set with flipped bits (what `render` and `encode` read) is a `FileError` naming the
/// file, whichever byte was hit: the file's CRC-32 is checked before HDF5 parses it (issue 23,
/// item 3; HDF5File+Checksum.swift).
final class GaussianSetFileDamageTests: TemporaryDirectoryTestCase {
    func testEveryFlippedByteOfASavedSetIsAFileError() throws {
        let path = temporaryPath("set.h5")
        let rows = (0..<(64 * 8)).map { Float($0 % 8) * 0.1 + 0.05 }
        try GaussianSet(gaussians: Tensor(shape: [64, 8], scalars: rows), width: 32, height: 32, psnr: 20).write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(try GaussianSet(contentsOf: path).gaussians.scalars, rows)
        // Every 97th byte: the seal (magic, length, CRC, padding), the superblock,
        // object headers, heaps and raw data.
        for offset in stride(from: 0, to: bytes.count, by: 97) {
            var damaged = bytes
            damaged[offset] ^= 0x04
            let copy = temporaryPath("damaged.h5")
            try damaged.write(to: URL(fileURLWithPath: copy))
            XCTAssertThrowsError(try GaussianSet(contentsOf: copy), "byte \(offset)") { error in
                XCTAssertEqual((error as? FileError)?.path, copy, "byte \(offset): \(error)")
            }
        }
    }

    /// A set with a NaN or an infinity is never written (issue 23): a clear error naming the
    /// file, and a file already there stays as it was.
    func testNonFiniteSetsAreNotWritten() throws {
        let path = temporaryPath("set.h5")
        let good = GaussianSet(gaussians: Tensor(shape: [2, 8], scalars: [Float](repeating: 0.5, count: 16)), width: 8, height: 8)
        try good.write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for bad in [Float.nan, .infinity] {
            var rows = [Float](repeating: 0.5, count: 16)
            rows[11] = bad
            let set = GaussianSet(gaussians: Tensor(shape: [2, 8], scalars: rows), width: 8, height: 8)
            XCTAssertThrowsError(try set.write(to: path)) { error in XCTAssertEqual((error as? FileError)?.path, path) }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        }
    }
}
