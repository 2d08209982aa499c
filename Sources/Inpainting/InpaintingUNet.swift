import NeuralNetwork
import TensorCore

// The inpainting U-Net: masked image (+ mask) → D-channel feature map at full resolution, with
// semantic alignment at the bottleneck (InpaintingSemantics.swift).
//
// Shape letters: B batch, c base channels, D output channels, H × W input (multiples of 8).
//
//   stem      ReflectionPad 3 → Conv 7 × 7 (C_in → c) → GroupNorm → ReLU      (B, c, H, W)
//   down i    Conv 3 × 3 stride 2 padding 1 → GroupNorm → ReLU, i = 0, 1, 2:
//             c → 2c (H/2), 2c → 4c (H/4), 4c → 8c (H/8)
//   blocks    `residualBlocks` × SemanticResidualBlock(8c), modulated by the global features
//   up 0      ConvTranspose 4 × 4 stride 2 padding 1 (8c → 4c) → GroupNorm → ReLU   (H/4)
//             ⊕ down 1's output (4c)                                            (B, 8c, H/4, W/4)
//   up 1      (8c → 2c), ⊕ down 0's output (2c)                                 (B, 4c, H/2, W/2)
//   up 2      (4c → c), ⊕ the stem's output (c)                                 (B, 2c, H, W)
//   output    ReflectionPad 3 → Conv 7 × 7 (2c → D) → tanh                      (B, D, H, W)
// (⊕ is concatenation along channels; a transposed 4 × 4 convolution with stride 2 and padding
// 1 exactly doubles H and W.) Every GroupNorm has `groups` groups, which must divide c. The two
// full-resolution 7 × 7 convolutions run over bands of rows (`convolvedInBands`) to keep their
// im2col buffers small; the reflection padding is built by concatenation (`edgeReflected`).
//
// Parameter names, under the model's "unet" scope: stem.conv, stem.norm, down.{0,1,2}.conv/norm,
// blocks.{i}.…, up.{0,1,2}.conv/norm, output.conv.

/// Conv (or transposed conv) → GroupNorm → ReLU, named `conv` and `norm` in its scope.
public struct InpaintingConvUnit {
    public let conv: Layer
    public let norm: GroupNorm

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        norm(conv(input, training: training), training: training).relu()
    }
}

/// (B, C_in, H, W) with H and W multiples of 8, and SiLU-activated global features (B, F) →
/// (B, D, H, W) in (−1, 1).
public struct InpaintingUNet {
    public let inputChannels: Int
    public let baseChannels: Int
    public let outputChannels: Int
    /// The stem's 7 × 7 convolution ("stem.conv") and GroupNorm ("stem.norm").
    public let stemConv: Conv2D
    public let stemNorm: GroupNorm
    public let down: [InpaintingConvUnit]
    public let blocks: [SemanticResidualBlock]
    public let up: [InpaintingConvUnit]
    public let output: Conv2D

    /// The factor by which H and W must be divisible: three stride-2 downsamplings.
    public static let stride = 8

    public init(inputChannels: Int, baseChannels c: Int, outputChannels: Int, residualBlocks: Int, groups: Int,
                semanticFeatures: Int, scope: ParameterScope) {
        precondition(inputChannels >= 1 && c >= 1 && outputChannels >= 1 && residualBlocks >= 0,
                     "InpaintingUNet: channels \(inputChannels) → \(c) → \(outputChannels), \(residualBlocks) blocks")
        precondition(groups >= 1 && c % groups == 0, "InpaintingUNet: \(groups) groups must divide \(c) base channels")
        self.inputChannels = inputChannels
        self.baseChannels = c
        self.outputChannels = outputChannels

        func unit(_ scope: ParameterScope, _ channels: Int, conv: (ParameterScope) -> Layer) -> InpaintingConvUnit {
            InpaintingConvUnit(conv: conv(scope.scope("conv")),
                               norm: GroupNorm(groupCount: groups, channelCount: channels, scope: scope.scope("norm")))
        }
        stemConv = Conv2D(inputChannels: inputChannels, outputChannels: c, kernelSize: 7, scope: scope.scope("stem").scope("conv"))
        stemNorm = GroupNorm(groupCount: groups, channelCount: c, scope: scope.scope("stem").scope("norm"))
        let downScope = scope.scope("down")
        down = (0..<3).map { i in
            let (from, to) = (c << i, c << (i + 1))
            return unit(downScope.scope(i), to) {
                Conv2D(inputChannels: from, outputChannels: to, kernelSize: 3, stride: 2, padding: 1, scope: $0)
            }
        }
        let blockScope = scope.scope("blocks")
        blocks = (0..<residualBlocks).map { i in
            SemanticResidualBlock(channels: 8 * c, groups: groups, features: semanticFeatures, scope: blockScope.scope(i))
        }
        // up i: (8c, 8c, 4c) in → (4c, 2c, c) out; each output is concatenated with a skip of equal width.
        let upScope = scope.scope("up")
        let upInputs = [8 * c, 8 * c, 4 * c], upOutputs = [4 * c, 2 * c, c]
        up = (0..<3).map { i in
            let (from, to) = (upInputs[i], upOutputs[i])
            return unit(upScope.scope(i), to) {
                ConvTranspose2D(inputChannels: from, outputChannels: to, kernelSize: 4, stride: 2, padding: 1, scope: $0)
            }
        }
        output = Conv2D(inputChannels: 2 * c, outputChannels: outputChannels, kernelSize: 7,
                        scope: scope.scope("output").scope("conv"))
    }

