import Foundation
import TensorCore

// Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) and its multi-scale form, as in
// pytorch_msssim, built from TensorCore ops so they are differentiable (SSIM losses train image
// models).
//
// Shape letters: N batch, C channels, H × W image, S window size, H' = H − S + 1, W' = W − S + 1.
//
// For images x, y of shape (N, C, H, W), with g the normalised Gaussian window (S = 11, σ = 1.5)
// applied per channel and "valid" (no padding) — so every statistic is over a full window:
//
//   μx = g ∗ x,  μy = g ∗ y                                          (N, C, H', W')
//   σx² = g ∗ x² − μx²,  σy² = g ∗ y² − μy²,  σxy = g ∗ (x·y) − μx·μy
//   cs   = (2 σxy + C2) / (σx² + σy² + C2)                          contrast-structure map
//   ssim = (2 μx μy + C1) / (μx² + μy² + C1) · cs
//   C1 = (K1·R)², C2 = (K2·R)², K1 = 0.01, K2 = 0.03, R the data range (1 for [0, 1] images)
//
// SSIM(x, y) is the mean of the ssim map over all of (N, C, H', W').
//
// Padding choice: "valid", as pytorch_msssim (and skimage, which filters with reflection but
// then crops (S − 1)/2 pixels from each border before averaging, so the same windows count).
// Variances use the population form (no N/(N−1) correction), as pytorch_msssim; skimage's
// `use_sample_covariance=True` default differs by that factor.
//
// The Gaussian filter is separable: one depthwise (groups = channels) conv2d with a 1 × S
// kernel, then one with an S × 1 kernel. The five maps x, y, x², y², x·y are stacked along the
// channel axis so both passes filter them together: (N, 5C, H, W) → (N, 5C, H', W').

/// Hyperparameters of SSIM and MS-SSIM; the defaults are the paper's and pytorch_msssim's.
public struct SSIMOptions: Sendable, Equatable {
    /// S, the side of the square Gaussian window (odd).
    public var windowSize: Int
    /// σ of the Gaussian window, in pixels.
    public var windowSigma: Float
    /// R, the span of pixel values (1 for images in [0, 1], 255 for 8-bit values).
    public var dataRange: Float
    /// K1 of C1 = (K1·R)².
    public var k1: Float
    /// K2 of C2 = (K2·R)².
    public var k2: Float

    public init(windowSize: Int = 11, windowSigma: Float = 1.5, dataRange: Float = 1, k1: Float = 0.01, k2: Float = 0.03) {
        precondition(windowSize >= 1 && windowSize % 2 == 1, "SSIMOptions: windowSize must be odd and positive, got \(windowSize)")
        precondition(windowSigma > 0 && dataRange > 0, "SSIMOptions: windowSigma and dataRange must be positive")
        self.windowSize = windowSize
        self.windowSigma = windowSigma
        self.dataRange = dataRange
        self.k1 = k1
        self.k2 = k2
    }

    /// C1 = (K1·R)², stabilising the luminance term.
    public var c1: Float { (k1 * dataRange) * (k1 * dataRange) }
    /// C2 = (K2·R)², stabilising the contrast-structure term.
    public var c2: Float { (k2 * dataRange) * (k2 * dataRange) }

    /// The normalised 1-D Gaussian window: gᵢ = exp(−(i − ⌊S/2⌋)² / 2σ²) / Σⱼ gⱼ, i = 0..<S
    /// (computed in Float, as pytorch_msssim's `_fspecial_gauss_1d`).
    public var gaussianWindow: [Float] {
        let center = Float(windowSize / 2)
        let raw = (0..<windowSize).map { i -> Float in
            let offset = Float(i) - center
            return Foundation.exp(-(offset * offset) / (2 * windowSigma * windowSigma))
        }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }
}

/// Filters every channel of (N, K, H, W) with the separable Gaussian window of `options`,
/// without padding: → (N, K, H − S + 1, W − S + 1). The same as two depthwise conv2d passes,
/// at O(S) work per pixel through TensorCore's separable filter.
func gaussianFiltered(_ images: Tensor, options: SSIMOptions) -> Tensor {
    let window = options.gaussianWindow
    return images.separableFiltered(horizontal: window, vertical: window)
}

