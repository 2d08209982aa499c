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
