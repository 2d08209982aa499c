import TensorCore

// The wiring shared by ResidualBlock1D and ResidualBlock2D, for any spatial rank (the blocks
// choose the convolution, the normalisation and the activation):
//
//   h = conv1(x) → norm1 → activation → dropout → conv2 → norm2     ('same' padding)
//   s = projection(x) when C_in ≠ C_out (a 1×1 convolution, 'valid', no dilation), else x
//   y = activation(h + s)
//
// The sub-layers are created in the order conv1, norm1, dropout, conv2, norm2, projection,
// each in its own scope below the block's: the order and names of their parameters in the
// store and in checkpoints. Dropout has no parameters and no scope; it draws from the store's
// shared random stream.

/// A residual block's sub-layers, in creation order.
typealias ResidualLayers<Convolution, Normalization> = (
    conv1: Convolution, norm1: Normalization, dropout: Dropout, conv2: Convolution, norm2: Normalization,
    projection: Convolution?
)

/// Creates the sub-layers of a residual block from `inputChannels` to `outputChannels`.
///
/// - Parameters:
///   - kernelSize, dilation: those of conv1 and conv2; the projection has kernel size 1 and
///     dilation 1 (so does any convolution whose kernel size is 1).
///   - normalizationName: the normalisations are named this followed by "1" and "2".
///   - convolution: makes a convolution to `outputChannels` in `scope` from the given input
///     channels, with the given kernel size, padding and dilation.
///   - normalization: makes a normalisation of `outputChannels` in `scope`.
func makeResidualLayers<Kernel: ExpressibleByIntegerLiteral & Equatable, Convolution, Normalization>(
    inputChannels: Int, outputChannels: Int, kernelSize: Kernel, dilation: Kernel, dropoutRate: Float,
    normalizationName: String, scope: ParameterScope,
    convolution: (_ scope: ParameterScope, _ inputChannels: Int, _ kernelSize: Kernel, _ padding: ConvolutionPadding,
                  _ dilation: Kernel) -> Convolution,
    normalization: (_ scope: ParameterScope) -> Normalization
) -> ResidualLayers<Convolution, Normalization> {
    func convolutionLayer(_ name: String, from input: Int, kernelSize: Kernel, padding: ConvolutionPadding)
        -> Convolution {
        convolution(scope.scope(name), input, kernelSize, padding, kernelSize == 1 ? 1 : dilation)
    }
    let conv1 = convolutionLayer("conv1", from: inputChannels, kernelSize: kernelSize, padding: .same)
    let norm1 = normalization(scope.scope(normalizationName + "1"))
    let dropout = Dropout(rate: dropoutRate, scope: scope)
    let conv2 = convolutionLayer("conv2", from: outputChannels, kernelSize: kernelSize, padding: .same)
    let norm2 = normalization(scope.scope(normalizationName + "2"))
    let projection = inputChannels == outputChannels
        ? nil : convolutionLayer("projection", from: inputChannels, kernelSize: 1, padding: .valid)
    return (conv1, norm1, dropout, conv2, norm2, projection)
}

/// y = activation(h + s) of the header, for input (N, C_in, spatial…).
func residualForward(_ input: Tensor, through layers: ResidualLayers<Layer, Layer>, training: Bool,
                     activation: (Tensor) -> Tensor) -> Tensor {
    var h = layers.conv1(input, training: training)  // (N, C_out, spatial…)
    h = activation(layers.norm1(h, training: training))
    h = layers.dropout(h, training: training)
    h = layers.norm2(layers.conv2(h, training: training), training: training)
    let shortcut = layers.projection?(input, training: training) ?? input  // (N, C_out, spatial…)
    return activation(h + shortcut)
}
