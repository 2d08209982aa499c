import NeuralNetwork
import TensorCore

// Semantic alignment of the inpainting U-Net: the global feature vector of an image and the
// residual blocks it modulates (the paper's "SA ResNet", AdaLN-style as in DiT).
//
// Shape letters: B batch, C channels, H × W spatial, F global feature length.
//
// Global features. Either precomputed per image (the paper's DINO features, (B, F)), or made
// by `GlobalImageEncoder` from the network's own input (masked RGB and mask):
//   4 × [Conv2D 3 × 3, stride 2, padding 1 → ReLU]   widths g, 2g, 4g, 4g (each halves H and W)
//   global average pool → Linear(4g → F)
// so it sees the whole image at any size.
//
// Block (C channels kept), given the vector s (B, F):
//   (scale, shift, gate) = Linear(SiLU(s))          three (B, C) vectors, broadcast over H × W
//   h = ReLU((1 + scale) ⊙ GroupNorm₁(x) + shift)   GroupNorm₁ without affine: the modulation is it
//   h = conv₂(ReLU(GroupNorm₂(conv₁(h))))          3 × 3 convolutions, zero 'same' padding
//   y = x + gate ⊙ h
// The modulation Linear starts at zero (DiT's adaLN-Zero): scale = shift = gate = 0, so every
// block begins as the identity and the gate opens as training proceeds.

/// x·σ(x), the activation before the modulation (a composition).
func siluActivation(_ x: Tensor) -> Tensor { x * x.sigmoid() }

/// A small convolutional encoder of the whole masked image to one vector: (B, C_in, H, W) → (B, F).
///
/// Parameters: `convs.0…3.weight/bias`, `projection.weight/bias`.
public struct GlobalImageEncoder: Layer {
    public let convs: [Conv2D]
    public let projection: Linear

    /// - Parameters:
    ///   - inputChannels: the U-Net's input channels (3, or 4 with the mask).
    ///   - width: g, the first convolution's width.
    ///   - features: F.
    public init(inputChannels: Int, width: Int, features: Int, scope: ParameterScope) {
        let widths = [width, 2 * width, 4 * width, 4 * width]
        let convScope = scope.scope("convs")
        convs = widths.indices.map { i in
            Conv2D(inputChannels: i == 0 ? inputChannels : widths[i - 1], outputChannels: widths[i], kernelSize: 3,
                   stride: 2, padding: 1, scope: convScope.scope(i))
        }
        projection = Linear(widths[widths.count - 1], features, scope: scope.scope("projection"))
    }

    public func callAsFunction(_ input: Tensor, training: Bool) -> Tensor {
        let pooled = convs.reduce(input) { x, conv in conv(x, training: training).relu() }.globalAveragePool()  // (B, 4g)
        return projection(pooled, training: training)  // (B, F)
    }
}

/// A residual block modulated by a global feature vector (AdaLN): (B, C, H, W), s (B, F) →
/// (B, C, H, W).
///
/// Parameters: `modulation.weight/bias` (F → 3C, zero-initialised), `conv1`, `norm2`
/// (`gamma`, `beta`), `conv2`. `norm1` has no parameters.
public struct SemanticResidualBlock {
    public let channels: Int
    public let norm1: GroupNorm
    public let conv1: Conv2D
    public let norm2: GroupNorm
    public let conv2: Conv2D
    public let modulation: Linear

    public init(channels: Int, groups: Int, features: Int, scope: ParameterScope) {
        self.channels = channels
        norm1 = GroupNorm(groupCount: groups, channelCount: channels, affine: false, scope: scope.scope("norm1"))
        conv1 = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: .same,
                       scope: scope.scope("conv1"))
        norm2 = GroupNorm(groupCount: groups, channelCount: channels, scope: scope.scope("norm2"))
        conv2 = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: .same,
                       scope: scope.scope("conv2"))
        modulation = Linear(features, 3 * channels, weightInitializer: .zeros, scope: scope.scope("modulation"))
    }

    /// - Parameters:
    ///   - input: x (B, C, H, W).
    ///   - semantics: SiLU(s), (B, F): the activated global features, shared by every block.
    public func callAsFunction(_ input: Tensor, semantics: Tensor, training: Bool) -> Tensor {
        let B = input.shape[0], C = channels
        precondition(input.rank == 4 && input.shape[1] == C && semantics.rank == 2 && semantics.shape[0] == B,
                     "SemanticResidualBlock: input \(input.shape) must be (B, \(C), H, W) and semantics \(semantics.shape) (B, F)")
        let parts = modulation(semantics, training: training).reshaped([B, 3 * C, 1, 1])
            .split(sizes: [C, C, C], alongAxis: 1)  // scale, shift, gate: (B, C, 1, 1) each
        var h = (norm1(input, training: training) * (parts[0] + 1) + parts[1]).relu()
        h = norm2(conv1(h, training: training), training: training).relu()
        h = conv2(h, training: training)
        return input + parts[2] * h
    }
}
