import Foundation
import GaussianRasterizer
import TensorCore

// Colours of a fixed layout in closed form (the imagegs-grid-layout-ridge recipe).
//
// With every centre and shape held, the top-K render is linear in the colours: each pixel
// blends the same K Gaussians with the same normalised weights whatever their colours, so
// per channel  render = A · c  with A (H·W, N) the render of each Gaussian at unit colour.
// The solver builds A once per layout (N renders), factors AᵀA + λI (Cholesky, in Double)
// and answers each image y (3, H, W) with the ridge solution per channel
//     c = argmin ‖A c − y‖² + λ‖c‖²,   λ = ridge · mean(diag AᵀA),
// clamped to [0, 1]. The ridge keeps overlapping neighbours from cancelling each other with
// large colours of opposite signs: the colours stay smooth, which is what makes such sets easy
// to code (scripts/reference/fixed_layout_bound.py measures the same solution in NumPy).

/// The ridge least-squares colours of one fixed layout on one image size.
public final class LayoutColourSolver: @unchecked Sendable {
    /// Image-GS rows (N, 8) of the layout; their colours are ignored.
    public let layout: Tensor
    public let width: Int
    public let height: Int
    /// λ over the mean diagonal of AᵀA (0: plain least squares).
    public let ridge: Float
    /// A (H·W, N): pixel value per unit colour of each Gaussian (one channel).
    let design: Tensor
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
        let design = Self.designMatrix(layout: layout, width: width, height: height, topK: topK)
        self.design = design
        let gram = withoutGradients { design.transposed().matmul(design) }  // (N, N)
        factor = Self.choleskyFactor(gram: gram, ridge: ridge)
    }

    public var count: Int { layout.shape[0] }

    /// The colours (N, 3) that best render `image` (3, H, W) on this layout, clamped to [0, 1].
    public func colours(for image: Tensor) -> Tensor {
        let solved = unclampedColours(for: image)
        return Tensor(shape: solved.shape, scalars: solved.scalars.map { Swift.min(Swift.max($0, 0), 1) })
    }

    /// The ridge solution (N, 3) before clamping.
    func unclampedColours(for image: Tensor) -> Tensor {
        precondition(image.shape == [3, height, width], "LayoutColourSolver: image must be (3, \(height), \(width)), got \(image.shape)")
        let rightHandSide = withoutGradients { image.reshaped([3, width * height]).matmul(design) }.scalars  // (3, N): yᵀA
        let n = count
        var solution = [Float](repeating: 0, count: n * 3)
        for channel in 0..<3 {
            let b = (0..<n).map { Double(rightHandSide[channel * n + $0]) }
            for (i, value) in solveWithFactor(b).enumerated() { solution[i * 3 + channel] = Float(value) }
        }
        return Tensor(shape: [n, 3], scalars: solution)
    }

    /// A (H·W, N): column i is the first channel of the render of Gaussian i alone at colour 1
    /// in the full layout (the others at colour 0, so the top-K selection is the layout's).
    private static func designMatrix(layout: Tensor, width: Int, height: Int, topK: TopKOptions) -> Tensor {
        let n = layout.shape[0], pixels = width * height
        var rows = layout.scalars
        for g in 0..<n { for c in 5..<8 { rows[g * 8 + c] = 0 } }
        var columns = [Float](repeating: 0, count: pixels * n)
        withoutGradients {
            // The blend weights do not depend on the colours, and each channel is drawn on its own:
            // three Gaussians a render, one in each channel (Gaussian g + c lit in channel c).
            for first in stride(from: 0, to: n, by: 3) {
                let lit = first..<Swift.min(first + 3, n)
                for g in lit { rows[g * 8 + 5 + (g - first)] = 1 }
                let render = renderImageGS(Tensor(shape: [n, 8], scalars: rows), width: width, height: height, options: topK)
                for g in lit {
                    rows[g * 8 + 5 + (g - first)] = 0
                    let channel = (g - first) * pixels  // (3, H, W): channel c of the render
                    for p in 0..<pixels { columns[p * n + g] = render.scalars[channel + p] }
                }
            }
        }
        return Tensor(shape: [pixels, n], scalars: columns)
    }

    /// L with L Lᵀ = gram + λI, λ = ridge · mean(diag gram). A Gaussian that touches no pixel
    /// leaves a zero row and column; at ridge 0 it gets a unit diagonal (its colour solves to 0).
    private static func choleskyFactor(gram: Tensor, ridge: Float) -> [Double] {
        let n = gram.shape[0]
        var matrix = gram.scalars.map(Double.init)
        let meanDiagonal = (0..<n).reduce(0.0) { $0 + matrix[$1 * n + $1] } / Double(n)
        for i in 0..<n {
            matrix[i * n + i] += Double(ridge) * meanDiagonal
            if matrix[i * n + i] <= 0 { matrix[i * n + i] = 1 }
        }
        var lower = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = matrix[j * n + j]
            for k in 0..<j { diagonal -= lower[j * n + k] * lower[j * n + k] }
            let pivot = Foundation.sqrt(Swift.max(diagonal, 1e-12 * Swift.max(meanDiagonal, 1e-30)))
            lower[j * n + j] = pivot
            for i in (j + 1)..<n {
                var value = matrix[i * n + j]
                for k in 0..<j { value -= lower[i * n + k] * lower[j * n + k] }
                lower[i * n + j] = value / pivot
            }
        }
        return lower
    }

    /// x with L Lᵀ x = b (forward, then back substitution).
    private func solveWithFactor(_ b: [Double]) -> [Double] {
        let n = count
        var y = b
        for i in 0..<n {
            var value = y[i]
            for k in 0..<i { value -= factor[i * n + k] * y[k] }
            y[i] = value / factor[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var value = y[i]
            for k in (i + 1)..<n { value -= factor[k * n + i] * y[k] }
            y[i] = value / factor[i * n + i]
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
