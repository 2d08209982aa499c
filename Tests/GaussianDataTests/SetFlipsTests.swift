import XCTest
@testable import GaussianData
import GaussianFitting
import GaussianRasterizer
import TensorCore

final class SetFlipsTests: XCTestCase {
    /// A grid set of 8 Gaussians for a 24 × 12 image (4 × 2 cells), in the recipe's order, each at
    /// its cell's centre (exact binary fractions) with rotation 0.25·index and colour = index.
    private func gridSet() -> [Float] {
        gridCells(count: 8, width: 24, height: 12).enumerated().flatMap { index, cell -> [Float] in
            [(Float(cell.column) + 0.5) / 4, (Float(cell.row) + 0.5) / 2, 0.2, 0.3, 0.25 * Float(index), Float(index), 0, 1]
        }
    }

    /// Mirroring a grid set moves each Gaussian to the mirrored cell's index, with x ↦ 1 − x (or
    /// y ↦ 1 − y) and θ ↦ −θ; mirroring twice gives the set back.
    func testGridSetsMoveToTheMirroredCell() throws {
        let flips = try XCTUnwrap(SetFlips(setSize: 8, order: .none, recipe: .imagegsGrid, width: 24, height: 12))
        let set = gridSet(), cells = gridCells(count: 8, width: 24, height: 12)
        for (horizontal, vertical) in [(true, false), (false, true), (true, true)] {
            let mirrored = flips.flipped(set[...], horizontal: horizontal, vertical: vertical)
            for (index, cell) in cells.enumerated() {
                let row = Array(mirrored[(index * 8)..<(index * 8 + 8)])
                XCTAssertEqual(row[0], (Float(cell.column) + 0.5) / 4, "each Gaussian lands at its new cell's centre")
                XCTAssertEqual(row[1], (Float(cell.row) + 0.5) / 2)
                let from = cells.firstIndex { $0.column == (horizontal ? 3 - cell.column : cell.column)
                    && $0.row == (vertical ? 1 - cell.row : cell.row) }!
                XCTAssertEqual(row[5], Float(from), "the Gaussian of the mirrored cell")
                XCTAssertEqual(row[4], (horizontal != vertical ? -1 : 1) * 0.25 * Float(from))
            }
            let back = flips.flipped(mirrored[...], horizontal: horizontal, vertical: vertical)
            XCTAssertEqual(back, set)
        }
    }

    /// Sets in Morton order come back sorted by the Morton code of the mirrored positions, with
    /// the same rows; sets in fit order from another recipe cannot be mirrored.
    func testSpatialOrdersAreRestoredAfterMirroring() throws {
        var generator = RandomGenerator(seed: 9)
        var rows: [Float] = []
        for index in 0..<20 { rows += [generator.nextUniform(), generator.nextUniform(), 0.2, 0.3, 0.1, Float(index), 0, 0] }
        let sorted = Tensor(shape: [20, 8], scalars: rows)
        let set = SpatialOrder.morton.ordered(sorted).scalars
        let flips = try XCTUnwrap(SetFlips(setSize: 20, order: .morton, recipe: .imagegs, width: 96, height: 96))
        let mirrored = flips.flipped(set[...], horizontal: true, vertical: false)
        let codes = (0..<20).map { SpatialOrder.mortonCode(x: mirrored[$0 * 8], y: mirrored[$0 * 8 + 1]) }
        XCTAssertEqual(codes, codes.sorted())
        XCTAssertEqual(Set((0..<20).map { mirrored[$0 * 8 + 5] }), Set((0..<20).map { Float($0) }))
        XCTAssertNil(SetFlips(setSize: 20, order: .none, recipe: .imagegs, width: 96, height: 96))
    }
}
