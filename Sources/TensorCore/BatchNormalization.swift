// Batch normalisation in training mode as one primitive: statistics, normalisation and the
// per-channel affine in one forward pass per channel, and a hand-written backward, instead of
// a dozen broadcasting ops and reductions (a fifth of a Conv1D VAE training step).
//
// Shape letters: N batch, C channels, S the product of the spatial extents (1 for (N, C),
// L for (N, C, L), H·W for (N, C, H, W)); n = N·S values per channel. The input is read as
// (N, C, S): channel c is N contiguous planes of S floats, at offsets (b·C + c)·S.
//
//   forward   μ_c = Σ x / n,  σ²_c = Σ (x − μ_c)² / n     (biased, as PyTorch and Keras
//             normalise; two passes, per-plane SIMD sums added in Double)
//             x̂ = (x − μ_c) / √(σ²_c + ε),  y = γ_c·x̂ + β_c
//   backward  dβ_c = Σ dy,  dγ_c = Σ dy·x̂
//             dx = (γ_c / √(σ²_c + ε)) · (dy − dβ_c / n − x̂ · dγ_c / n)
//             (the gradient through μ and σ² folded in: the standard closed form)
//
// Channels are independent, so both passes run in parallel over channels; each channel's
// sums have a fixed order, so results do not depend on the thread count. The pullback keeps
// x, μ and 1/σ (not x̂) and recomputes x̂ on the fly.

/// The per-channel layout of an (N, C, …) tensor read as (N, C, S).
private struct ChannelPlanes {
    let batch: Int, channels: Int, planeSize: Int

    init(_ shape: [Int]) {
        batch = shape[0]
        channels = shape[1]
        planeSize = shape[2...].reduce(1, *)
    }

    /// n: the values per channel.
    var valuesPerChannel: Int { batch * planeSize }

    /// The offset of sample `b`'s plane of channel `c`.
    @inline(__always) func offset(sample b: Int, channel c: Int) -> Int { (b * channels + c) * planeSize }

    /// Σ over channel c's planes of `planeSums(offset)` (each two Float sums over one plane),
    /// in Double.
    @inline(__always)
    func channelSums(_ c: Int, _ planeSums: (Int) -> SIMD2<Float>) -> SIMD2<Double> {
        var total = SIMD2<Double>()
        for b in 0..<batch {
            let sums = planeSums(offset(sample: b, channel: c))
            total += SIMD2(Double(sums[0]), Double(sums[1]))
        }
        return total
    }

    /// Runs `body(c)` for every channel, in parallel chunks of channels.
    @inline(__always)
    func forEachChannel(_ body: (Int) -> Void) {
        parallelChunks(channels, minimumPerThread: Swift.max(1, 32_768 / Swift.max(valuesPerChannel, 1))) { range in
            for c in range { body(c) }
        }
    }
}

/// (Σ (a[i] − p), Σ (a[i] − p)·(b[i] − q)) over `count` contiguous floats, in SIMD blocks of
/// 16 (a fixed order): with a = b = x and p = q = μ the second is Σ (x − μ)²; with a = dy,
/// p = 0, b = x, q = μ they are Σ dy and Σ dy·(x − μ), in one pass.
@inline(__always)
private func contiguousCenteredSums(
    _ a: UnsafePointer<Float>, minus p: Float, _ b: UnsafePointer<Float>, minus q: Float, _ count: Int
) -> SIMD2<Float> {
    typealias Block = SIMD16<Float>
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b), stride = MemoryLayout<Float>.stride
    let shiftA = Block(repeating: p), shiftB = Block(repeating: q)
    var sumBlocks = Block(), dotBlocks = Block()
    var i = 0
    while i + 16 <= count {
        let da = rawA.loadUnaligned(fromByteOffset: i * stride, as: Block.self) - shiftA
        let db = rawB.loadUnaligned(fromByteOffset: i * stride, as: Block.self) - shiftB
        sumBlocks += da
        dotBlocks += da * db
        i += 16
    }
    // (No horizontal sums for short runs.)
    var sum: Float = count >= 16 ? sumBlocks.sum() : 0, dot: Float = count >= 16 ? dotBlocks.sum() : 0
    while i < count {
        sum += a[i] - p
        dot += (a[i] - p) * (b[i] - q)
        i += 1
    }
    return SIMD2(sum, dot)
}