    /// - Parameters:
    ///   - input: (B, C_in, H, W), H and W multiples of 8 (and at least 4, for the reflection pad).
    ///   - semantics: SiLU(global features), (B, F).
    public func callAsFunction(_ input: Tensor, semantics: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels
                     && input.shape[2] % InpaintingUNet.stride == 0 && input.shape[3] % InpaintingUNet.stride == 0,
                     "InpaintingUNet: input \(input.shape) must be (B, \(inputChannels), H, W) with H, W multiples of 8")
        let stemOut = stemNorm(convolvedInBands(stemConv, edgeReflected(input, by: 3), training: training),
                               training: training).relu()  // (B, c, H, W)
        var skips = [stemOut]
        var x = stemOut
        for unit in down {
            x = unit(x, training: training)
            skips.append(x)
        }
        // skips: stem (c, H), down 0 (2c, H/2), down 1 (4c, H/4), down 2 (8c, H/8) = x
        for block in blocks { x = block(x, semantics: semantics, training: training) }  // (B, 8c, H/8, W/8)
        for (i, unit) in up.enumerated() {
            x = Tensor.concatenated([unit(x, training: training), skips[2 - i]], alongAxis: 1)
        }
        // (B, 2c, H, W)
        return convolvedInBands(output, edgeReflected(x, by: 3), training: training).tanh()
    }
}

/// Reflection padding of H and W by `amount` on every side (PyTorch's "reflect"; amount < H, W),
/// as concatenations with the few reflected rows and columns, so the body is copied in runs
/// rather than gathered element by element.
func edgeReflected(_ x: Tensor, by amount: Int) -> Tensor {
    precondition(x.rank == 4 && amount < x.shape[2] && amount < x.shape[3],
                 "edgeReflected: padding \(amount) needs an input (B, C, H, W) larger than it, got \(x.shape)")
    guard amount > 0 else { return x }
    var result = x
    for axis in [2, 3] {
        let n = result.shape[axis]
        result = Tensor.concatenated([result.gathered(Array((1...amount).reversed()), alongAxis: axis), result,
                                      result.gathered((1...amount).map { n - 1 - $0 }, alongAxis: axis)], alongAxis: axis)
    }
    return result
}

/// A stride-1 convolution without padding, applied to bands of output rows so that each call's
/// im2col matrix (C_in·kh·kw × B·rows·W_out) stays near 2²³ floats (32 MB): at full resolution the output
/// layer's 7 × 7 × 32 columns would otherwise take 411 MB for one 256 × 256 image. A band of
/// output rows [r0, r1) reads input rows [r0, r1 + kh − 1); slices and concatenation are
/// differentiable, so the gradient is the whole convolution's.
func convolvedInBands(_ conv: Conv2D, _ input: Tensor, training: Bool) -> Tensor {
    precondition(conv.stride == 1 && conv.dilation == 1 && conv.paddingAmount == 0 && conv.groups == 1,
                 "convolvedInBands: needs a stride-1, undilated, unpadded, ungrouped convolution")
    let (B, kh, kw) = (input.shape[0], conv.kernelSize.height, conv.kernelSize.width)
    let (outputHeight, outputWidth) = (input.shape[2] - kh + 1, input.shape[3] - kw + 1)
    let rowFloats = B * conv.inputChannels * kh * kw * outputWidth
    let rows = Swift.max(1, (1 << 23) / Swift.max(rowFloats, 1))
    guard rows < outputHeight else { return conv(input, training: training) }
    let bands = stride(from: 0, to: outputHeight, by: rows).map { top in
        conv(input.sliced(top..<(Swift.min(outputHeight, top + rows) + kh - 1), alongAxis: 2), training: training)
    }
    return Tensor.concatenated(bands, alongAxis: 2)
}
