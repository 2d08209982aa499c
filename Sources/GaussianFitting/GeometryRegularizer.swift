import Foundation
import GaussianRasterizer
import TensorCore

// The geometry-consistent regulariser ("Structure-Guided Allocation of 2D Gaussians", adapted):
// a loss that turns each Gaussian's long axis along the local edge, weighted by how clearly the
// image has one there (the structure tensor's coherence at ρ = 2).
//
// With A = Σ⁻¹ the Gaussian's conic [[a, b], [b, c]] (screen features) and e = (cos φ, sin φ)
// the edge direction at the pixel under its centre:
//   r_g = eᵀ A e / tr A = (a·cos²φ + 2b·cosφ·sinφ + c·sin²φ) / (a + c)   ∈ (0, 1)
// r is the share of the inverse variance that lies along the edge: small when the Gaussian is
// long along the edge, ½ when it is round, large when it lies across. The loss is
//   L = w · mean_g coherence_g · r_g,
// differentiable in the shape (scales, rotation); the edge direction and coherence are looked
// up at the current centres and held constant (no gradient through the lookup).

/// The geometry-consistent regulariser of one target image.
public struct GeometryRegularizer {
    public let field: StructureTensorField
    public let weight: Float

    /// For a target (3, H, W) and a loss weight w.
    public init(target: Tensor, weight: Float) {
        field = StructureTensorField(image: target, integrationSigma: 2)
        self.weight = weight
    }

    /// w · mean_g coherence_g · r_g for Image-GS rows (N, 8) of the target's size: a scalar tensor.
    public func loss(_ rows: Tensor) -> Tensor {
        precondition(rows.rank == 2 && rows.shape[1] == ImageGSColumn.count, "GeometryRegularizer: rows \(rows.shape) must be (N, 8)")
        let (width, height) = (field.width, field.height)
        let n = rows.shape[0]
        var alongA = [Float](repeating: 0, count: n), alongB = alongA, alongC = alongA
        for g in 0..<n {
            let x = rows.scalars[g * 8 + ImageGSColumn.x] * Float(width), y = rows.scalars[g * 8 + ImageGSColumn.y] * Float(height)
            let column = x.isFinite ? Swift.min(Swift.max(Int(x), 0), width - 1) : 0
            let row = y.isFinite ? Swift.min(Swift.max(Int(y), 0), height - 1) : 0
            let p = row * width + column
            let angle = field.edgeAngle(p), coherence = field.coherence(p)
            let (cosine, sine) = (cos(angle), sin(angle))
            // coherence · eᵀAe = a·(c·cos²) + b·(2c·cos·sin) + c·(c·sin²)
            (alongA[g], alongB[g], alongC[g]) = (coherence * cosine * cosine, coherence * 2 * cosine * sine, coherence * sine * sine)
        }
        let features = imageGSScreenFeatures(rows, width: width, height: height).split(sizes: [2, 1, 1, 1, 3], alongAxis: 1)
        let (a, b, c) = (features[1], features[2], features[3])
        let along = a * Tensor(shape: [n, 1], scalars: alongA) + b * Tensor(shape: [n, 1], scalars: alongB)
            + c * Tensor(shape: [n, 1], scalars: alongC)
        return (along / (a + c)).mean() * weight
    }
}
