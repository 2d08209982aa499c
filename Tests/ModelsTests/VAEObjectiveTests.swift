import XCTest
@testable import Models
@testable import TensorCore

final class VAEObjectiveTests: XCTestCase {
    /// canonical → Image-GS → canonical is exact up to float rounding, and the decoded Gaussians
    /// are the same ellipses (same conic) as the originals.
    func testCanonicalRoundTripKeepsTheEllipse() {
        var generator = RandomGenerator(seed: 4)
        var rows: [Float] = []
        for _ in 0..<50 {
            rows += [generator.nextUniform(), generator.nextUniform(), 0.05 + generator.nextUniform(), -(0.05 + generator.nextUniform()),
                     20 * (generator.nextUniform() - 0.5), generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        let canonical = SetRepresentation.canonical.encode(rows)
        XCTAssertEqual(canonical.count, 50 * 9)
        for g in 0..<50 { XCTAssertGreaterThanOrEqual(canonical[g * 9 + 2], canonical[g * 9 + 3], "major ≥ minor") }
        let decoded = SetRepresentation.canonical.decode(canonical)
        func conic(_ r: ArraySlice<Float>) -> [Double] {
            let (sx, sy, t) = (Double(r[r.startIndex + 2]), Double(r[r.startIndex + 3]), Double(r[r.startIndex + 4]))
            let (c, s) = (cos(t), sin(t))
            return [c * c * sx * sx + s * s * sy * sy, c * s * (sx * sx - sy * sy), s * s * sx * sx + c * c * sy * sy]
        }
        for g in 0..<50 {
            let original = rows[(g * 8)..<(g * 8 + 8)], back = decoded[(g * 8)..<(g * 8 + 8)]
            for (a, b) in zip(conic(original), conic(back)) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
            XCTAssertEqual(back[back.startIndex], original[original.startIndex], accuracy: 1e-6)
        }
        // The canonical form is a fixed point (up to float32 rounding through atan2/cos/sin).
        for (a, b) in zip(SetRepresentation.canonical.encode(decoded), canonical) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// With β = 0 and unit weights the loss is the sum of the group MSEs; KL is 0 for μ = 0, log σ² = 0.
    func testLossTerms() {
        let target = Tensor.zeros([2, 3, 8])
        var values = [Float](repeating: 0, count: 48)
        for i in stride(from: 0, to: 48, by: 8) { values[i] = 1; values[i + 5] = 2 }  // x off by 1, red off by 2
        let prediction = Tensor(shape: [2, 3, 8], scalars: values)
        let loss = vaeLoss(reconstruction: prediction, target: target, mean: Tensor.zeros([2, 4]), logVariance: Tensor.zeros([2, 4]),
                           representation: .plain, groupWeights: [1, 1, 1, 1], beta: 0.5)
        XCTAssertEqual(loss.groups.map(\.name), ["xy", "scale", "rotation", "colour"])
        XCTAssertEqual(loss.groups[0].value.item, 0.5)       // (1² + 0²)/2
        XCTAssertEqual(loss.groups[3].value.item, 4.0 / 3)   // (2² + 0 + 0)/3
        XCTAssertEqual(loss.kl.item, 0)
        XCTAssertEqual(loss.total.item, 0.5 + 4.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(klWeight(epoch: 0, maximum: 1, warmupEpochs: 4), 0.25)
        XCTAssertEqual(klWeight(epoch: 9, maximum: 1, warmupEpochs: 4), 1)
    }

    func testNormalizationRoundTrip() {
        let rows: [Float] = [1, 2, 3, 5, 6, 9]
        let n = ColumnNormalization.fitted(to: rows, columns: 3)
        XCTAssertEqual(n.mean, [3, 4, 6])
        let back = n.denormalize(n.normalize(rows))
        for (a, b) in zip(back, rows) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }
}
