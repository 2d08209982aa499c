import GaussianRasterizer
import NeuralNetwork
import TensorCore

// The feed-forward inpainting model: masked image → U-Net features → per-patch Gaussians →
// patch rasterizer → the holes filled with the render.
//
// Mask convention. Mask files are PNGs with white = hole (Masks.swift). In memory a mask is
// hole = 1, known = 0, shape (B, 1, H, W). Writing K = 1 − hole (1 for KNOWN pixels), the output is
//   image = K ⊙ I + (1 − K) ⊙ render,
// so known pixels are the input's, bit for bit (I·1 + render·0), for any render.
//
// Network input: the image with its holes zeroed, I ⊙ K, in [0, 1] (with `hole_fill: push_pull`,
// the holes hold the push-pull fill F of the known pixels instead: I ⊙ K + F ⊙ (1 − K), a
// constant of the input), and (with `mask_channel`) the hole mask as a 4th channel: (B, 3 | 4, H, W).
//
// With `residual_over_fill` the Gaussians' render R is a correction of the fill: the model's
// picture is F + R (its `render`), and image = K ⊙ I + (1 − K) ⊙ (F + R). The colour decoder's
// output weights start at 1 % of their usual draw, so an untrained model returns the fill plus
// a correction of about 1 % (`InpaintingModelConfig.residualColourGain`).
//
// Sizes. The U-Net needs H and W divisible by 8 (three stride-2 steps) and the rasterizer by P,
// so the network's stride is lcm(P, 8) (16 for P = 16). Inputs of any size are padded at the
// bottom and right by reflection (about the last row and column, repeated for inputs smaller
// than the padding) to the next multiple of the stride, and the render is cropped back. The
// Gaussians are those of the padded image: (B, N, G, 8) with N = (H'/P)·(W'/P) for the padded
// H' × W'; since padding is only at the bottom and right, their pixel coordinates are the input's.
//
// Parameters live under "unet.…", "global.…" (the learned global encoder; absent with
// precomputed features) and "head.…".

/// What `InpaintingModel.predict` returns.
public struct InpaintingPrediction {
    /// K ⊙ I + (1 − K) ⊙ render: (B, 3, H, W).
    public let image: Tensor
    /// The rasterized Gaussians over the whole image (cropped to H × W), plus the fill with
    /// `residual_over_fill` (the model's picture, which fills the holes): (B, 3, H, W).
    public let render: Tensor
    /// Screen Gaussians of the padded image: (B, N, G, 8) = [mx, my, a, b, c, r, g, b].
    public let gaussians: Tensor
}

/// The inpainting network of "2D Gaussian Splatting with Semantic Alignment for Image Inpainting".
public struct InpaintingModel {
    public let config: InpaintingModelConfig
    public let unet: InpaintingUNet
    /// The learned global encoder, or nil when features are precomputed.
    public let globalEncoder: GlobalImageEncoder?
    public let head: GaussianHead

    /// Creates the parameters under `scope` ("unet", "global", "head" below it).
    public init(config: InpaintingModelConfig, scope: ParameterScope) {
        self.config = config
        unet = InpaintingUNet(inputChannels: config.inputChannels, baseChannels: config.baseChannels,
                              outputChannels: config.featureChannels, residualBlocks: config.residualBlocks,
                              groups: config.groupNormGroups, semanticFeatures: config.semanticFeatures,
                              scope: scope.scope("unet"))
        globalEncoder = config.semanticSource == .learned
            ? GlobalImageEncoder(inputChannels: config.inputChannels, width: config.globalChannels,
                                 features: config.semanticFeatures, scope: scope.scope("global"))
            : nil
        head = GaussianHead(config: config, scope: scope.scope("head"))
    }

    /// Creates the parameters at the root of `store`.
    public init(config: InpaintingModelConfig, store: ParameterStore) {
        self.init(config: config, scope: store.root)
    }

    /// The network's stride, lcm(P, 8): H and W are padded to multiples of it.
    public var stride: Int { Self.stride(patchSize: config.patchSize) }

    /// lcm(P, 8) for patch size P.
    public static func stride(patchSize P: Int) -> Int {
        var (a, b) = (P, InpaintingUNet.stride)
        while b != 0 { (a, b) = (b, a % b) }
        return P / a * InpaintingUNet.stride
    }

