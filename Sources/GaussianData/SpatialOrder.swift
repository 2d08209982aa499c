import GaussianRasterizer
import TensorCore

// Spatial orderings of a Gaussian set, so that neighbouring rows are neighbouring Gaussians.
//
// A set is (G, 8) rows in the Image-GS convention (x, y in [0, 1], y down the image; see
// GaussianConventions.swift). Both orders key each Gaussian on its position only:
//
// Quantisation (both orders), per coordinate v:
//   v ← 0 if v is NaN, else clamp(v, 0, 1);   q = UInt32(min(65535, floor(v · 65536)))
//   so [k/65536, (k+1)/65536) ↦ k and v = 1 joins the last cell, 65535.
//
// Morton (Z-order): interleave q_x and q_y, y as the more significant bit of each pair:
//   bit 2i of the code = bit i of q_x,  bit 2i+1 = bit i of q_y.
//   (0,0) → 0, (1/65536, 0) → 1, (0, 1/65536) → 2, (1,1) → 0xFFFF_FFFF.
//
// Hilbert: the standard `xy2d` of Wikipedia's "Hilbert curve" article on the 65536 × 65536
// grid of (q_x, q_y). Orientation: the curve starts at cell (0, 0) (top-left in the image),
// its four top-level quadrants are visited (0,0) → (0,1) → (1,1) → (1,0) — down the left half
// first, then up the right half — and it ends at cell (65535, 0), the top-right corner.
//
// Sorting is stable: ties (equal codes) keep their original row order. The same permutation is
// applied to all 8 columns.

/// How to order the rows of a Gaussian set before it is stored or fed to a model.
public enum SpatialOrder: String, CaseIterable, Codable, Sendable {
    case morton, hilbert, none

    /// The 16-bit cell index of a coordinate (see the quantisation rule above).
    public static func quantize(_ value: Float) -> UInt32 {
        let clamped = value.isNaN ? 0 : Swift.min(Swift.max(value, 0), 1)
        return UInt32(Swift.min(65535, (clamped * 65536).rounded(.down)))
    }

    /// The Morton (Z-order) code of a position: y bits in the odd positions, x bits in the even.
    public static func mortonCode(x: Float, y: Float) -> UInt32 {
        GaussianRasterizer.mortonCode(column: quantize(x), row: quantize(y))
    }

    /// The distance along the 16-bit Hilbert curve of a position (orientation above).
    public static func hilbertCode(x: Float, y: Float) -> UInt32 {
        hilbertIndex(x: quantize(x), y: quantize(y), order: 16)
    }

    /// The index along the Hilbert curve of order `order` (a 2^order × 2^order grid) of cell
    /// (x, y): Wikipedia's xy2d, with n = 2^order.
    public static func hilbertIndex(x: UInt32, y: UInt32, order: Int) -> UInt32 {
        precondition((1...16).contains(order), "hilbertIndex: order must be 1...16, got \(order)")
        let n = UInt64(1) << order
        precondition(UInt64(x) < n && UInt64(y) < n, "hilbertIndex: cell (\(x), \(y)) outside the \(n) × \(n) grid")
        var x = UInt64(x), y = UInt64(y), distance: UInt64 = 0
        var s = n / 2
        while s > 0 {
            let rx: UInt64 = (x & s) > 0 ? 1 : 0
            let ry: UInt64 = (y & s) > 0 ? 1 : 0
            distance += s * s * ((3 * rx) ^ ry)
            // Rotate the quadrant so the sub-curve has the standard orientation.
            if ry == 0 {
                if rx == 1 {
                    x = n - 1 - x
                    y = n - 1 - y
                }
                swap(&x, &y)
            }
            s /= 2
        }
        return UInt32(distance)
    }

    /// The code this order sorts a Gaussian at (x, y) by.
    private func code(x: Float, y: Float) -> UInt32 {
        switch self {
        case .morton: return SpatialOrder.mortonCode(x: x, y: y)
        case .hilbert: return SpatialOrder.hilbertCode(x: x, y: y)
        case .none: return 0
        }
    }

    /// The row order of a set: row i of the ordered set is row `permutation[i]` of `set`.
    /// `set` holds `count` rows of 8 (Image-GS columns); `.none` gives the identity.
    public func permutation(for set: [Float], count: Int) -> [Int] {
        let columns = ImageGSColumn.count
        precondition(set.count == count * columns,
                     "SpatialOrder.permutation: expected \(count) rows of \(columns) (\(count * columns) values), got \(set.count)")
        if self == .none { return Array(0..<count) }
        let codes = (0..<count).map { row in
            code(x: set[row * columns + ImageGSColumn.x], y: set[row * columns + ImageGSColumn.y])
        }
        // Ties broken by the original index: stable whatever the sort algorithm.
        return (0..<count).sorted { codes[$0] != codes[$1] ? codes[$0] < codes[$1] : $0 < $1 }
    }

    /// `set` (…, G, 8) with each set's rows reordered; leading axes are independent sets.
    /// Not differentiable (a data-preparation step): the result is a fresh leaf tensor.
    public func ordered(_ set: Tensor) -> Tensor {
        let columns = ImageGSColumn.count
        precondition(set.rank >= 2 && set.shape.last == columns,
                     "SpatialOrder.ordered: expected (…, G, \(columns)), got \(set.shape)")
        let rows = set.shape[set.rank - 2]
        let setLength = rows * columns
        let setCount = setLength == 0 ? 0 : set.count / setLength
        var result = [Float](repeating: 0, count: set.count)
        for index in 0..<setCount {
            let start = index * setLength
            let rowsOfSet = Array(set.scalars[start..<(start + setLength)])
            for (target, source) in permutation(for: rowsOfSet, count: rows).enumerated() {
                let from = source * columns, to = start + target * columns
                for column in 0..<columns { result[to + column] = rowsOfSet[from + column] }
            }
        }
        return Tensor(shape: set.shape, scalars: result)
    }
}
