// Convolutions as im2col + SGEMM, with hand-written pullbacks. Layout: data NCHW (NCL for
// 1-D), weights (O, C/groups, KH, KW) for convolutions and (C, O/groups, KH, KW) for
// transposed convolutions, as in PyTorch. 1-D ops are the 2-D ops with H = KH = 1.
//
// Shape letters: N batch, C input channels, O output channels, G groups, P output positions.
// Per chunk of B samples, with the column matrix `cols` (C·KH·KW, B·P):
//   conv:        Y_g = W_g · cols_g                  dW_g += dY_g · cols_gᵀ,  dcols_g = W_gᵀ · dY_g → col2im
//   transposed:  cols_g = W_gᵀ · X_g → col2im       dX_g = W_g · im2col(dY)_g, dW_g += X_g · im2col(dY)_gᵀ

/// Hyperparameters of a 2-D convolution (1-D ones use `height` 1 for kernel-free axes).
public struct ConvolutionOptions {
    public var stride: (height: Int, width: Int)
    public var padding: (height: Int, width: Int)
    public var dilation: (height: Int, width: Int)
    public var groups: Int

    public init(stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// The options of a 1-D convolution, as a 2-D one over a height of 1.
    public static func oneDimensional(stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) -> ConvolutionOptions {
        ConvolutionOptions(stride: (1, stride), padding: (0, padding), dilation: (1, dilation), groups: groups)
    }

    func geometry(channels: Int, height: Int, width: Int, kernel: (Int, Int)) -> ConvolutionGeometry {
        ConvolutionGeometry(channels: channels, height: height, width: width,
                            kernelHeight: kernel.0, kernelWidth: kernel.1,
                            strideHeight: stride.height, strideWidth: stride.width,
                            paddingHeight: padding.height, paddingWidth: padding.width,
                            dilationHeight: dilation.height, dilationWidth: dilation.width)
    }
}

/// Per-channel sums of an (N, C, P) buffer: the gradient of a per-channel bias.
private func channelSums(_ values: [Float], batch: Int, channels: Int, positions: Int) -> [Float] {
    var sums = [Float](repeating: 0, count: channels)
    values.withUnsafeBufferPointer { v in
        for n in 0..<batch {
            for c in 0..<channels { sums[c] += contiguousSum(v.baseAddress! + (n * channels + c) * positions, positions) }
        }
    }
    return sums
}

/// Adds `bias[c]` to every position of channel c of an (N, C, P) buffer.
private func addChannelBias(_ bias: [Float], to values: inout [Float], batch: Int, channels: Int, positions: Int) {
    values.withUnsafeMutableBufferPointer { v in
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * positions, b = bias[c]
                for p in 0..<positions { v[base + p] += b }
            }
        }
    }
}

/// Calls `body(first, count)` for consecutive chunks of the batch.
private func forEachChunk(batch: Int, chunk: Int, _ body: (Int, Int) -> Void) {
    var first = 0
    while first < batch {
        let count = Swift.min(chunk, batch - first)
        body(first, count)
        first += count
    }
}

