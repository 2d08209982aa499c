import TensorCore

// Drawing a fitted set (Image-GS rows (N, 8), see GaussianConventions.swift) at any output size,
// with the rasterizer its fit was optimised for. The one home of two policies:
//   - which rasterizer draws a set (`SetRenderer`; GaussianFitting maps a recipe to it), and
//   - how a set fitted to a W × H image is drawn at another size: positions are normalised, so
//     only the inverse scales (columns 2–3, in 1/source pixels) follow the magnification
//     (`scaledForOutput`).

/// How a set is drawn: the rasterizer its fit was optimised for.
public enum SetRenderer: String, CaseIterable, Sendable {
    /// Image-GS's top-K rasterizer (recipes imagegs*, imported GaussVAE sets, the VAE's render loss).
    case topK = "topk"
    /// GaussianImage's additive rasterizer (recipe gaussianimage).
    case additive

    /// Renders Image-GS rows (N, 8) fitted to a `fittedWidth` × `fittedHeight` image at
    /// `width` × `height`, clamped to [0, 1]: (3, height, width).
    public func render(_ set: Tensor, fittedWidth: Int, fittedHeight: Int, width: Int, height: Int) -> Tensor {
        let parameters = scaledForOutput(set, fittedWidth: fittedWidth, fittedHeight: fittedHeight, width: width, height: height)
        return withoutGradients { render(parameters, width: width, height: height).clamped(min: 0, max: 1) }
    }

    /// Renders rows (N, 8) whose scales are already in output pixels: (3, height, width),
    /// unclamped. `topK` applies to the top-K rasterizer only.
    public func render(_ parameters: Tensor, width: Int, height: Int, topK: TopKOptions = TopKOptions()) -> Tensor {
        switch self {
        case .topK: return renderImageGS(parameters, width: width, height: height, options: topK)
        case .additive: return renderImageGSAdditive(parameters, width: width, height: height)
        }
    }
}

/// Image-GS rows (N, 8) fitted to a `fittedWidth` × `fittedHeight` image, with their inverse
/// scales (columns 2–3) divided by the magnification to `width` × `height`, so that they draw
/// the same picture at that size. The input itself is returned when the sizes are equal.
public func scaledForOutput(_ set: Tensor, fittedWidth: Int, fittedHeight: Int, width: Int, height: Int) -> Tensor {
    precondition(set.rank == 2 && set.shape[1] == ImageGSColumn.count, "scaledForOutput: set \(set.shape) must be (N, 8)")
    precondition(fittedWidth >= 1 && fittedHeight >= 1 && width >= 1 && height >= 1,
                 "scaledForOutput: sizes \(fittedWidth)×\(fittedHeight) → \(width)×\(height) must be positive")
    if width == fittedWidth && height == fittedHeight { return set }
    let scaleX = Float(width) / Float(fittedWidth), scaleY = Float(height) / Float(fittedHeight)
    var rows = set.scalars
    for g in 0..<set.shape[0] {
        rows[g * ImageGSColumn.count + ImageGSColumn.scaleX] /= scaleX
        rows[g * ImageGSColumn.count + ImageGSColumn.scaleY] /= scaleY
    }
    return Tensor(shape: set.shape, scalars: rows)
}