/// The per-image, per-channel means of the SSIM map and of the contrast-structure map.
///
/// - Parameters:
///   - x, y: images (N, C, H, W) with H, W ≥ S.
/// - Returns: `ssim` and `contrastStructure`, each (N, C): the means over (H', W').
func ssimComponents(_ x: Tensor, _ y: Tensor, options: SSIMOptions) -> (ssim: Tensor, contrastStructure: Tensor) {
    let maps = ssimMaps(x, y, options: options)
    return (maps.ssim.mean(alongAxes: [2, 3]), maps.contrastStructure.mean(alongAxes: [2, 3]))
}

/// The SSIM map of two batches of images: (N, C, H − S + 1, W − S + 1); value (i, j) belongs
/// to the window whose top-left pixel is (i, j), i.e. centred on pixel (i + S/2, j + S/2).
/// For scores over a region (e.g. the holes of an inpainting mask), average it there.
public func ssimMap(_ x: Tensor, _ y: Tensor, options: SSIMOptions = SSIMOptions()) -> Tensor {
    ssimMaps(x, y, options: options).ssim
}

/// The SSIM and contrast-structure maps, each (N, C, H', W').
private func ssimMaps(_ x: Tensor, _ y: Tensor, options: SSIMOptions) -> (ssim: Tensor, contrastStructure: Tensor) {
    precondition(x.rank == 4 && x.shape == y.shape, "ssim: images \(x.shape) and \(y.shape) must both be (N, C, H, W)")
    let C = x.shape[1]
    precondition(x.shape[2] >= options.windowSize && x.shape[3] >= options.windowSize,
                 "ssim: images \(x.shape) are smaller than the \(options.windowSize)×\(options.windowSize) window")
    let stacked = Tensor.concatenated([x, y, x * x, y * y, x * y], alongAxis: 1)  // (N, 5C, H, W)
    let filtered = gaussianFiltered(stacked, options: options)                 // (N, 5C, H', W')
    let moments = filtered.split(sizes: [C, C, C, C, C], alongAxis: 1)         // 5 × (N, C, H', W')
    let (meanX, meanY) = (moments[0], moments[1])
    let meanXSquared = meanX * meanX, meanYSquared = meanY * meanY, meanXY = meanX * meanY
    let varianceX = moments[2] - meanXSquared
    let varianceY = moments[3] - meanYSquared
    let covariance = moments[4] - meanXY
    let c1 = options.c1, c2 = options.c2
    let contrastStructure = (2 * covariance + c2) / (varianceX + varianceY + c2)
    let luminance = (2 * meanXY + c1) / (meanXSquared + meanYSquared + c1)
    return (luminance * contrastStructure, contrastStructure)
}

/// Structural similarity of two batches of images, differentiable in both.
///
/// SSIM is 1 for identical images and at most 1; see the file header for the formulas.
///
/// - Parameters:
///   - x: images (N, C, H, W), H and W at least the window size (11 by default).
///   - y: images of the same shape.
///   - options: window, data range and constants (defaults: 11 × 11, σ 1.5, R = 1).
/// - Returns: a scalar tensor, the mean SSIM over images, channels and window positions.
public func ssim(_ x: Tensor, _ y: Tensor, options: SSIMOptions = SSIMOptions()) -> Tensor {
    ssimComponents(x, y, options: options).ssim.mean()
}

/// The SSIM loss 1 − SSIM(x, y): 0 for identical images. A scalar tensor.
public func ssimLoss(_ x: Tensor, _ y: Tensor, options: SSIMOptions = SSIMOptions()) -> Tensor {
    1 - ssim(x, y, options: options)
}

// MARK: - Multi-scale SSIM

// Multi-scale SSIM (Wang, Simoncelli & Bovik 2003), as pytorch_msssim's `ms_ssim`, with M scales
// (5 by default).
//
// Scale 1 is the input; scale j + 1 is scale j average-pooled 2 × 2 with stride 2. An odd side
// is padded by one zero on each end of that axis first, with the zeros counted in the average
// (pytorch_msssim's `avg_pool2d(kernel_size=2, padding=[s % 2 for s in shape])`), so a side s
// becomes ⌈s / 2⌉. With csⱼ and ssimⱼ the per-image, per-channel means of the contrast-structure
// and SSIM maps at scale j (see above) and weights wⱼ:
//
//   MS-SSIM = mean over (N, C) of  Πⱼ₌₁^{M−1} relu(csⱼ)^wⱼ · relu(ssim_M)^w_M
//
// Clamping: like pytorch_msssim, negative cs and SSIM values are clamped to 0 (relu) before the
// fractional power, which is undefined for negative bases. A clamped factor makes that image's
// product 0 and passes no gradient (PyTorch's relu backward gives 0 there too; a plain
// relu-then-pow composition would give 0·∞ = NaN, so the power is taken of where(v > 0, v, 1)
// and the result replaced by 0 where v ≤ 0). Near 0 the gradient of v^w (w < 1) is large:
// MS-SSIM trains best on images that are already roughly aligned (start with SSIM or L1).
//
// Size: the window must fit at the coarsest scale, so the shorter side must exceed
// (S − 1)·2^(M−1) (160 pixels for S = 11, M = 5), the condition pytorch_msssim asserts.

