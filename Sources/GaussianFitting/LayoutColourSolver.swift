import Foundation
import GaussianRasterizer
import TensorCore

// Colours of a fixed layout in closed form (the imagegs-grid-layout-ridge recipe).
//
// With every centre and shape held, the top-K render is linear in the colours: each pixel
// blends the same K Gaussians with the same normalised weights whatever their colours, so
// per channel  render = A · c  with A (H·W, N) the render of each Gaussian at unit colour.
// The solver builds A once per layout, factors AᵀA + λI (Cholesky, in Double) and answers
// each image y (3, H, W) with the ridge solution per channel
//     c = argmin ‖A c − y‖² + λ‖c‖²,   λ = ridge · mean(diag AᵀA),
// clamped to [0, 1]. The ridge keeps overlapping neighbours from cancelling each other with
// large colours of opposite signs: the colours stay smooth, which is what makes such sets easy
// to code (scripts/reference/fixed_layout_bound.py measures the same solution in NumPy).
//
// Building A: a pixel blends only Gaussians whose top-K footprints (`topKFootprints`: the
// 16-px tiles their 3σ boxes touch) contain it, so Gaussians with disjoint footprints can be lit
// in one render and each read back inside its own footprint; with one group per colour channel
// a render gives the columns of three groups. The values are those of rendering each Gaussian
// alone (the others add w·0 = 0 exactly). A is kept sparse by pixel (at most K entries a pixel),
// so AᵀA and Aᵀy cost O(H·W·K²) and O(H·W·K) instead of dense products.

/// The ridge least-squares colours of one fixed layout on one image size.
public final class LayoutColourSolver: @unchecked Sendable {
    /// Image-GS rows (N, 8) of the layout; their colours are ignored.
    public let layout: Tensor
    public let width: Int
    public let height: Int
    /// λ over the mean diagonal of AᵀA (0: plain least squares).
    public let ridge: Float
    /// A by pixel: pixel p's non-zero entries are `entries[rowStart[p]..<rowStart[p + 1]]`.
    private let rowStart: [Int]
    private let entries: [(gaussian: Int, value: Float)]
    /// The lower Cholesky factor L of AᵀA + λI, (N, N) row-major.
    private let factor: [Double]

    /// `layout` is (N, 8) Image-GS rows; the render options are the ones the sets will be drawn with.
    public init(layout: Tensor, width: Int, height: Int, ridge: Float, topK: TopKOptions = TopKOptions()) {
        precondition(layout.rank == 2 && layout.shape[1] == 8, "LayoutColourSolver: layout must be (N, 8), got \(layout.shape)")
        precondition(ridge >= 0, "LayoutColourSolver: ridge must be ≥ 0, got \(ridge)")
        self.layout = layout.detached()
        self.width = width
        self.height = height
        self.ridge = ridge
        (rowStart, entries) = Self.sparseDesign(layout: self.layout, width: width, height: height, topK: topK)
        factor = Self.choleskyFactor(gram: Self.gram(rowStart: rowStart, entries: entries, count: layout.shape[0]),
                                     count: layout.shape[0], ridge: ridge)
    }

    public var count: Int { layout.shape[0] }

    /// A (H·W, N) as a dense matrix (for checks; the solver keeps it sparse).
    var design: Tensor {
        var dense = [Float](repeating: 0, count: width * height * count)
        for p in 0..<(width * height) {
            for entry in entries[rowStart[p]..<rowStart[p + 1]] { dense[p * count + entry.gaussian] = entry.value }
        }
        return Tensor(shape: [width * height, count], scalars: dense)
    }

    /// The colours (N, 3) that best render `image` (3, H, W) on this layout, clamped to [0, 1].
    public func colours(for image: Tensor) -> Tensor {
        let solved = unclampedColours(for: image)
        return Tensor(shape: solved.shape, scalars: solved.scalars.map { Swift.min(Swift.max($0, 0), 1) })
    }