extension Tensor {
    /// 2-D cross-correlation (PyTorch's conv2d): self (N, C, H, W), weight (O, C/G, KH, KW),
    /// bias (O) → (N, O, OH, OW).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, options: ConvolutionOptions = ConvolutionOptions()) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d: input \(shape) and weight \(weight.shape) must be rank 4")
        let (N, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
        let (O, Cg, KH, KW) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let G = options.groups
        precondition(G >= 1 && C == Cg * G && O % G == 0,
                     "conv2d: input \(shape), weight \(weight.shape) and groups \(G) disagree")
        precondition(bias == nil || bias!.shape == [O], "conv2d: bias \(bias!.shape) must be [\(O)]")
        let geometry = options.geometry(channels: C, height: H, width: W, kernel: (KH, KW))
        geometry.validate("conv2d")
        let P = geometry.outputPositions, Og = O / G, rowsG = Cg * KH * KW
        let chunk = samplesPerChunk(columnRows: geometry.columnRows, positions: P, batch: N)
        let outputShape = [N, O, geometry.outputHeight, geometry.outputWidth]

        /// The column matrix of samples first..<first+count.
        func columns(first: Int, count: Int) -> [Float] {
            let leading = count * P
            return [Float](unsafeUninitializedCapacity: geometry.columnRows * leading) { cols, initialized in
                scalars.withUnsafeBufferPointer { x in
                    geometry.im2col(x.baseAddress! + first * geometry.imageSize, count: count, into: cols.baseAddress!)
                }
                initialized = geometry.columnRows * leading
            }
        }

        var output = uninitializedScalars(N * O * P)  // every element written by the scatter
        var savedColumns: [Float]? = nil  // kept for the pullback when the whole batch is one chunk
        forEachChunk(batch: N, chunk: chunk) { first, count in
            let leading = count * P
            let cols = columns(first: first, count: count)
            if count == N { savedColumns = cols }
            var product = uninitializedScalars(O * leading)  // (O, B·P), written by the GEMMs
            cols.withUnsafeBufferPointer { c in
                weight.scalars.withUnsafeBufferPointer { w in
                    product.withUnsafeMutableBufferPointer { y in
                        for g in 0..<G {
                            sgemm(transposeA: false, transposeB: false, m: Og, n: leading, k: rowsG,
                                  w.baseAddress! + g * Og * rowsG, c.baseAddress! + g * rowsG * leading,
                                  y.baseAddress! + g * Og * leading)
                        }
                    }
                }
            }
            product.withUnsafeBufferPointer { y in
                output.withUnsafeMutableBufferPointer { out in
                    (bias?.scalars ?? []).withUnsafeBufferPointer { b in
                        scatterChannelMajor(y.baseAddress!, first: first, count: count, channels: O, positions: P,
                                            into: out.baseAddress!, addingBias: bias == nil ? nil : b.baseAddress)
                    }
                }
            }
        }

        let input = self
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        return Tensor.record("conv2d", shape: outputShape, scalars: output, inputs: inputs) { gradient in
            var dx = [Float](repeating: 0, count: input.count)
            var dw = [Float](repeating: 0, count: weight.count)
            forEachChunk(batch: N, chunk: chunk) { first, count in
                let leading = count * P
                let cols = savedColumns ?? columns(first: first, count: count)
                var dy = uninitializedScalars(O * leading)  // (O, B·P)
                gradient.scalars.withUnsafeBufferPointer { g in
                    dy.withUnsafeMutableBufferPointer { d in
                        gatherChannelMajor(g.baseAddress!, first: first, count: count, channels: O, positions: P, into: d.baseAddress!)
                    }
                }
                var dcols = uninitializedScalars(input.requiresGrad ? geometry.columnRows * leading : 0)
                dy.withUnsafeBufferPointer { d in
                    cols.withUnsafeBufferPointer { c in
                        weight.scalars.withUnsafeBufferPointer { w in
                            dw.withUnsafeMutableBufferPointer { dW in
                                dcols.withUnsafeMutableBufferPointer { dC in
                                    for g in 0..<G {
                                        let dyG = d.baseAddress! + g * Og * leading
                                        if weight.requiresGrad {
                                            sgemm(transposeA: false, transposeB: true, m: Og, n: rowsG, k: leading,
                                                  dyG, c.baseAddress! + g * rowsG * leading, beta: 1,
                                                  dW.baseAddress! + g * Og * rowsG)
                                        }
                                        if input.requiresGrad {
                                            sgemm(transposeA: true, transposeB: false, m: rowsG, n: leading, k: Og,
                                                  w.baseAddress! + g * Og * rowsG, dyG, dC.baseAddress! + g * rowsG * leading)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if input.requiresGrad {
                    dcols.withUnsafeBufferPointer { dC in
                        dx.withUnsafeMutableBufferPointer { dX in
                            geometry.col2im(dC.baseAddress!, count: count, addingInto: dX.baseAddress! + first * geometry.imageSize)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [
                input.requiresGrad ? Tensor(shape: input.shape, scalars: dx) : nil,
                weight.requiresGrad ? Tensor(shape: weight.shape, scalars: dw) : nil,
            ]
            if bias != nil {
                grads.append(Tensor(shape: [O], scalars: channelSums(gradient.scalars, batch: N, channels: O, positions: P)))
            }
            return grads
        }
    }

    /// Transposed 2-D convolution (PyTorch's conv_transpose2d): self (N, C, H, W),
    /// weight (C, O/G, KH, KW), bias (O) → (N, O, OH, OW) with
    /// OH = (H − 1)·stride − 2·pad + dilation·(KH − 1) + outputPadding + 1.
    public func transposedConv2d(weight: Tensor, bias: Tensor? = nil, options: ConvolutionOptions = ConvolutionOptions(),
                                 outputPadding: (Int, Int) = (0, 0)) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "transposedConv2d: input \(shape) and weight \(weight.shape) must be rank 4")
        let (N, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
        let (Og, KH, KW) = (weight.shape[1], weight.shape[2], weight.shape[3])
        let G = options.groups
        precondition(G >= 1 && weight.shape[0] == C && C % G == 0,
                     "transposedConv2d: input \(shape), weight \(weight.shape) and groups \(G) disagree")
        let O = Og * G, Cg = C / G, rowsG = Og * KH * KW
        precondition(bias == nil || bias!.shape == [O], "transposedConv2d: bias \(bias!.shape) must be [\(O)]")
        precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0
                     && (outputPadding.0 < options.stride.height || outputPadding.0 < options.dilation.height)
                     && (outputPadding.1 < options.stride.width || outputPadding.1 < options.dilation.width),
                     "transposedConv2d: output padding \(outputPadding) must be smaller than stride or dilation")
        let OH = (H - 1) * options.stride.height - 2 * options.padding.height
            + options.dilation.height * (KH - 1) + outputPadding.0 + 1
        let OW = (W - 1) * options.stride.width - 2 * options.padding.width
            + options.dilation.width * (KW - 1) + outputPadding.1 + 1
        precondition(OH >= 1 && OW >= 1, "transposedConv2d: output extent \(OH)×\(OW) is empty")
        // The convolution this op is the adjoint of maps (O, OH, OW) to (C, H, W).
        let geometry = options.geometry(channels: O, height: OH, width: OW, kernel: (KH, KW))
        precondition(geometry.outputHeight == H && geometry.outputWidth == W, "transposedConv2d: inconsistent geometry")
        let P = H * W
        let chunk = samplesPerChunk(columnRows: geometry.columnRows, positions: P, batch: N)

        /// Samples first..<first+count of an (N, channels, P) buffer as a (channels, B·P) matrix.
        func channelMajor(_ values: [Float], channels: Int, first: Int, count: Int) -> [Float] {
            [Float](unsafeUninitializedCapacity: channels * count * P) { out, initialized in
                values.withUnsafeBufferPointer { v in
                    gatherChannelMajor(v.baseAddress!, first: first, count: count, channels: channels, positions: P, into: out.baseAddress!)
                }
                initialized = channels * count * P
            }
        }

        var output = [Float](repeating: 0, count: N * geometry.imageSize)
        forEachChunk(batch: N, chunk: chunk) { first, count in
            let leading = count * P
            let x = channelMajor(scalars, channels: C, first: first, count: count)
            var cols = uninitializedScalars(geometry.columnRows * leading)
            x.withUnsafeBufferPointer { xp in
                weight.scalars.withUnsafeBufferPointer { w in
                    cols.withUnsafeMutableBufferPointer { c in
                        for g in 0..<G {
                            sgemm(transposeA: true, transposeB: false, m: rowsG, n: leading, k: Cg,
                                  w.baseAddress! + g * Cg * rowsG, xp.baseAddress! + g * Cg * leading,
                                  c.baseAddress! + g * rowsG * leading)
                        }
                    }
                }
            }
            cols.withUnsafeBufferPointer { c in
                output.withUnsafeMutableBufferPointer { out in
                    geometry.col2im(c.baseAddress!, count: count, addingInto: out.baseAddress! + first * geometry.imageSize)
                }
            }
        }
        if let bias { addChannelBias(bias.scalars, to: &output, batch: N, channels: O, positions: OH * OW) }

        let input = self
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        return Tensor.record("transposedConv2d", shape: [N, O, OH, OW], scalars: output, inputs: inputs) { gradient in
            var dx = [Float](repeating: 0, count: input.count)
            var dw = [Float](repeating: 0, count: weight.count)
            forEachChunk(batch: N, chunk: chunk) { first, count in
                let leading = count * P
                // im2col of the output gradient: (O·KH·KW, B·P)
                let cols = [Float](unsafeUninitializedCapacity: geometry.columnRows * leading) { c, initialized in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        geometry.im2col(g.baseAddress! + first * geometry.imageSize, count: count, into: c.baseAddress!)
                    }
                    initialized = geometry.columnRows * leading
                }
                let x = weight.requiresGrad ? channelMajor(input.scalars, channels: C, first: first, count: count) : []
                var dxChunk = [Float](repeating: 0, count: input.requiresGrad ? C * leading : 0)
                cols.withUnsafeBufferPointer { c in
                    weight.scalars.withUnsafeBufferPointer { w in
                        x.withUnsafeBufferPointer { xp in
                            dw.withUnsafeMutableBufferPointer { dW in
                                dxChunk.withUnsafeMutableBufferPointer { dX in
                                    for g in 0..<G {
                                        let colsG = c.baseAddress! + g * rowsG * leading
                                        if input.requiresGrad {
                                            sgemm(transposeA: false, transposeB: false, m: Cg, n: leading, k: rowsG,
                                                  w.baseAddress! + g * Cg * rowsG, colsG, dX.baseAddress! + g * Cg * leading)
                                        }
                                        if weight.requiresGrad {
                                            sgemm(transposeA: false, transposeB: true, m: Cg, n: rowsG, k: leading,
                                                  xp.baseAddress! + g * Cg * leading, colsG, beta: 1,
                                                  dW.baseAddress! + g * Cg * rowsG)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if input.requiresGrad {
                    dxChunk.withUnsafeBufferPointer { d in
                        dx.withUnsafeMutableBufferPointer { out in
                            scatterChannelMajor(d.baseAddress!, first: first, count: count, channels: C, positions: P, into: out.baseAddress!)
                        }
                    }
                }
            }
            var grads: [Tensor?] = [
                input.requiresGrad ? Tensor(shape: input.shape, scalars: dx) : nil,
                weight.requiresGrad ? Tensor(shape: weight.shape, scalars: dw) : nil,
            ]
            if bias != nil {
                grads.append(Tensor(shape: [O], scalars: channelSums(gradient.scalars, batch: N, channels: O, positions: OH * OW)))
            }
            return grads
        }
    }

    /// 1-D cross-correlation: self (N, C, L), weight (O, C/G, K), bias (O) → (N, O, L_out).
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        precondition(rank == 3 && weight.rank == 3, "conv1d: input \(shape) and weight \(weight.shape) must be rank 3")
        let options = ConvolutionOptions.oneDimensional(stride: stride, padding: padding, dilation: dilation, groups: groups)
        let output = unsqueezed(2).conv2d(weight: weight.unsqueezed(2), bias: bias, options: options)
        return output.squeezed(2)
    }

    /// Transposed 1-D convolution: self (N, C, L), weight (C, O/G, K), bias (O) → (N, O, L_out).
    public func transposedConv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                 outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
        precondition(rank == 3 && weight.rank == 3, "transposedConv1d: input \(shape) and weight \(weight.shape) must be rank 3")
        let options = ConvolutionOptions.oneDimensional(stride: stride, padding: padding, dilation: dilation, groups: groups)
        let output = unsqueezed(2).transposedConv2d(weight: weight.unsqueezed(2), bias: bias, options: options,
                                                    outputPadding: (0, outputPadding))
        return output.squeezed(2)
    }
}
