// im2col / col2im: the data movement that turns a convolution into one matrix product.
//
// Shape letters: C channels, H × W input extent, KH × KW kernel, OH × OW output extent.
// A column matrix has C·KH·KW rows (row = (c·KH + i)·KW + j) and one column per output
// position, (oh·OW + ow); several samples sit side by side, so the matrix of a chunk of B
// samples is (C·KH·KW, B·OH·OW) with leading dimension B·OH·OW.

/// The geometry of a 2-D convolution over one sample (1-D convolutions use H = 1, KH = 1).
struct ConvolutionGeometry: Equatable {
    let channels: Int
    let height: Int, width: Int
    let kernelHeight: Int, kernelWidth: Int
    let strideHeight: Int, strideWidth: Int
    let paddingHeight: Int, paddingWidth: Int
    let dilationHeight: Int, dilationWidth: Int

    /// OH = ⌊(H + 2·pad − dilation·(KH − 1) − 1) / stride⌋ + 1
    var outputHeight: Int { (height + 2 * paddingHeight - dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1 }
    var outputWidth: Int { (width + 2 * paddingWidth - dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1 }
    var outputPositions: Int { outputHeight * outputWidth }
    var kernelArea: Int { kernelHeight * kernelWidth }
    var columnRows: Int { channels * kernelArea }
    var imageSize: Int { channels * height * width }

    func validate(_ context: String) {
        precondition(strideHeight >= 1 && strideWidth >= 1 && dilationHeight >= 1 && dilationWidth >= 1
                     && paddingHeight >= 0 && paddingWidth >= 0,
                     "\(context): stride and dilation must be ≥ 1 and padding ≥ 0")
        precondition(outputHeight >= 1 && outputWidth >= 1,
                     "\(context): kernel \(kernelHeight)×\(kernelWidth) (dilation \(dilationHeight)×\(dilationWidth)) does not fit input \(height)×\(width) with padding \(paddingHeight)×\(paddingWidth)")
    }

    /// Writes the columns of `count` consecutive images (count, C, H, W) side by side into the
    /// (C·KH·KW, count·OH·OW) matrix `columns`. Parallel over (image, row) pairs: disjoint writes.
    func im2col(_ images: UnsafePointer<Float>, count: Int, into columns: UnsafeMutablePointer<Float>) {
        let OH = outputHeight, OW = outputWidth, leadingDimension = count * OH * OW
        parallelChunks(count * columnRows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(OH * OW, 1))) { items in
            for item in items {
                let b = item / columnRows, row = item % columnRows
                let c = row / kernelArea, i = (row / kernelWidth) % kernelHeight, j = row % kernelWidth
                let destinationRow = columns + row * leadingDimension + b * OH * OW
                let channel = images + b * imageSize + c * height * width
                for oh in 0..<OH {
                    let ih = oh * strideHeight - paddingHeight + i * dilationHeight
                    let destination = destinationRow + oh * OW
                    if ih < 0 || ih >= height {
                        for ow in 0..<OW { destination[ow] = 0 }
                        continue
                    }
                    let source = channel + ih * width
                    let offset = j * dilationWidth - paddingWidth
                    let (first, end) = validOutputRange(offset: offset)
                    for ow in 0..<first { destination[ow] = 0 }
                    if strideWidth == 1 {
                        (destination + first).update(from: source + first + offset, count: end - first)
                    } else {
                        for ow in first..<end { destination[ow] = source[ow * strideWidth + offset] }
                    }
                    for ow in end..<OW { destination[ow] = 0 }
                }
            }
        }
    }

    /// The output columns `first..<end` whose input column ow·stride + offset lies inside 0..<W.
    @inline(__always)
    private func validOutputRange(offset: Int) -> (Int, Int) {
        // ow·s + offset ≥ 0  ⇔  ow ≥ ⌈−offset / s⌉;   ow·s + offset < W  ⇔  ow < ⌈(W − offset) / s⌉
        let first = offset >= 0 ? 0 : (-offset + strideWidth - 1) / strideWidth
        let end = width - offset <= 0 ? 0 : (width - offset + strideWidth - 1) / strideWidth
        let clampedEnd = Swift.min(end, outputWidth)
        return (Swift.min(first, clampedEnd), clampedEnd)
    }

    /// Adds the (C·KH·KW, count·OH·OW) matrix `columns` back into `count` consecutive images
    /// (count, C, H, W): the adjoint of `im2col`. Parallel over (image, channel) pairs, since
    /// each pair's rows write only to that channel.
    func col2im(_ columns: UnsafePointer<Float>, count: Int, addingInto images: UnsafeMutablePointer<Float>) {
        let OH = outputHeight, OW = outputWidth, leadingDimension = count * OH * OW
        parallelChunks(count * channels, minimumPerThread: Swift.max(1, 16_384 / Swift.max(kernelArea * OH * OW, 1))) { items in
            for item in items {
                let b = item / channels, c = item % channels
                let firstColumn = b * OH * OW
                let channel = images + b * imageSize + c * height * width
                for i in 0..<kernelHeight {
                    for j in 0..<kernelWidth {
                        let row = (c * kernelHeight + i) * kernelWidth + j
                        let sourceRow = columns + row * leadingDimension + firstColumn
                        let offset = j * dilationWidth - paddingWidth
                        for oh in 0..<OH {
                            let ih = oh * strideHeight - paddingHeight + i * dilationHeight
                            if ih < 0 || ih >= height { continue }
                            let destination = channel + ih * width + offset
                            let source = sourceRow + oh * OW
                            let (first, end) = validOutputRange(offset: offset)
                            if strideWidth == 1 {
                                for ow in first..<end { destination[ow] += source[ow] }
                            } else {
                                for ow in first..<end { destination[ow * strideWidth] += source[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Copies samples `first..<first+count` of a (N, C, P) buffer into a (C, count·P) matrix:
/// channel-major, samples side by side, as the GEMM of a convolution chunk wants them.
func gatherChannelMajor(_ source: UnsafePointer<Float>, first: Int, count: Int, channels: Int, positions: Int,
                        into destination: UnsafeMutablePointer<Float>) {
    let leading = count * positions
    for b in 0..<count {
        for c in 0..<channels {
            (destination + c * leading + b * positions)
                .update(from: source + ((first + b) * channels + c) * positions, count: positions)
        }
    }
}

/// The inverse of `gatherChannelMajor`: a (C, count·P) matrix back into samples of (N, C, P),
/// adding `bias[c]` to channel c when a bias is given.
func scatterChannelMajor(_ source: UnsafePointer<Float>, first: Int, count: Int, channels: Int, positions: Int,
                         into destination: UnsafeMutablePointer<Float>, addingBias bias: UnsafePointer<Float>? = nil) {
    let leading = count * positions
    for b in 0..<count {
        for c in 0..<channels {
            let to = destination + ((first + b) * channels + c) * positions
            let from = source + c * leading + b * positions
            if let bias {
                let shift = bias[c]
                for p in 0..<positions { to[p] = from[p] + shift }
            } else {
                to.update(from: from, count: positions)
            }
        }
    }
}

/// How many samples go into one im2col matrix, so that it stays within a memory budget
/// (≈ 64 MiB) yet is wide enough for an efficient GEMM. At least one sample.
func samplesPerChunk(columnRows: Int, positions: Int, batch: Int) -> Int {
    let budget = 16 * 1024 * 1024  // floats
    return Swift.max(1, Swift.min(batch, budget / Swift.max(columnRows * positions, 1)))
}