    /// The ridge solution (N, 3) before clamping.
    func unclampedColours(for image: Tensor) -> Tensor {
        precondition(image.shape == [3, height, width], "LayoutColourSolver: image must be (3, \(height), \(width)), got \(image.shape)")
        let n = count, pixels = width * height
        var solution = [Float](repeating: 0, count: n * 3)
        let y = image.scalars
        for channel in 0..<3 {
            var b = [Double](repeating: 0, count: n)  // Aᵀy
            for p in 0..<pixels {
                let value = Double(y[channel * pixels + p])
                for entry in entries[rowStart[p]..<rowStart[p + 1]] { b[entry.gaussian] += Double(entry.value) * value }
            }
            for (i, value) in solveWithFactor(b).enumerated() { solution[i * 3 + channel] = Float(value) }
        }
        return Tensor(shape: [n, 3], scalars: solution)
    }

    /// A by pixel (CSR): Gaussians grouped first-fit so that each group's footprints are
    /// disjoint, three groups a render (one per channel), each lit Gaussian's column read inside
    /// its footprint. Entries within a pixel follow the order they were read.
    private static func sparseDesign(layout: Tensor, width: Int, height: Int, topK: TopKOptions)
        -> (rowStart: [Int], entries: [(gaussian: Int, value: Float)]) {
        let n = layout.shape[0], pixels = width * height
        let footprints = topKFootprints(imageGS: layout, width: width, height: height)
        var groups = [[Int]](), occupied = [[PixelRectangle]]()
        for g in 0..<n {
            guard let footprint = footprints[g] else { continue }  // reaches no pixel: a zero column
            if let k = occupied.firstIndex(where: { !$0.contains { $0.intersects(footprint) } }) {
                groups[k].append(g)
                occupied[k].append(footprint)
            } else {
                groups.append([g])
                occupied.append([footprint])
            }
        }
        var rows = layout.scalars
        for g in 0..<n { for c in 5..<8 { rows[g * 8 + c] = 0 } }
        var read = [(pixel: Int, gaussian: Int, value: Float)]()
        withoutGradients {
            for first in stride(from: 0, to: groups.count, by: 3) {
                let lit = first..<Swift.min(first + 3, groups.count)  // group first + c lit in channel c
                for k in lit { for g in groups[k] { rows[g * 8 + 5 + k - first] = 1 } }
                let render = renderImageGS(Tensor(shape: [n, 8], scalars: rows), width: width, height: height, options: topK).scalars
                for k in lit {
                    let channel = (k - first) * pixels  // (3, H, W): channel c of the render
                    for g in groups[k] {
                        rows[g * 8 + 5 + k - first] = 0
                        let footprint = footprints[g]!
                        for y in footprint.y {
                            for x in footprint.x where render[channel + y * width + x] != 0 {
                                read.append((y * width + x, g, render[channel + y * width + x]))
                            }
                        }
                    }
                }
            }
        }
        var rowStart = [Int](repeating: 0, count: pixels + 1)  // counting sort by pixel, stable
        for entry in read { rowStart[entry.pixel + 1] += 1 }
        for p in 0..<pixels { rowStart[p + 1] += rowStart[p] }
        var next = Array(rowStart.dropLast())
        var entries = [(gaussian: Int, value: Float)](repeating: (0, 0), count: read.count)
        for entry in read {
            entries[next[entry.pixel]] = (entry.gaussian, entry.value)
            next[entry.pixel] += 1
        }
        return (rowStart, entries)
    }

    /// AᵀA (N, N) row-major in Double: the sum over pixels of the outer product of their entries.
    private static func gram(rowStart: [Int], entries: [(gaussian: Int, value: Float)], count n: Int) -> [Double] {
        var gram = [Double](repeating: 0, count: n * n)
        for p in 0..<(rowStart.count - 1) {
            let row = entries[rowStart[p]..<rowStart[p + 1]]
            for i in row { for j in row { gram[i.gaussian * n + j.gaussian] += Double(i.value) * Double(j.value) } }
        }
        return gram
    }