extension Tensor {
    /// Batch normalisation of (N, C, …) data with the batch's own statistics (training mode):
    /// each channel is standardised over every axis but 1 with its mean and biased variance,
    /// then scaled by `gamma` and shifted by `beta`.
    ///
    /// - Parameters:
    ///   - gamma: (C) scale, or nil for 1.
    ///   - beta: (C) shift, or nil for 0.
    ///   - epsilon: added to the variance before the square root.
    /// - Returns: the output (same shape), and the batch mean and biased variance per channel
    ///   (plain values, outside the graph) for updating running statistics.
    public func batchNormalized(gamma: Tensor?, beta: Tensor?, epsilon: Float)
        -> (output: Tensor, mean: [Float], variance: [Float]) {
        precondition(rank >= 2, "batchNormalized: input \(shape) must be (N, C, …)")
        let planes = ChannelPlanes(shape)
        let C = planes.channels, n = planes.valuesPerChannel
        precondition(n > 0, "batchNormalized: input \(shape) has no values per channel")
        for (name, parameter) in [("gamma", gamma), ("beta", beta)] {
            if let parameter {
                precondition(parameter.shape == [C], "batchNormalized: \(name) \(parameter.shape) must be [\(C)] for input \(shape)")
            }
        }
        let gammas = gamma?.scalars ?? [Float](repeating: 1, count: C)
        let betas = beta?.scalars ?? [Float](repeating: 0, count: C)
        var mean = [Float](repeating: 0, count: C), variance = mean, inverseDeviation = mean  // (C) each
        var output = uninitializedScalars(count)  // (N, C, S)
        scalars.withUnsafeBufferPointer { source in
            mean.withUnsafeMutableBufferPointer { meanBuffer in
                variance.withUnsafeMutableBufferPointer { varianceBuffer in
                    inverseDeviation.withUnsafeMutableBufferPointer { inverseBuffer in
                        output.withUnsafeMutableBufferPointer { outputBuffer in
                            let x = source.baseAddress!, y = outputBuffer.baseAddress!
                            let S = planes.planeSize
                            planes.forEachChannel { c in
                                let mu = Float(planes.channelSums(c) { SIMD2(contiguousSum(x + $0, S), 0) }[0] / Double(n))
                                let sigma2 = Float(planes.channelSums(c) {
                                    contiguousCenteredSums(x + $0, minus: mu, x + $0, minus: mu, S)
                                }[1] / Double(n))
                                let inverse = 1 / (sigma2 + epsilon).squareRoot()
                                // y = (x − μ)·(γ/σ) + β (not x·(γ/σ) + shift: that cancels when |μ| ≫ σ)
                                let scale = gammas[c] * inverse, shift = betas[c]
                                for b in 0..<planes.batch {
                                    let o = planes.offset(sample: b, channel: c)
                                    for i in o..<(o + S) { y[i] = (x[i] - mu) * scale + shift }
                                }
                                meanBuffer[c] = mu
                                varianceBuffer[c] = sigma2
                                inverseBuffer[c] = inverse
                            }
                        }
                    }
                }
            }
        }
        let input = self, parameters = [gamma, beta].compactMap { $0 }
        let savedMean = mean, savedInverseDeviation = inverseDeviation
        let result = Tensor.record("batchNorm", shape: shape, scalars: output, inputs: [self] + parameters) { g in
            let (dx, dGamma, dBeta) = input.batchNormGradients(
                g.scalars, planes: planes, mean: savedMean, inverseDeviation: savedInverseDeviation, gammas: gammas)
            var gradients: [Tensor?] = [Tensor(shape: input.shape, scalars: dx)]
            if gamma != nil { gradients.append(Tensor(shape: [C], scalars: dGamma)) }
            if beta != nil { gradients.append(Tensor(shape: [C], scalars: dBeta)) }
            return gradients
        }
        return (result, mean, variance)
    }

    /// The pullback of `batchNormalized`: dx (N, C, S), dγ (C) and dβ (C) from dy (N, C, S).
    private func batchNormGradients(
        _ dy: [Float], planes: ChannelPlanes, mean: [Float], inverseDeviation: [Float], gammas: [Float]
    ) -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
        let C = planes.channels, S = planes.planeSize, n = Float(planes.valuesPerChannel)
        var dx = uninitializedScalars(count)
        var dGamma = [Float](repeating: 0, count: C), dBeta = dGamma
        scalars.withUnsafeBufferPointer { source in
            dy.withUnsafeBufferPointer { upstream in
                dx.withUnsafeMutableBufferPointer { dxBuffer in
                    dGamma.withUnsafeMutableBufferPointer { dGammaBuffer in
                        dBeta.withUnsafeMutableBufferPointer { dBetaBuffer in
                            let x = source.baseAddress!, g = upstream.baseAddress!, d = dxBuffer.baseAddress!
                            planes.forEachChannel { c in
                                let mu = mean[c], inverse = inverseDeviation[c]
                                // Σ dy and Σ dy·x̂ = (1/σ)·Σ dy·(x − μ), in one pass
                                let sums = planes.channelSums(c) { contiguousCenteredSums(g + $0, minus: 0, x + $0, minus: mu, S) }
                                let sumG = Float(sums[0]), sumGXHat = inverse * Float(sums[1])
                                // dx = (γ/σ)·(dy − Σdy/n − x̂·Σ(dy·x̂)/n), with x̂ = (x − μ)/σ
                                let k = gammas[c] * inverse
                                let meanG = sumG / n, slope = inverse * sumGXHat / n
                                for b in 0..<planes.batch {
                                    let o = planes.offset(sample: b, channel: c)
                                    for i in o..<(o + S) { d[i] = k * (g[i] - meanG - (x[i] - mu) * slope) }
                                }
                                dGammaBuffer[c] = sumGXHat
                                dBetaBuffer[c] = sumG
                            }
                        }
                    }
                }
            }
        }
        return (dx, dGamma, dBeta)
    }
}
