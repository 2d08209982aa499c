import GaussianData
import XCTest
@testable import GaussianVAE
@testable import TensorCore

final class VAEObjectiveTests: XCTestCase {
    /// Representation → Image-GS → representation is exact up to float rounding, and the decoded
    /// Gaussians are the same ellipses (same conic) as the originals, for every representation.
    func testRoundTripsKeepTheEllipse() {
        var generator = RandomGenerator(seed: 4)
        var rows: [Float] = []
        for _ in 0..<50 {
            rows += [generator.nextUniform(), generator.nextUniform(), 0.05 + generator.nextUniform(), -(0.05 + generator.nextUniform()),
                     20 * (generator.nextUniform() - 0.5), generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        func conic(_ r: ArraySlice<Float>) -> [Double] {
            let (sx, sy, t) = (Double(r[r.startIndex + 2]), Double(r[r.startIndex + 3]), Double(r[r.startIndex + 4]))
            let (c, s) = (cos(t), sin(t))
            return [c * c * sx * sx + s * s * sy * sy, c * s * (sx * sx - sy * sy), s * s * sx * sx + c * c * sy * sy]
        }
        for representation in SetRepresentation.allCases {
            let encoded = representation.encode(rows)
            XCTAssertEqual(encoded.count, 50 * representation.columns, "\(representation)")
            let decoded = representation.decode(encoded)
            for g in 0..<50 {
                let original = rows[(g * 8)..<(g * 8 + 8)], back = decoded[(g * 8)..<(g * 8 + 8)]
                for (a, b) in zip(conic(original), conic(back)) {
                    XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a)), "\(representation)")
                }
                XCTAssertEqual(back[back.startIndex], original[original.startIndex], accuracy: 1e-6)
            }
            // The encoded form is a fixed point (up to float32 rounding through atan2/cos/sin).
            for (a, b) in zip(representation.encode(decoded), encoded) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(representation)") }
        }
        let canonical = SetRepresentation.canonical.encode(rows)
        for g in 0..<50 { XCTAssertGreaterThanOrEqual(canonical[g * 9 + 2], canonical[g * 9 + 3], "major ≥ minor") }
    }

    /// log_covariance holds ½·log Σ: the mean log standard deviation, and a traceless part that
    /// is zero for a round Gaussian whatever its θ and turns with 2θ; σx < σy is the same ellipse
    /// as σy along θ + π/2.
    func testLogCovarianceColumns() {
        let e = Float(M_E)
        // σx = e², σy = 1 (sx = e⁻², sy = 1) at θ = π/8: m = 1, d = 1, (d cos 2θ, d sin 2θ) = (√½, √½).
        let rows: [Float] = [0.25, 0.75, 1 / (e * e), 1, Float.pi / 8, 0.5, -0.5, 1.5,
                             0.5, 0.5, 0.2, 0.2, 1.3, 0, 0, 0,   // round: σ = 5 px, θ irrelevant
                             0.5, 0.5, 1, 1 / (e * e), Float.pi / 8 - Float.pi / 2, 0, 0, 0]  // the first, turned
        let encoded = SetRepresentation.logCovariance.encode(rows)
        let half = Float(0.5).squareRoot()
        let expected: [Float] = [0.25, 0.75, 1, half, half, 0.5, 0, 1]
        for (a, b) in zip(encoded[0..<8], expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(encoded[10], log(5), accuracy: 1e-6)
        XCTAssertEqual(encoded[11], 0, accuracy: 1e-7)
        XCTAssertEqual(encoded[12], 0, accuracy: 1e-7)
        for (a, b) in zip(encoded[18..<21], encoded[2..<5]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
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
        let n = ColumnNormalization.fitted(to: [rows], columns: 3)
        XCTAssertEqual(n.mean, [3, 4, 6])
        let back = n.denormalize(rows: n.normalize(rows: rows))
        for (a, b) in zip(back, rows) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }
}
