import Foundation
import TensorCore

// The GaussianImage parameterisation (Cholesky variant) and exact maps to and from Image-GS's.
//
// GaussianImage stores per Gaussian 8 raw values [u, v, l11, l21, l22, r, g, b]:
//   position  (tanh u, tanh v) ∈ (−1, 1)², centre in its pixel units ((tanh u + 1)/2 · W, …),
//             where GaussianImage samples pixel j at coordinate j (not j + ½);
//   covariance Σ = L Lᵀ with L = [[l11 + ½, 0], [l21, l22 + ½]] (the +½ "cholesky bound");
//   colour    with opacity folded in (opacity is 1).
// In SplatKit's convention (pixel j sampled at j + ½) the same Gaussian's mean in pixels is
// GaussianImage's plus ½, so x = ((tanh u + 1)/2 · W + ½) / W; the covariance is unchanged.

/// Column indices of the GaussianImage raw parameters.
public enum GaussianImageColumn {
    public static let u = 0, v = 1, l11 = 2, l21 = 3, l22 = 4, red = 5, green = 6, blue = 7
    /// Added to l11 and l22 before use.
    public static let choleskyBound: Float = 0.5
}

/// Screen features [mx, my, a, b, c, r, g, b] of GaussianImage raw parameters (…, G, 8) for a
/// width × height image; differentiable (a composition of tensor ops).
public func gaussianImageScreenFeatures(_ raw: Tensor, width: Int, height: Int) -> Tensor {
    precondition(raw.shape.last == 8, "gaussianImageScreenFeatures: expected (…, G, 8), got \(raw.shape)")
    let columns = raw.split(sizes: [1, 1, 1, 1, 1, 3], alongAxis: -1)
    let meanX = (columns[0].tanh() + 1) * (0.5 * Float(width)) + 0.5
    let meanY = (columns[1].tanh() + 1) * (0.5 * Float(height)) + 0.5
    let l11 = columns[2] + GaussianImageColumn.choleskyBound, l21 = columns[3]
    let l22 = columns[4] + GaussianImageColumn.choleskyBound
    // Σ = L Lᵀ = [[l11², l11·l21], [l11·l21, l21² + l22²]];  Σ⁻¹ = [[Σ22, −Σ12], [−Σ12, Σ11]] / det,
    // det = (l11·l22)².
    let determinant = (l11 * l22).squared()
    let a = (l21.squared() + l22.squared()) / determinant
    let b = -(l11 * l21) / determinant
    let c = l11.squared() / determinant
    return Tensor.concatenated([meanX, meanY, a, b, c, columns[5]], alongAxis: -1)
}

/// Converts GaussianImage raw parameters (G, 8) to Image-GS parameters (G, 8) for a
/// width × height image: the same Gaussians, rendered at the same places.
public func imageGSParameters(fromGaussianImage raw: Tensor, width: Int, height: Int) -> Tensor {
    precondition(raw.rank == 2 && raw.shape[1] == 8, "imageGSParameters(fromGaussianImage:): expected (G, 8), got \(raw.shape)")
    var result: [Float] = []
    result.reserveCapacity(raw.count)
    for g in 0..<raw.shape[0] {
        let row = Array(raw.scalars[(g * 8)..<(g * 8 + 8)]).map(Double.init)
        let x = ((Foundation.tanh(row[0]) + 1) / 2 * Double(width) + 0.5) / Double(width)
        let y = ((Foundation.tanh(row[1]) + 1) / 2 * Double(height) + 0.5) / Double(height)
        let l11 = row[2] + Double(GaussianImageColumn.choleskyBound), l21 = row[3]
        let l22 = row[4] + Double(GaussianImageColumn.choleskyBound)
        let (s11, s12, s22) = (l11 * l11, l11 * l21, l21 * l21 + l22 * l22)
        // Eigen-decomposition Σ = R(θ) diag(λ1, λ2) R(θ)ᵀ with θ = ½·atan2(2Σ12, Σ11 − Σ22).
        let theta = 0.5 * Foundation.atan2(2 * s12, s11 - s22)
        let (cosine, sine) = (Foundation.cos(theta), Foundation.sin(theta))
        let lambda1 = cosine * cosine * s11 + 2 * cosine * sine * s12 + sine * sine * s22
        let lambda2 = sine * sine * s11 - 2 * cosine * sine * s12 + cosine * cosine * s22
        result += [x, y, 1 / lambda1.squareRoot(), 1 / lambda2.squareRoot(), theta, row[5], row[6], row[7]].map { Float($0) }
    }
    return Tensor(shape: raw.shape, scalars: result)
}

/// Converts Image-GS parameters (G, 8) to GaussianImage raw parameters (G, 8) for a
/// width × height image. Positions must lie strictly inside GaussianImage's range
/// (−½ px < x·W − ½ < W + ½ px maps to |tanh u| < 1); they are clamped just inside it.
public func gaussianImageParameters(fromImageGS parameters: Tensor, width: Int, height: Int) -> Tensor {
    precondition(parameters.rank == 2 && parameters.shape[1] == 8, "gaussianImageParameters(fromImageGS:): expected (G, 8), got \(parameters.shape)")
    var result: [Float] = []
    result.reserveCapacity(parameters.count)
    for g in 0..<parameters.shape[0] {
        let row = Array(parameters.scalars[(g * 8)..<(g * 8 + 8)]).map(Double.init)
        let limit = 1 - 1e-6
        let tx = Swift.min(Swift.max((row[0] * Double(width) - 0.5) / Double(width) * 2 - 1, -limit), limit)
        let ty = Swift.min(Swift.max((row[1] * Double(height) - 0.5) / Double(height) * 2 - 1, -limit), limit)
        let (variance1, variance2) = (1 / (row[2] * row[2]), 1 / (row[3] * row[3]))
        let (cosine, sine) = (Foundation.cos(row[4]), Foundation.sin(row[4]))
        let s11 = cosine * cosine * variance1 + sine * sine * variance2
        let s12 = cosine * sine * (variance1 - variance2)
        let s22 = sine * sine * variance1 + cosine * cosine * variance2
        let l11 = s11.squareRoot(), l21 = s12 / l11, l22 = Swift.max(s22 - l21 * l21, 0).squareRoot()
        let bound = Double(GaussianImageColumn.choleskyBound)
        result += [Foundation.atanh(tx), Foundation.atanh(ty), l11 - bound, l21, l22 - bound, row[5], row[6], row[7]].map { Float($0) }
    }
    return Tensor(shape: parameters.shape, scalars: result)
}
