import GaussianData
import TensorCore
import XCTest

final class SpatialOrderTests: XCTestCase {
    private let step: Float = 1.0 / 65536

    func testMortonCodesOfKnownPoints() {
        XCTAssertEqual(SpatialOrder.mortonCode(x: 0, y: 0), 0)
        XCTAssertEqual(SpatialOrder.mortonCode(x: step, y: 0), 1)  // x bit 0 → code bit 0
        XCTAssertEqual(SpatialOrder.mortonCode(x: 0, y: step), 2)  // y bit 0 → code bit 1
        XCTAssertEqual(SpatialOrder.mortonCode(x: step, y: step), 3)
        XCTAssertEqual(SpatialOrder.mortonCode(x: 2 * step, y: 0), 4)  // x bit 1 → code bit 2
        XCTAssertEqual(SpatialOrder.mortonCode(x: 0.5, y: 0), 1 << 30)  // x bit 15 → bit 30
        XCTAssertEqual(SpatialOrder.mortonCode(x: 0, y: 0.5), 1 << 31)  // y bit 15 → bit 31
        XCTAssertEqual(SpatialOrder.mortonCode(x: 1, y: 1), 0xFFFF_FFFF)  // 1 joins cell 65535
        XCTAssertEqual(SpatialOrder.mortonCode(x: 0.999_99, y: 0.999_99), 0xFFFF_FFFF)
        // Just below a cell boundary stays in the lower cell (floor).
        XCTAssertEqual(SpatialOrder.mortonCode(x: step.nextDown, y: 0), 0)
    }

    func testOutOfRangeAndNaNCoordinatesClamp() {
        XCTAssertEqual(SpatialOrder.mortonCode(x: -3, y: -0.1), 0)
        XCTAssertEqual(SpatialOrder.mortonCode(x: 7, y: 1.5), 0xFFFF_FFFF)
        XCTAssertEqual(SpatialOrder.mortonCode(x: 2, y: 0), 0x5555_5555)  // x all ones, y zero
        XCTAssertEqual(SpatialOrder.mortonCode(x: .nan, y: .infinity), 0xAAAA_AAAA)
        XCTAssertEqual(SpatialOrder.hilbertCode(x: -1, y: -1), SpatialOrder.hilbertCode(x: 0, y: 0))
        XCTAssertEqual(SpatialOrder.hilbertCode(x: 3, y: -2), SpatialOrder.hilbertCode(x: 1, y: 0))
        XCTAssertEqual(SpatialOrder.quantize(-.infinity), 0)
        XCTAssertEqual(SpatialOrder.quantize(0.5), 32768)
        XCTAssertEqual(SpatialOrder.quantize(1), 65535)
    }

    func testHilbertCodesFollowTheStandardCurve() {
        // Order 1: (0,0) → (0,1) → (1,1) → (1,0).
        XCTAssertEqual([(0, 0), (0, 1), (1, 1), (1, 0)].map { SpatialOrder.hilbertIndex(x: $0.0, y: $0.1, order: 1) }, [0, 1, 2, 3])
        // Order 2, Wikipedia's xy2d table, indexed [y][x] (y = 0 first).
        let table: [[UInt32]] = [[0, 1, 14, 15], [3, 2, 13, 12], [4, 7, 8, 11], [5, 6, 9, 10]]
        for y in 0..<4 {
            for x in 0..<4 {
                XCTAssertEqual(SpatialOrder.hilbertIndex(x: UInt32(x), y: UInt32(y), order: 2), table[y][x], "(\(x), \(y))")
            }
        }
        // The 16-bit code of a cell centre of the 2×2 / 4×4 grid: its top 2 / 4 bits are the
        // coarse curve's index (the fine levels only refine within the cell).
        for y in 0..<2 {
            for x in 0..<2 {
                let code = SpatialOrder.hilbertCode(x: (Float(x) + 0.5) / 2, y: (Float(y) + 0.5) / 2)
                XCTAssertEqual(code >> 30, SpatialOrder.hilbertIndex(x: UInt32(x), y: UInt32(y), order: 1))
            }
        }
        for y in 0..<4 {
            for x in 0..<4 {
                let code = SpatialOrder.hilbertCode(x: (Float(x) + 0.5) / 4, y: (Float(y) + 0.5) / 4)
                XCTAssertEqual(code >> 28, table[y][x], "(\(x), \(y))")
            }
        }
        XCTAssertEqual(SpatialOrder.hilbertCode(x: 0, y: 0), 0)
        XCTAssertEqual(SpatialOrder.hilbertCode(x: 1, y: 0), 0xFFFF_FFFF)  // ends top-right
    }