    /// L with L Lᵀ = gram + λI, λ = ridge · mean(diag gram). A Gaussian that touches no pixel
    /// leaves a zero row and column; at ridge 0 it gets a unit diagonal (its colour solves to 0).
    private static func choleskyFactor(gram: [Double], count n: Int, ridge: Float) -> [Double] {
        var matrix = gram
        let meanDiagonal = (0..<n).reduce(0.0) { $0 + matrix[$1 * n + $1] } / Double(n)
        for i in 0..<n {
            matrix[i * n + i] += Double(ridge) * meanDiagonal
            if matrix[i * n + i] <= 0 { matrix[i * n + i] = 1 }
        }
        var lower = [Double](repeating: 0, count: n * n)
        lower.withUnsafeMutableBufferPointer { l in
            let l = l.baseAddress!
            for j in 0..<n {
                let diagonal = matrix[j * n + j] - rowDot(l + j * n, l + j * n, count: j)
                let pivot = Foundation.sqrt(Swift.max(diagonal, 1e-12 * Swift.max(meanDiagonal, 1e-30)))
                l[j * n + j] = pivot
                for i in (j + 1)..<n {
                    l[i * n + j] = (matrix[i * n + j] - rowDot(l + i * n, l + j * n, count: j)) / pivot
                }
            }
        }
        return lower
    }

    /// Σ_{k < count} a[k]·b[k], four lanes at a time (the factor's inner loop).
    @inline(__always)
    private static func rowDot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var lanes = SIMD4<Double>(repeating: 0), k = 0
        while k + 4 <= count {
            lanes += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD4<Double>.self)
                * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD4<Double>.self)
            k += 4
        }
        var sum = lanes.sum()
        while k < count {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
    }

    /// x with L Lᵀ x = b: forward substitution by rows of L, then back substitution by rows of L
    /// (column i of Lᵀ), both reading L contiguously.
    private func solveWithFactor(_ b: [Double]) -> [Double] {
        let n = count
        var y = b
        factor.withUnsafeBufferPointer { l in
            let l = l.baseAddress!
            y.withUnsafeMutableBufferPointer { y in
                let y = y.baseAddress!
                for i in 0..<n { y[i] = (y[i] - Self.rowDot(l + i * n, y, count: i)) / l[i * n + i] }
                for i in stride(from: n - 1, through: 0, by: -1) {
                    y[i] /= l[i * n + i]
                    let value = y[i], row = l + i * n
                    for k in 0..<i { y[k] -= row[k] * value }
                }
            }
        }
        return y
    }
}

extension LayoutColourSolver {
    /// The solver for a layout, built once per (layout, size, ridge, render options) and shared
    /// by every fit of a dataset build (building one renders N images and factors an N × N matrix).
    static func shared(layout: Tensor, width: Int, height: Int, ridge: Float, topK: TopKOptions) -> LayoutColourSolver {
        let key = SolverKey(layout: layout.scalars, width: width, height: height, ridge: ridge, k: topK.k, epsilon: topK.epsilon)
        solverCacheLock.lock()
        defer { solverCacheLock.unlock() }
        if let solver = solverCache[key] { return solver }
        if solverCache.count >= 4 { solverCache.removeAll() }  // one layout per dataset: a few are plenty
        let solver = LayoutColourSolver(layout: layout, width: width, height: height, ridge: ridge, topK: topK)
        solverCache[key] = solver
        return solver
    }
}

private struct SolverKey: Hashable {
    let layout: [Float]
    let width: Int, height: Int
    let ridge: Float
    let k: Int
    let epsilon: Float
}

private let solverCacheLock = NSLock()
nonisolated(unsafe) private var solverCache: [SolverKey: LayoutColourSolver] = [:]