/// The standard MS-SSIM scale weights (Wang et al. 2003), finest scale first.
public let standardMultiScaleSSIMWeights: [Float] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

/// Multi-scale structural similarity of two batches of images, differentiable in both.
///
/// - Parameters:
///   - x: images (N, C, H, W); min(H, W) > (S − 1)·2^(M−1), e.g. > 160 for the defaults.
///   - y: images of the same shape.
///   - options: window, data range and constants (defaults: 11 × 11, σ 1.5, R = 1).
///   - weights: w₁…w_M, finest scale first (default: the standard five).
/// - Returns: a scalar tensor, the mean over images and channels of the per-channel MS-SSIM.
public func msSSIM(_ x: Tensor, _ y: Tensor, options: SSIMOptions = SSIMOptions(),
                   weights: [Float] = standardMultiScaleSSIMWeights) -> Tensor {
    precondition(x.rank == 4 && x.shape == y.shape, "msSSIM: images \(x.shape) and \(y.shape) must both be (N, C, H, W)")
    precondition(!weights.isEmpty, "msSSIM: no scale weights")
    let scales = weights.count
    let smallerSide = Swift.min(x.shape[2], x.shape[3])
    let required = (options.windowSize - 1) << (scales - 1)
    precondition(smallerSide > required,
                 "msSSIM: images \(x.shape) need a shorter side above \(required) for \(scales) scales of a \(options.windowSize)-pixel window")

    var product: Tensor? = nil  // Π of the weighted factors so far, (N, C)
    var (imageX, imageY) = (x, y)
    for (scale, weight) in weights.enumerated() {
        let components = ssimComponents(imageX, imageY, options: options)
        let isLast = scale == scales - 1
        let factor = clampedPower(isLast ? components.ssim : components.contrastStructure, weight)
        product = product.map { $0 * factor } ?? factor
        if !isLast {
            imageX = halved(imageX)
            imageY = halved(imageY)
        }
    }
    return product!.mean()
}

/// The MS-SSIM loss 1 − MS-SSIM(x, y): 0 for identical images. A scalar tensor.
public func msSSIMLoss(_ x: Tensor, _ y: Tensor, options: SSIMOptions = SSIMOptions(),
                       weights: [Float] = standardMultiScaleSSIMWeights) -> Tensor {
    1 - msSSIM(x, y, options: options, weights: weights)
}

/// 2 × 2 average pooling with stride 2, padding an odd axis by one zero at each end (counted
/// in the average): (N, C, H, W) → (N, C, ⌈H/2⌉, ⌈W/2⌉).
private func halved(_ images: Tensor) -> Tensor {
    images.averagePool2d(kernel: (2, 2), stride: (2, 2), padding: (images.shape[2] % 2, images.shape[3] % 2),
                         countIncludesPadding: true)
}

/// relu(v)^w with a zero gradient where v ≤ 0: the power of where(v > 0, v, 1), replaced by 0
/// where v ≤ 0, so no 0^(w − 1) = ∞ enters the chain rule.
private func clampedPower(_ values: Tensor, _ exponent: Float) -> Tensor {
    let positive = values.compared(Tensor(0)) { value, zero in value > zero }  // a mask, no gradient
    let safeBase = Tensor.where(positive, values, Tensor(1))
    return Tensor.where(positive, safeBase.pow(exponent), Tensor(0))
}

/// MS-SSIM of two (3, H, W) images as a number for reports: NaN when the shorter side is 160
/// pixels or less (the coarsest of the five scales needs a full window).
public func multiScaleSSIM(_ x: Tensor, _ y: Tensor) -> Double {
    guard Swift.min(x.shape[1], x.shape[2]) > 160 else { return .nan }
    return Double(withoutGradients { msSSIM(x.unsqueezed(0), y.unsqueezed(0)).item })
}
