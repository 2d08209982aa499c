import GaussianData
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// The optional render term of the VAE objective (`loss_weights.render_loss_weight` w > 0):
//
//   render_loss = w · (L1(I(x̂), I(x)) + 1 − SSIM(I(x̂), I(x)))
//
// where x̂ is the decoded set and x the input set, both in normalised representation units,
// and I renders a set at 64 × 64 with the top-K rasterizer (Image-GS's) as it looks: a set
// fitted to an F-pixel image is magnified by k = 64/F (positions are normalised, so only its
// footprint in pixels changes, as `SetRenderer.render` does). I(x) is a constant (rendered
// without gradient); I(x̂) is differentiable in x̂, through:
//
//   1. denormalisation, an affine map per column:      r = x̂ · std + mean        (B, N, C)
//   2. the representation's screen features (pixels):  (B, N, C) → (B, N, 8) [mx, my, a, b, c, r, g, b]
//        plain      Image-GS rows → `imageGSScreenFeatures`
//        canonical  [x, y, log σ₁, log σ₂, u, v, r, g, b] with (u, v) ≈ (cos 2θ, sin 2θ), taken
//                   to the unit circle: (c₂, s₂) = (u, v)/√(u² + v² + 10⁻¹²); with sᵢ = exp(−log σᵢ)
//                   (inverse std, as Image-GS's sx, sy) and cos²θ = (1 + c₂)/2,
//                   sin²θ = (1 − c₂)/2, cos θ sin θ = s₂/2, the conic of `imageGSScreenFeatures` is
//                     a = s₁²(1 + c₂)/2 + s₂²(1 − c₂)/2,   b = (s₁² − s₂²)·s₂/2,
//                     c = s₁²(1 − c₂)/2 + s₂²(1 + c₂)/2
//                   (the same ellipse as `SetRepresentation.canonical.decode`, without atan2)
//        log_covariance  [x, y, m, p, q, r, g, b]: d = √(p² + q² + 10⁻¹²), then the canonical
//                   formulas with log σ₁ = m + d, log σ₂ = m − d, (c₂, s₂) = (p, q)/d
//   3. magnification to the render size: [mx, my] · k and the conic [a, b, c] / k² (exact for
//      k = 1, so sets fitted at 64 pixels render as before)
//   4. `rasterizeTopK`.
//
// Shape letters: B batch, N Gaussians, C representation columns.

/// The side of the square renders compared by the render loss.
public let vaeRenderLossSize = 64

/// Renders sets given in normalised representation units (B, N, C), fitted to `fittedSize`-pixel
/// square images, at `size` × `size`: (B, 3, size, size), differentiable in `sets`.
public func renderNormalizedSets(_ sets: Tensor, representation: SetRepresentation, normalization: ColumnNormalization,
                                 fittedSize: Int, size: Int = vaeRenderLossSize) -> Tensor {
    let C = representation.columns
    precondition(sets.rank == 3 && sets.shape[2] == C,
                 "renderNormalizedSets: sets \(sets.shape) must be (B, N, \(C)) for the \(representation.rawValue) representation")
    precondition(normalization.mean.count == C, "renderNormalizedSets: normalisation has \(normalization.mean.count) columns, expected \(C)")
    let rows = sets * Tensor(shape: [C], scalars: normalization.standardDeviation) + Tensor(shape: [C], scalars: normalization.mean)
    precondition(fittedSize >= 1, "renderNormalizedSets: fitted size \(fittedSize) must be positive")
    var features = screenFeatures(rows, representation: representation, size: fittedSize)  // (B, N, 8), fitted pixels
    if fittedSize != size {
        let k = Float(size) / Float(fittedSize), conic = 1 / (k * k)
        features = features * Tensor(shape: [8], scalars: [k, k, conic, conic, conic, 1, 1, 1])
    }
    return rasterizeTopK(features, width: size, height: size)
}

/// Screen features (B, N, 8) of representation rows (B, N, C) for a size × size image.
func screenFeatures(_ rows: Tensor, representation: SetRepresentation, size: Int) -> Tensor {
    switch representation {
    case .plain:
        return imageGSScreenFeatures(rows, width: size, height: size)
    case .canonical:
        let columns = rows.split(sizes: [1, 1, 1, 1, 1, 1, 3], alongAxis: -1)
        let (x, y, logMajor, logMinor, u, v, colour) = (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5],
                                                        columns[6])
        let length = (u.squared() + v.squared() + 1e-12).sqrt()
        return ellipseFeatures(x: x, y: y, logMajor: logMajor, logMinor: logMinor, cosine: u / length, sine: v / length,
                               colour: colour, size: size)
    case .logCovariance:
        let columns = rows.split(sizes: [1, 1, 1, 1, 1, 3], alongAxis: -1)
        let (x, y, m, p, q, colour) = (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5])
        let d = (p.squared() + q.squared() + 1e-12).sqrt()  // half the log-std difference, ≥ 10⁻⁶
        return ellipseFeatures(x: x, y: y, logMajor: m + d, logMinor: m - d, cosine: p / d, sine: q / d,
                               colour: colour, size: size)
    }
}

/// Screen features (B, N, 8) [mx, my, a, b, c, r, g, b] of ellipses given by their log standard
/// deviations along and across the direction θ (`cosine`, `sine` = cos 2θ, sin 2θ), each (B, N, 1),
/// and positions in [0, 1] on a size × size image.
private func ellipseFeatures(x: Tensor, y: Tensor, logMajor: Tensor, logMinor: Tensor, cosine: Tensor, sine: Tensor,
                             colour: Tensor, size: Int) -> Tensor {
    let major = (logMajor * -2).exp(), minor = (logMinor * -2).exp()  // s₁², s₂² (inverse variances)
    let a = (major * (1 + cosine) + minor * (1 - cosine)) * 0.5
    let b = (major - minor) * sine * 0.5
    let c = (major * (1 - cosine) + minor * (1 + cosine)) * 0.5
    return Tensor.concatenated([x * Float(size), y * Float(size), a, b, c, colour], alongAxis: -1)
}

/// w · (L1 + 1 − SSIM) between renders of the reconstruction (differentiable) and of the
/// target (a constant), both (B, N, C) in normalised representation units, fitted to
/// `fittedSize`-pixel images. A scalar tensor.
public func vaeRenderLoss(reconstruction: Tensor, target: Tensor, representation: SetRepresentation,
                          normalization: ColumnNormalization, fittedSize: Int, weight: Float) -> Tensor {
    func render(_ sets: Tensor) -> Tensor {
        renderNormalizedSets(sets, representation: representation, normalization: normalization, fittedSize: fittedSize)
    }
    let reference = withoutGradients { render(target) }
    let rendered = render(reconstruction)
    return (l1Loss(rendered, reference) + (1 - ssim(rendered, reference))) * weight
}
