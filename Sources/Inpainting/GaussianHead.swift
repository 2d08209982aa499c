import Foundation
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// The Gaussian head of the inpainting network: from the U-Net's D-channel feature map to the
// per-patch screen Gaussians that `rasterizePatches` renders.
//
// Shape letters: B batch, D feature channels, H × W image, P patch size, pad window padding,
// S = P + 2·pad window side, N = (H/P)·(W/P) patches (row-major), G = S² Gaussians per patch,
// M = B·N·G Gaussians in all, C_p patch-embedding channels, K dictionary entries.
//
// Construction. The paper patchifies the feature map with a convolution whose kernel and stride
// are P and whose output has G·D channels, one D-vector per Gaussian of the patch. That
// convolution maps D·P² inputs to G·D outputs per patch (3 072 → 6 912 weights per output for
// P = 16, pad = 4, D = 12: 21 M parameters). Here it is factored through C_p channels:
//   patchify  Conv2D(D → C_p, kernel P, stride P)       (B, D, H, W) → (B, C_p, H/P, W/P)
//   expand    Linear(C_p → G·D)                         (B·N, C_p) → (B·N, G·D) → (M, D)
// Both are linear, so this is exactly the paper's patchify convolution constrained to rank C_p
// (C_p = G·D recovers it); 0.65 M parameters at the CPU defaults (C_p = 64), 2.6 M at the
// paper config's C_p = 256.
//
// Decoders, each a small MLP Linear(D → h) → ReLU → Linear(h → ·) shared by every Gaussian:
//   colour      3 values, no activation
//   offset      2 values, tanh, times `offsetRange` (±1 px): the mean is the Gaussian's grid point
//               plus this offset. Gaussian j = v·S + u of patch k = py·(W/P) + px sits on the
//               pixel centre (px·P − pad + u + ½, py·P − pad + v + ½) of the padded window, in
//               image pixels (so border patches have grid points outside the image).
//   covariance  K logits → `dictionaryConics` (InpaintingCovariance.swift): a softmax mixture
//               of the fixed Cholesky dictionary plus ε I, inverted in closed form (the op
//               applies the decoder's output Linear itself, so the logits are never stored). The output
//               bias starts at ln(9(K − 1)) on the entry nearest L = I and 0 elsewhere, so every
//               Gaussian starts about one grid spacing wide (90 % of its weight on that entry).
// Opacity is 1 for every Gaussian (the rasterizer's default when none is given).
//
// Output: screen features (B, N, G, 8) = [mx, my, a, b, c, r, g, b] (TileBinning.swift).

/// A per-Gaussian decoder: Linear(in → hidden) → ReLU → Linear(hidden → out), over (M, in).
public struct GaussianDecoder: Layer {
    /// Parameters `hidden.weight`, `hidden.bias`.
    public let hidden: Linear
    /// Parameters `output.weight`, `output.bias`.
    public let output: Linear

    /// `outputGain`: the output layer's Glorot-uniform weights times this (its bias starts at
    /// zero), so a small gain starts the decoder near zero.
    public init(inputs: Int, hidden: Int, outputs: Int, outputGain: Float = 1, scope: ParameterScope) {
        self.hidden = Linear(inputs, hidden, scope: scope.scope("hidden"))
        let weights: Initializer? = outputGain == 1 ? nil : .scaled(.glorotUniform(fans: .linear([hidden, outputs])), gain: outputGain)
        self.output = Linear(hidden, outputs, weightInitializer: weights, scope: scope.scope("output"))
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        output(hidden(input, training: training).relu(), training: training)
    }
}

/// Feature map (B, D, H, W) → screen Gaussians (B, N, G, 8), H and W multiples of P.
///
/// Parameters: `patchify.weight`, `patchify.bias`, `expand.weight`, `expand.bias`, and
/// `colour.…`, `offset.…`, `covariance.…` (each `hidden` and `output`).
public struct GaussianHead: Layer {
    /// D, the features per Gaussian (the U-Net's output channels).
    public let featureChannels: Int
    /// P and pad of the rasterizer.
    public let options: PatchOptions
    /// The largest move of a Gaussian from its grid point, pixels.
    public let offsetRange: Float
    /// ε, added to every covariance's diagonal, px².
    public let covarianceEpsilon: Float
    public let dictionary: CholeskyDictionary
    public let patchify: Conv2D
    public let expand: Linear
    public let colour: GaussianDecoder
    public let offset: GaussianDecoder
    public let covariance: GaussianDecoder