    /// Consecutive indices of an order-4 curve are 4-neighbours, and every cell appears once.
    func testHilbertCurveIsContinuousAndBijective() {
        let side: UInt32 = 16
        var cellAt = [Int: (Int, Int)]()
        for y in 0..<side {
            for x in 0..<side { cellAt[Int(SpatialOrder.hilbertIndex(x: x, y: y, order: 4))] = (Int(x), Int(y)) }
        }
        XCTAssertEqual(cellAt.keys.sorted(), Array(0..<256))
        for index in 1..<256 {
            let (a, b) = (cellAt[index - 1]!, cellAt[index]!)
            XCTAssertEqual(abs(a.0 - b.0) + abs(a.1 - b.1), 1, "step \(index)")
        }
    }

    func testPermutationSortsByCodeAndIsStableForTies() {
        // Rows: (x, y) with the other 6 columns tagging the original row.
        let positions: [(Float, Float)] = [(0.9, 0.9), (0.1, 0.1), (0.9, 0.1), (0.1, 0.1), (0.1, 0.9), (0.1, 0.1)]
        let set = positions.enumerated().flatMap { row, p in [p.0, p.1] + [Float](repeating: Float(row), count: 6) }
        let morton = SpatialOrder.morton.permutation(for: set, count: positions.count)
        // Z-order: top-left quadrant (rows 1, 3, 5 — tied, kept in order), top-right (2),
        // bottom-left (4), bottom-right (0).
        XCTAssertEqual(morton, [1, 3, 5, 2, 4, 0])
        let hilbert = SpatialOrder.hilbert.permutation(for: set, count: positions.count)
        // Hilbert: top-left, bottom-left, bottom-right, top-right.
        XCTAssertEqual(hilbert, [1, 3, 5, 4, 0, 2])
        XCTAssertEqual(SpatialOrder.none.permutation(for: set, count: positions.count), Array(0..<6))
        XCTAssertEqual(SpatialOrder.allCases.map(\.rawValue), ["morton", "hilbert", "none"])
    }

    func testOrderedAppliesOnePermutationToAllColumnsOfEachSet() {
        var generator = RandomGenerator(seed: 11)
        let (sets, rows) = (3, 20)
        let values = (0..<(sets * rows * 8)).map { _ in generator.nextUniform() }
        let input = Tensor(shape: [sets, rows, 8], scalars: values)
        for order in SpatialOrder.allCases {
            let output = order.ordered(input)
            XCTAssertEqual(output.shape, input.shape)
            for set in 0..<sets {
                let original = Array(values[(set * rows * 8)..<((set + 1) * rows * 8)])
                let permutation = order.permutation(for: original, count: rows)
                XCTAssertEqual(permutation.sorted(), Array(0..<rows), "a permutation")
                for (target, source) in permutation.enumerated() {
                    let start = (set * rows + target) * 8
                    XCTAssertEqual(Array(output.scalars[start..<(start + 8)]),
                                   Array(original[(source * 8)..<((source + 1) * 8)]), "\(order) set \(set) row \(target)")
                }
                let codes = (0..<rows).map { row -> UInt32 in
                    let x = output.scalars[(set * rows + row) * 8], y = output.scalars[(set * rows + row) * 8 + 1]
                    switch order {
                    case .morton: return SpatialOrder.mortonCode(x: x, y: y)
                    case .hilbert: return SpatialOrder.hilbertCode(x: x, y: y)
                    case .none: return UInt32(row)
                    }
                }
                XCTAssertEqual(codes, codes.sorted(), "\(order) set \(set) ascending")
            }
        }
        XCTAssertEqual(SpatialOrder.morton.ordered(Tensor(shape: [0, 8], scalars: [])).shape, [0, 8])
    }
}