    /// Fills the holes of `image`.
    ///
    /// - Parameters:
    ///   - image: I, (B, 3, H, W) in [0, 1]; hole pixels are ignored (zeroed before the network).
    ///   - mask: (B, 1, H, W), 1 = hole, 0 = known.
    ///   - features: precomputed global features (B, F) when `semantic_source` is precomputed;
    ///     nil with the learned encoder.
    ///   - training: passed to every layer.
    public func predict(_ image: Tensor, mask: Tensor, features: Tensor? = nil, training: Bool = false) -> InpaintingPrediction {
        precondition(image.rank == 4 && image.shape[1] == 3, "InpaintingModel: image \(image.shape) must be (B, 3, H, W)")
        let (B, H, W) = (image.shape[0], image.shape[2], image.shape[3])
        precondition(mask.shape == [B, 1, H, W], "InpaintingModel: mask \(mask.shape) must be \([B, 1, H, W])")
        switch config.semanticSource {
        case .learned:
            precondition(features == nil, "InpaintingModel: features given, but semantic_source is learned")
        case .precomputed:
            precondition(features?.shape == [B, config.semanticFeatures],
                         "InpaintingModel: precomputed features \(features?.shape ?? []) must be \([B, config.semanticFeatures])")
        }
        let s = stride
        let (paddedH, paddedW) = ((H + s - 1) / s * s, (W + s - 1) / s * s)
        let paddedImage = reflectionPaddedBottomRight(image, height: paddedH, width: paddedW)
        let hole = reflectionPaddedBottomRight(mask, height: paddedH, width: paddedW)  // (B, 1, H', W')
        let masked = holeFilled(paddedImage, hole: hole)
        let input = config.maskChannel ? Tensor.concatenated([masked, hole], alongAxis: 1) : masked

        let global = features ?? globalEncoder!(input, training: training)  // (B, F)
        let featureMap = unet(input, semantics: siluActivation(global), training: training)  // (B, D, H', W')
        let gaussians = head(featureMap, training: training)  // (B, N, G, 8)
        var render = rasterizePatches(gaussians, width: paddedW, height: paddedH, options: config.patchOptions)
        if paddedH != H { render = render.sliced(0..<H, alongAxis: 2) }
        if paddedW != W { render = render.sliced(0..<W, alongAxis: 3) }
        if config.residualOverFill {  // the fill F (the network input's holes) plus the correction
            var fill = masked
            if paddedH != H { fill = fill.sliced(0..<H, alongAxis: 2) }
            if paddedW != W { fill = fill.sliced(0..<W, alongAxis: 3) }
            render = fill.detached() + render
        }
        let known = 1 - mask
        return InpaintingPrediction(image: image * known + render * mask, render: render, gaussians: gaussians)
    }
}

extension InpaintingModel {
    /// The network's image input: I ⊙ (1 − hole), plus the push-pull fill in the holes when
    /// configured. images (B, 3, H, W), hole (B, 1, H, W) → (B, 3, H, W).
    func holeFilled(_ images: Tensor, hole: Tensor) -> Tensor {
        let known = images * (1 - hole)
        guard config.holeFill == .pushPull else { return known }
        let (B, H, W) = (images.shape[0], images.shape[2], images.shape[3])
        let (pixels, holes) = (images.scalars, hole.scalars)
        var fill: [Float] = []
        fill.reserveCapacity(pixels.count)
        for item in 0..<B {
            fill += pushPullFill(Array(pixels[(item * 3 * H * W)..<((item + 1) * 3 * H * W)]),
                                 mask: Array(holes[(item * H * W)..<((item + 1) * H * W)]), width: W, height: H)
        }
        return known + Tensor(shape: images.shape, scalars: fill) * hole  // the fill is a constant: no gradient
    }
}

/// Pads (B, C, H, W) at the bottom and right to height × width by reflection about the last row
/// and column (PyTorch's "reflect", folded again when the padding exceeds the extent).
func reflectionPaddedBottomRight(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank == 4 && height >= x.shape[2] && width >= x.shape[3],
                 "reflectionPaddedBottomRight: \(x.shape) to \(height) × \(width)")
    /// Index into 0..<n of position i ≥ 0 of the reflected sequence (period 2(n − 1)).
    func reflected(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let period = 2 * (n - 1), r = i % period
        return r < n ? r : period - r
    }
    var result = x
    if height > x.shape[2] { result = result.gathered((0..<height).map { reflected($0, x.shape[2]) }, alongAxis: 2) }
    if width > x.shape[3] { result = result.gathered((0..<width).map { reflected($0, x.shape[3]) }, alongAxis: 3) }
    return result
}