    /// `colourGain`: the colour decoder's output weights are scaled by it (`residual_over_fill`
    /// starts near a zero correction).
    public init(featureChannels: Int, options: PatchOptions, embeddingChannels: Int, hidden: Int,
                dictionary: CholeskyDictionary, offsetRange: Float = 1, covarianceEpsilon: Float = 0.01,
                colourGain: Float = 1, scope: ParameterScope) {
        precondition(featureChannels >= 1 && embeddingChannels >= 1 && hidden >= 1,
                     "GaussianHead: D \(featureChannels), C_p \(embeddingChannels), hidden \(hidden) must be ≥ 1")
        precondition(options.patchSize >= 1 && options.padding >= 0,
                     "GaussianHead: patch size \(options.patchSize), padding \(options.padding)")
        precondition(covarianceEpsilon > 0, "GaussianHead: covariance epsilon \(covarianceEpsilon) must be positive")
        self.featureChannels = featureChannels
        self.options = options
        self.offsetRange = offsetRange
        self.covarianceEpsilon = covarianceEpsilon
        self.dictionary = dictionary
        let P = options.patchSize
        patchify = Conv2D(inputChannels: featureChannels, outputChannels: embeddingChannels, kernelSize: IntOrPair(P),
                          stride: IntOrPair(P), scope: scope.scope("patchify"))
        expand = Linear(embeddingChannels, options.windowPixelCount * featureChannels, scope: scope.scope("expand"))
        colour = GaussianDecoder(inputs: featureChannels, hidden: hidden, outputs: 3, outputGain: colourGain,
                                 scope: scope.scope("colour"))
        offset = GaussianDecoder(inputs: featureChannels, hidden: hidden, outputs: 2, scope: scope.scope("offset"))
        covariance = GaussianDecoder(inputs: featureChannels, hidden: hidden, outputs: dictionary.count,
                                     scope: scope.scope("covariance"))
        // Start near one-pixel Gaussians (the grid's spacing): the entry closest to L = I gets
        // 90 % of the weight, the rest share 10 %.
        if scope.store.allocates {  // a counting store's tensors are empty placeholders
            let bias = covariance.output.bias!
            bias.scalars[dictionary.nearestIdentity] = Foundation.log(9 * Float(Swift.max(dictionary.count - 1, 1)))
        }
    }

    /// The head a model configuration describes.
    public init(config: InpaintingModelConfig, scope: ParameterScope) {
        self.init(featureChannels: config.featureChannels, options: config.patchOptions,
                  embeddingChannels: config.patchEmbeddingChannels, hidden: config.mlpHidden,
                  dictionary: config.dictionary, offsetRange: Float(config.offsetRange),
                  covarianceEpsilon: Float(config.covarianceEpsilon),
                  colourGain: config.residualOverFill ? InpaintingModelConfig.residualColourGain : 1, scope: scope)
    }

    /// G, Gaussians per patch: (P + 2·pad)².
    public var gaussiansPerPatch: Int { options.windowPixelCount }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        let P = options.patchSize, D = featureChannels, G = gaussiansPerPatch
        precondition(input.rank == 4 && input.shape[1] == D && input.shape[2] % P == 0 && input.shape[3] % P == 0,
                     "GaussianHead: input \(input.shape) must be (B, \(D), H, W) with H and W multiples of \(P)")
        let (B, H, W) = (input.shape[0], input.shape[2], input.shape[3])
        let N = (H / P) * (W / P)
        let embedded = patchify(input, training: training)  // (B, C_p, H/P, W/P)
            .permuted([0, 2, 3, 1]).reshaped([B * N, -1])   // (B·N, C_p), patches row-major
        let features = expand(embedded, training: training).reshaped([B * N * G, D])  // (M, D)
        let colours = colour(features, training: training)  // (M, 3)
        let offsets = offset(features, training: training).tanh() * offsetRange  // (M, 2)
        let means = (offsets.reshaped([B, N * G, 2]) + GaussianHead.gridCentres(width: W, height: H, options: options))
            .reshaped([B * N * G, 2])
        let conics = dictionaryConics(hidden: covariance.hidden(features, training: training).relu(),
                                      weight: covariance.output.weight, bias: covariance.output.bias!,
                                      dictionary: dictionary, epsilon: covarianceEpsilon)  // (M, 3), no (M, K) logits
        return Tensor.concatenated([means, conics, colours], alongAxis: 1).reshaped([B, N, G, 8])
    }

    /// The fixed grid points (N·G, 2) of a width × height image: Gaussian j = v·S + u of patch
    /// k = py·(W/P) + px at (px·P − pad + u + ½, py·P − pad + v + ½).
    public static func gridCentres(width: Int, height: Int, options: PatchOptions) -> Tensor {
        let (P, pad) = (options.patchSize, options.padding)
        let S = P + 2 * pad, across = width / P, N = across * (height / P)
        var values = [Float](repeating: 0, count: N * S * S * 2)
        for k in 0..<N {
            let left = (k % across) * P - pad, top = (k / across) * P - pad
            for v in 0..<S {
                for u in 0..<S {
                    let base = ((k * S + v) * S + u) * 2
                    values[base] = Float(left + u) + 0.5
                    values[base + 1] = Float(top + v) + 0.5
                }
            }
        }
        return Tensor(shape: [N * S * S, 2], scalars: values)
    }
}
