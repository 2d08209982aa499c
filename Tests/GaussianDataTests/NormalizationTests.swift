import Foundation
import GaussianData
import SplatIO
import TensorCore
import XCTest

final class NormalizationTests: XCTestCase {
    /// Two sets of two Gaussians; column c of the four rows is [c, c+2, c+4, c+6] · (c+1),
    /// except column 7 (b), constant 0.25. Hand statistics of [a, a+2, a+4, a+6] · k:
    /// mean (a+3)·k, population variance k² · (9+1+1+9)/4 = 5k², so std √5·k.
    private func sets() -> [[Float]] {
        func value(row: Int, column: Int) -> Float {
            column == 7 ? 0.25 : Float(column + 2 * row) * Float(column + 1)
        }
        let rows: [[Float]] = (0..<4).map { row in (0..<8).map { column in value(row: row, column: column) } }
        return [rows[0] + rows[1], rows[2] + rows[3]]
    }

    func testStatisticsMatchHandComputedPopulationValues() {
        let normalization = ColumnNormalization.fitted(to: sets())
        for column in 0..<7 {
            let k = Double(column + 1)
            XCTAssertEqual(Double(normalization.mean[column]), Double(column + 3) * k, accuracy: 1e-5, "column \(column)")
            XCTAssertEqual(Double(normalization.standardDeviation[column]), 5.0.squareRoot() * k, accuracy: 1e-5, "column \(column)")
        }
        XCTAssertEqual(normalization.mean[7], 0.25)
        XCTAssertEqual(normalization.standardDeviation[7], 1, "a constant column gets std 1")
    }

    func testStreamingEqualsOneShotAndMergeIsOrderIndependent() {
        var generator = RandomGenerator(seed: 3)
        let chunks = (0..<5).map { chunk in (0..<(8 * (chunk * 7 + 1))).map { _ in generator.nextNormal() * 3 + 100 } }
        var streaming = ColumnStatistics()
        for chunk in chunks { streaming.add(rows: chunk) }
        var oneShot = ColumnStatistics()
        oneShot.add(rows: chunks.flatMap { $0 })
        var merged = ColumnStatistics()
        for chunk in chunks.reversed() {
            var part = ColumnStatistics()
            part.add(Tensor(shape: [chunk.count / 8, 8], scalars: chunk))
            merged.merge(part)
        }
        XCTAssertEqual(streaming.count, chunks.reduce(0) { $0 + $1.count } / 8)
        XCTAssertEqual(merged.count, streaming.count)
        // Two-pass reference in Double.
        let all = chunks.flatMap { $0 }
        for column in 0..<8 {
            let values = stride(from: column, to: all.count, by: 8).map { Double(all[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            for accumulator in [streaming, oneShot, merged] {
                XCTAssertEqual(accumulator.mean[column], mean, accuracy: 1e-9)
                XCTAssertEqual(accumulator.standardDeviation[column], std, accuracy: 1e-9)
            }
        }
        XCTAssertEqual(ColumnStatistics().normalization, .identity(), "no data: mean 0, std 1")
    }

    func testNormalizeAndDenormalizeAreInverses() {
        let normalization = ColumnNormalization.fitted(to: sets())
        let input = Tensor(shape: [2, 2, 8], scalars: sets().flatMap { $0 })
        let normalized = normalization.normalize(input)
        XCTAssertEqual(normalized.shape, [2, 2, 8])
        // Normalised columns have mean 0 and population std 1 (the constant column: 0 and 0).
        var check = ColumnStatistics()
        check.add(normalized)
        for column in 0..<7 {
            XCTAssertEqual(check.mean[column], 0, accuracy: 1e-6)
            XCTAssertEqual(check.standardDeviation[column], 1, accuracy: 1e-6)
        }
        XCTAssertEqual(check.standardDeviation[7], 0)
        // Element 0 is column 0 of row 0: (0 − 3) / √5.
        XCTAssertEqual(normalized.scalars[0], -3 / Float(5).squareRoot(), accuracy: 1e-6)
        let restored = normalization.denormalize(normalized)
        for (a, b) in zip(restored.scalars, input.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertEqual(ColumnNormalization.identity().normalize(rows: [1, 2, 3, 4, 5, 6, 7, 8]), [1, 2, 3, 4, 5, 6, 7, 8])
    }

    func testGaussVAEStatisticsRoundTripAndScalarGroups() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("NormalizationTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let normalization = ColumnNormalization(
            mean: [0.5, 0.25, 3, 4, 0.1, 0.2, 0.3, 0.4], standardDeviation: [0.3, 0.2, 1.5, 2.5, 0.7, 0.11, 0.12, 0.13])
        let path = directory.appendingPathComponent("normalization_stats.npz").path
        try normalization.write(gaussVAEStatisticsTo: path)
        let arrays = try NPZ.readEntries(path)
        XCTAssertEqual(arrays.map(\.name), ["xy_mean", "xy_std", "scale_mean", "scale_std", "rot_mean", "rot_std", "feat_mean", "feat_std"])
        XCTAssertEqual(arrays[0].array, NPYArray(shape: [2], floats: [0.5, 0.25]))
        XCTAssertEqual(arrays[5].array, NPYArray(shape: [1], floats: [0.7]))
        XCTAssertEqual(arrays[7].array, NPYArray(shape: [3], floats: [0.11, 0.12, 0.13]))
        XCTAssertEqual(try ColumnNormalization.read(gaussVAEStatisticsAt: path), normalization)

        // GaussVAE files may hold scalars (rot as a 0-d array, any group broadcast) and float64.
        var scalars = Dictionary(uniqueKeysWithValues: arrays.map { ($0.name, $0.array) })
        scalars["rot_mean"] = NPYArray(shape: [], values: .float64([0.5]))
        scalars["rot_std"] = NPYArray(shape: [], floats: [2])
        scalars["feat_std"] = NPYArray(shape: [], values: .float64([0.25]))
        let fromScalars = try ColumnNormalization(gaussVAEStatistics: scalars, path: "stats.npz")
        XCTAssertEqual(fromScalars.mean[4], 0.5)
        XCTAssertEqual(fromScalars.standardDeviation[4], 2)
        XCTAssertEqual(Array(fromScalars.standardDeviation[5...]), [0.25, 0.25, 0.25])

        var missing = scalars
        missing["scale_std"] = nil
        XCTAssertThrowsError(try ColumnNormalization(gaussVAEStatistics: missing, path: "stats.npz")) { error in
            XCTAssertEqual((error as? FileError)?.path, "stats.npz")
            XCTAssertTrue("\(error)".contains("scale_std"), "\(error)")
        }
        var wrongShape = scalars
        wrongShape["xy_mean"] = NPYArray(shape: [3], floats: [1, 2, 3])
        XCTAssertThrowsError(try ColumnNormalization(gaussVAEStatistics: wrongShape, path: "stats.npz")) { error in
            XCTAssertTrue("\(error)".contains("xy_mean"), "\(error)")
        }
        var zeroStd = scalars
        zeroStd["xy_std"] = NPYArray(shape: [2], floats: [1, 0])
        XCTAssertThrowsError(try ColumnNormalization(gaussVAEStatistics: zeroStd, path: "stats.npz")) { error in
            XCTAssertTrue("\(error)".contains("positive"), "\(error)")
        }
        var booleans = scalars
        booleans["feat_mean"] = NPYArray(shape: [3], values: .bool([true, false, true]))
        XCTAssertThrowsError(try ColumnNormalization(gaussVAEStatistics: booleans, path: "stats.npz")) { error in
            XCTAssertTrue("\(error)".contains("not numeric"), "\(error)")
        }
    }
}
