import Foundation
import TensorCore

// Parameterisations of a 2-D Gaussian set and their maps to screen features.
//
// Image-GS / GaussVAE convention, one row of 8 per Gaussian (this column order):
//   x, y        position normalised to [0, 1] (x across the width, y down the height; may leave it)
//   sx, sy      inverse standard deviations in 1/pixels: σ = 1/|s| pixels (sign irrelevant)
//   θ           rotation in radians (unbounded)
//   r, g, b     colour (unbounded while fitting, clamped for display)
// Σ = R(θ) diag(σx², σy²) R(θ)ᵀ, so the conic is Σ⁻¹ = R(θ) diag(sx², sy²) R(θ)ᵀ:
//   a = cos²θ·sx² + sin²θ·sy²,  b = cosθ·sinθ·(sx² − sy²),  c = sin²θ·sx² + cos²θ·sy².
// The mean in pixels is (x·W, y·H): x = 0 is the image's left edge, x = 1 its right edge.

/// Column indices of the Image-GS 8-parameter convention.
public enum ImageGSColumn {
    public static let x = 0, y = 1, scaleX = 2, scaleY = 3, rotation = 4, red = 5, green = 6, blue = 7
    public static let count = 8
    /// Short names of the columns, in order (tables, reports, `dataset info`).
    public static let names = ["x", "y", "sx", "sy", "θ", "r", "g", "b"]
}

/// Screen features [mx, my, a, b, c, r, g, b] (pixels) of Image-GS parameters, for an image of
/// width × height. Shapes (…, G, 8) → (…, G, 8); differentiable (a composition of tensor ops).
public func imageGSScreenFeatures(_ parameters: Tensor, width: Int, height: Int) -> Tensor {
    precondition(parameters.shape.last == ImageGSColumn.count, "imageGSScreenFeatures: expected (…, G, 8), got \(parameters.shape)")
    let columns = parameters.split(sizes: [1, 1, 1, 1, 1, 3], alongAxis: -1)
    let (x, y, scaleX, scaleY, rotation, colour) = (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5])
    let cosine = rotation.cos(), sine = rotation.sin()
    let inverseVarianceX = scaleX.squared(), inverseVarianceY = scaleY.squared()
    let cos2 = cosine.squared(), sin2 = sine.squared()
    let a = cos2 * inverseVarianceX + sin2 * inverseVarianceY
    let b = cosine * sine * (inverseVarianceX - inverseVarianceY)
    let c = sin2 * inverseVarianceX + cos2 * inverseVarianceY
    return Tensor.concatenated([x * Float(width), y * Float(height), a, b, c, colour], alongAxis: -1)
}

/// Renders Image-GS parameters (…, G, 8) with the top-K rasterizer: (G, 8) → (3, H, W),
/// (B, G, 8) → (B, 3, H, W). Differentiable with respect to every parameter.
public func renderImageGS(_ parameters: Tensor, width: Int, height: Int, options: TopKOptions = TopKOptions()) -> Tensor {
    rasterizeTopK(imageGSScreenFeatures(parameters, width: width, height: height), width: width, height: height, options: options)
}

/// Image-GS parameters (G, 8) of screen features [mx, my, a, b, c, r, g, b] (G, 8) for an image
/// of width × height: the inverse of `imageGSScreenFeatures` up to the symmetries of the
/// parameterisation (θ in (−π/2, π/2], sx² ≥ sy² the conic's larger eigenvalue first). The conic
/// [[a, b], [b, c]] must be positive definite; its eigenvalues are the inverse variances along
/// the Gaussian's axes. Not differentiable (for files and drawings).
public func imageGSParameters(fromScreenFeatures screen: Tensor, width: Int, height: Int) -> Tensor {
    precondition(screen.rank == 2 && screen.shape[1] == 8, "imageGSParameters: expected (G, 8), got \(screen.shape)")
    let values = screen.scalars
    var rows = [Float](repeating: 0, count: values.count)
    for g in 0..<screen.shape[0] {
        let f = values[(g * 8)..<(g * 8 + 8)].map(Double.init)
        let (a, b, c) = (f[2], f[3], f[4])
        // Eigenvalues of the symmetric conic; θ rotates x onto the eigenvector of the larger one.
        let mean = (a + c) / 2, radius = ((a - c) * (a - c) / 4 + b * b).squareRoot()
        let (larger, smaller) = (mean + radius, max(mean - radius, 0))
        let theta = 0.5 * atan2(2 * b, a - c)
        let row = [f[0] / Double(width), f[1] / Double(height), larger.squareRoot(), smaller.squareRoot(), theta, f[5], f[6], f[7]]
        for column in 0..<8 { rows[g * 8 + column] = Float(row[column]) }
    }
    return Tensor(shape: screen.shape, scalars: rows)
}
