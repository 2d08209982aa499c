import Foundation
import XCTest
@testable import GaussianRasterizer

/// The block kernel's lane-wise helpers (the kernel itself is checked against the reference
/// rasterizer in TopKRasterizerTests).
final class TopKBlockKernelTests: XCTestCase {
    /// e^x for the weights within 2.5e-7 relative of double-precision exp over [−87, 88]
    /// (a dense grid plus the ends), 0 below −87, NaN kept.
    func testWeightExponential() {
        var worst = 0.0
        var values: [Float] = stride(from: -87, through: 88, by: 0.000_731).map { Float($0) }
        values += [-87, 88, 0, -0.0, Float.leastNormalMagnitude, -Float.leastNormalMagnitude]
        for start in stride(from: 0, to: values.count, by: 8) {
            var lanes = RowLanes()
            for lane in 0..<8 { lanes[lane] = values[Swift.min(start + lane, values.count - 1)] }
            let result = weightExponential(lanes)
            for lane in 0..<8 {
                let exact = Foundation.exp(Double(lanes[lane]))
                worst = Swift.max(worst, Swift.abs(Double(result[lane]) - exact) / exact)
            }
        }
        XCTAssertLessThan(worst, 2.5e-7)
        let edges = weightExponential(RowLanes(-87.01, -100, -.infinity, .nan, 89, .infinity, -0.5, 1))
        XCTAssertEqual(Array(edges.indices.map { edges[$0] }[0..<3]), [0, 0, 0])
        XCTAssert(edges[3].isNaN)
        XCTAssertEqual(edges[4], edges[5])
        XCTAssertEqual(Double(edges[4]), Foundation.exp(88), accuracy: Foundation.exp(88) * 2.5e-7)
    }

    /// The least lane, whichever lane holds it.
    func testSmallestLane() {
        for lane in 0..<8 {
            var values = RowLanes(repeating: 5)
            values[lane] = -1
            XCTAssertEqual(values.smallestLane, -1)
        }
        XCTAssertEqual(RowLanes(repeating: .infinity).smallestLane, .infinity)
    }
}
