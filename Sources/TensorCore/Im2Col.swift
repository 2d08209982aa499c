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

    /// Writes the columns of one image (C, H, W) into `columns` starting at column `firstColumn`
    /// of a matrix whose rows are `leadingDimension` long. Parallel over rows (disjoint writes).
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>,
                firstColumn: Int, leadingDimension: Int) {
        let OH = outputHeight, OW = outputWidth
        parallelChunks(columnRows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(OH * OW, 1))) { rows in
            for row in rows {
                let c = row / kernelArea, i = (row / kernelWidth) % kernelHeight, j = row % kernelWidth
                let destinationRow = columns + row * leadingDimension + firstColumn
                let channel = image + c * height * width
                for oh in 0..<OH {
                    let ih = oh * strideHeight - paddingHeight + i * dilationHeight
                    let destination = destinationRow + oh * OW
                    if ih < 0 || ih >= height {
                        for ow in 0..<OW { destination[ow] = 0 }
                        continue
                    }
                    let source = channel + ih * width
                    let offset = j * dilationWidth - paddingWidth
                    for ow in 0..<OW {
                        let iw = ow * strideWidth + offset
                        destination[ow] = (iw >= 0 && iw < width) ? source[iw] : 0
                    }
                }
            }
        }
    }

    /// Adds the columns (starting at `firstColumn`) back into one image (C, H, W): the adjoint
    /// of `im2col`. Parallel over channels, since each channel's rows write only to it.
    func col2im(_ columns: UnsafePointer<Float>, firstColumn: Int, leadingDimension: Int,
                addingInto image: UnsafeMutablePointer<Float>) {
        let OH = outputHeight, OW = outputWidth
        parallelChunks(channels, minimumPerThread: Swift.max(1, 16_384 / Swift.max(kernelArea * OH * OW, 1))) { channelRange in
            for c in channelRange {
                let channel = image + c * height * width
                for i in 0..<kernelHeight {
                    for j in 0..<kernelWidth {
                        let row = (c * kernelHeight + i) * kernelWidth + j
                        let sourceRow = columns + row * leadingDimension + firstColumn
                        let offset = j * dilationWidth - paddingWidth
                        for oh in 0..<OH {
                            let ih = oh * strideHeight - paddingHeight + i * dilationHeight
                            if ih < 0 || ih >= height { continue }
                            let destination = channel + ih * width
                            let source = sourceRow + oh * OW
                            for ow in 0..<OW {
                                let iw = ow * strideWidth + offset
                                if iw >= 0 && iw < width { destination[iw] += source[ow] }
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

/// The inverse of `gatherChannelMajor`: a (C, count·P) matrix back into samples of (N, C, P).
func scatterChannelMajor(_ source: UnsafePointer<Float>, first: Int, count: Int, channels: Int, positions: Int,
                         into destination: UnsafeMutablePointer<Float>) {
    let leading = count * positions
    for b in 0..<count {
        for c in 0..<channels {
            (destination + ((first + b) * channels + c) * positions)
                .update(from: source + c * leading + b * positions, count: positions)
        }
    }
}

/// How many samples go into one im2col matrix, so that it stays within a memory budget
/// (≈ 64 MiB) yet is wide enough for an efficient GEMM. At least one sample.
func samplesPerChunk(columnRows: Int, positions: Int, batch: Int) -> Int {
    let budget = 16 * 1024 * 1024  // floats
    return Swift.max(1, Swift.min(batch, budget / Swift.max(columnRows * positions, 1)))
}
