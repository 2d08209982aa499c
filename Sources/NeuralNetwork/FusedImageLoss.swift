import Foundation
import TensorCore

// The image-fitting loss L = mean|p − t| + m·mean((p − t)²) + w·(1 − SSIM(p, t)) as one
// differentiable primitive (m = 0 unless asked: Image-GS's loss is L1 + SSIM):
// one pass per (image, channel) plane with a hand-written backward, instead of the composition
// `l1Loss(p, t) + w * (1 - ssim(p, t))`, which makes dozens of full-size temporaries per call.
//
// Shape letters: P planes (N·C), H × W image, S window size, H' = H − S + 1, W' = W − S + 1,
// W8 = W' rounded up to a multiple of 8 (the row stride of the saved gradient maps).
//
// SSIM is exactly the definition of SSIM.swift (same window, 'valid' filtering, population
// variances, constants, and the same float operations in the same order, so the value matches
// `ssim()` to float rounding). With G the separable Gaussian window, per plane:
//
//   μp = G∗p,  μt = G∗t,  Epp = G∗p²,  Ett = G∗t²,  Ept = G∗(p·t)              (H', W')
//   σpp = Epp − μp²,  σtt = Ett − μt²,  σpt = Ept − μp·μt
//   A1 = 2μpμt + C1,  B1 = μp² + μt² + C1,  A2 = 2σpt + C2,  B2 = σpp + σtt + C2
//   lum = A1/B1,  cs = A2/B2,  S = lum·cs,  SSIM = (1/n) Σ S over all P·H'·W' = n positions
//
// Backward (prediction only; the target takes no gradient). Take S as a function of the three
// filtered maps that depend on p — μp, Epp, Ept — with σpp and σpt expanded, so the chain
// through μp inside the variances is explicit:
//
//   ∂S/∂Ept = ∂S/∂σpt = lum · 2/B2
//   ∂S/∂Epp = ∂S/∂σpp = lum · (−A2/B2²) = −S/B2
//   ∂S/∂μp  = cs · ∂lum/∂μp + ∂S/∂σpt · ∂σpt/∂μp + ∂S/∂σpp · ∂σpp/∂μp
//           = cs · 2(μt·B1 − μp·A1)/B1² − μt · ∂S/∂Ept − 2μp · ∂S/∂Epp
//           = 2(μt − μp·lum)·cs/B1 − μt · ∂S/∂Ept − 2μp · ∂S/∂Epp
//
// Each filtered map is linear in its image, μp = G p, so ∂/∂p of Σ_q a_q (G p)_q is Gᵀa, where
// Gᵀ is the adjoint of the 'valid' correlation: the 'full' correlation with the flipped window,
// (H', W') → (H, W). With ∂(p²)/∂p = 2p and ∂(p·t)/∂p = t:
//
//   ∂SSIM/∂p = (1/n) [ Gᵀ(∂S/∂μp) + 2p · Gᵀ(∂S/∂Epp) + t · Gᵀ(∂S/∂Ept) ]
//   ∂L/∂p    = (sign(p − t) + 2m(p − t))/(P·H·W) − w · ∂SSIM/∂p   (sign 0 at p = t, as `abs`)
//
// The forward saves the three coefficient maps kA = −(w/n)·∂S/∂μp, kB = −(w/n)·2∂S/∂Epp and
// kC = −(w/n)·∂S/∂Ept, (P, 3, H', W8); the backward is ∂L/∂p = g·(sign/(PHW) + GᵀkA + p·GᵀkB + t·GᵀkC)
// for the upstream scalar g.
//
// Kernels: G is separable; the forward filters rows then columns, each tap an 8-lane multiply-add
// accumulated in the same order as `Tensor.separableFiltered` (so the moments are bit-identical).
// Rows of the five row-filtered maps live in a ring of S rows, so each output row is finished
// (columns, SSIM, coefficients) as soon as its window is complete. The adjoint runs the column
// gather, then the row 'full' correlation (rows padded with S − 1 zeros each side).
// Work items are (plane, band of rows) with a fixed band height, so results, including the
// order of the partial sums, do not depend on the thread count; items write disjoint outputs.

/// Rows per work item (output rows in the forward, image rows in the backward). A band of
/// output rows row-filters S − 1 extra input rows, so bands should be much taller than S.
private let bandRows = 64

/// L1 plus SSIM loss for fitting images: mean|p − t| + m·mean((p − t)²) + w·(1 − SSIM(p, t)) in
/// one fused, differentiable op (see the file header for the formulas and the hand-written gradient).
///
/// The SSIM term is that of `ssim(_:_:options:)` (equal to float rounding); the whole is equal to
/// `l1Loss(p, t) + m * meanSquaredError(p, t) + w * (1 - ssim(p, t))` with images batched as (N, C, H, W).
///
/// - Parameters:
///   - prediction: p, images (C, H, W) or (N, C, H, W), H and W at least the window size.
///     Takes the gradient.
///   - target: t, the same shape. Takes no gradient (it is a constant of the fit).
///   - ssimWeight: w, the weight of 1 − SSIM.
///   - squaredErrorWeight: m, the weight of the mean squared error (0: none).
///   - options: window, data range and constants of SSIM (defaults: 11 × 11, σ 1.5, R = 1).
///   - targetMoments: the target's filtered maps μt and E[t²] made once by
///     `SSIMTargetMoments(target:options:)` for this very target and options, when many
///     predictions are compared with one target (fitting); the result is the same bits.
/// - Returns: `loss`, a scalar tensor, and `ssim`, SSIM(p, t) (the mean over images, channels
///   and window positions).
public func l1SSIMLoss(_ prediction: Tensor, _ target: Tensor, ssimWeight: Float, squaredErrorWeight: Float = 0,
                       options: SSIMOptions = SSIMOptions(),
                       targetMoments: SSIMTargetMoments? = nil) -> (loss: Tensor, ssim: Float) {
    let shape = prediction.shape
    precondition((shape.count == 3 || shape.count == 4) && shape == target.shape,
                 "l1SSIMLoss: prediction \(shape) and target \(target.shape) must both be (C, H, W) or (N, C, H, W)")
    let S = options.windowSize
    let (H, W) = (shape[shape.count - 2], shape[shape.count - 1])
    precondition(H >= S && W >= S, "l1SSIMLoss: images \(shape) are smaller than the \(S)×\(S) window")
    let P = shape.dropLast(2).reduce(1, *)
    let (OH, OW) = (H - S + 1, W - S + 1)
    let W8 = (OW + 7) / 8 * 8
    let bands = (OH + bandRows - 1) / bandRows
    let window = options.gaussianWindow
    let (c1, c2) = (options.c1, options.c2)
    let positions = P * OH * OW
    let coefficientScale = -ssimWeight / Float(positions)
    let needsGradient = GradientMode.isRecording && prediction.requiresGrad
    let predictionScalars = prediction.scalars, targetScalars = target.scalars
    if let targetMoments {
        precondition(targetMoments.target === target && targetMoments.options == options,
                     "l1SSIMLoss: targetMoments were made for another target or other options")
    }
    let cachedMoments = targetMoments?.maps ?? []  // (P, 2, H', W8): μt, E[t²]

    // (P, 3, H', W8): kA, kB, kC of the header; every element is written below.
    let mapCount = needsGradient ? P * 3 * OH * W8 : 0
    var coefficients = [Float](unsafeUninitializedCapacity: mapCount) { _, count in count = mapCount }
    var ssimSums = [Double](repeating: 0, count: P * bands), l1Sums = [Double](repeating: 0, count: P * bands)
    var squaredSums = [Double](repeating: 0, count: P * bands)
    // Per item: ring (5, S, W'), products (3, W), column-filtered row (5, W8).
    let pool = ScratchPool(size: 5 * S * OW + 3 * W + 5 * W8)

    predictionScalars.withUnsafeBufferPointer { pBuffer in
    targetScalars.withUnsafeBufferPointer { tBuffer in
    window.withUnsafeBufferPointer { taps in
    coefficients.withUnsafeMutableBufferPointer { coefficientBuffer in
    ssimSums.withUnsafeMutableBufferPointer { ssimOut in
    l1Sums.withUnsafeMutableBufferPointer { l1Out in
    squaredSums.withUnsafeMutableBufferPointer { squaredOut in
    cachedMoments.withUnsafeBufferPointer { cache in
        parallelItems(P * bands) { item in
            let (plane, band) = (item / bands, item % bands)
            let i0 = band * bandRows, i1 = Swift.min(OH, i0 + bandRows)
            let p = pBuffer.baseAddress! + plane * H * W, t = tBuffer.baseAddress! + plane * H * W
            let k = needsGradient ? coefficientBuffer.baseAddress! + plane * 3 * OH * W8 : nil
            // With cached target moments, the maps of t and t² (1 and 3) are copied, not filtered.
            let targetMaps = cache.isEmpty ? nil : cache.baseAddress! + plane * 2 * OH * W8
            pool.borrow { scratch in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: S) { offsets in
                    let ring = scratch, products = ring + 5 * S * OW, moments = products + 3 * W
                    moments.initialize(repeating: 0, count: 5 * W8)  // lanes past W' stay 0
                    var ssimSum = 0.0
                    for r in i0..<(i1 + S - 1) {
                        // Row pass of input row r for p, t, p², t², p·t into ring slot r % S.
                        let pr = p + r * W, tr = t + r * W
                        for j in 0..<W {
                            products[j] = pr[j] * pr[j]
                            products[W + j] = tr[j] * tr[j]
                            products[2 * W + j] = pr[j] * tr[j]
                        }
                        let slot = ring + (r % S) * OW, gaussian = taps.baseAddress!
                        correlateRow(pr, gaussian, S, slot, OW)
                        correlateRow(products, gaussian, S, slot + 2 * S * OW, OW)
                        correlateRow(products + 2 * W, gaussian, S, slot + 4 * S * OW, OW)
                        if targetMaps == nil {
                            correlateRow(tr, gaussian, S, slot + S * OW, OW)
                            correlateRow(products + W, gaussian, S, slot + 3 * S * OW, OW)
                        }
                        guard r >= i0 + S - 1 else { continue }
                        // Column pass of output row i = r − S + 1: ring rows i, i+1, …, i+S−1.
                        let i = r - S + 1
                        for u in 0..<S { offsets[u] = ((i + u) % S) * OW }
                        for map in 0..<5 {
                            if let targetMaps, map == 1 || map == 3 {
                                (moments + map * W8).update(from: targetMaps + (map / 2 * OH + i) * W8, count: OW)
                            } else {
                                weightedRowSum(ring + map * S * OW, offsets.baseAddress!, taps.baseAddress!, S, moments + map * W8, OW)
                            }
                        }
                        ssimSum += ssimRow(moments, W8, OW, c1, c2, coefficientScale, k.map { $0 + i * W8 }, OH * W8)
                    }
                    ssimOut[item] = ssimSum
                    // L1 over this band's own image rows (the last band also owns the bottom S − 1).
                    var l1Sum = 0.0, squaredSum = 0.0
                    for r in i0..<(band == bands - 1 ? H : i1) {
                        let sums = differenceSums(p + r * W, t + r * W, W)
                        l1Sum += sums.absolute
                        squaredSum += sums.squared
                    }
                    l1Out[item] = l1Sum
                    squaredOut[item] = squaredSum
                }
            }
        }
    }}}}}}}}

    let l1 = Float(l1Sums.reduce(0, +) / Double(P * H * W))
    let similarity = Float(ssimSums.reduce(0, +) / Double(positions))
    let squaredError = Float(squaredSums.reduce(0, +) / Double(P * H * W))
    let lossValue = l1 + squaredErrorWeight * squaredError + ssimWeight * (1 - similarity)
    guard needsGradient else { return (Tensor(lossValue), similarity) }

    let reversedWindow = Array(window.reversed()), savedCoefficients = coefficients
    let loss = Tensor.record("l1SSIMLoss", shape: [], scalars: [lossValue], inputs: [prediction]) { gradient in
        let g = gradient.scalars[0]
        let signScale = g / Float(P * H * W), differenceScale = 2 * squaredErrorWeight * signScale
        let imageBands = (H + bandRows - 1) / bandRows
        var dp = [Float](unsafeUninitializedCapacity: P * H * W) { _, count in count = P * H * W }
        // Per item: one zero-padded row (W + S − 1) and the three adjoints Gᵀk of one row (3, W).
        let pool = ScratchPool(size: W + S - 1 + 3 * W)
        predictionScalars.withUnsafeBufferPointer { pBuffer in
        targetScalars.withUnsafeBufferPointer { tBuffer in
        window.withUnsafeBufferPointer { taps in
        reversedWindow.withUnsafeBufferPointer { flipped in
        savedCoefficients.withUnsafeBufferPointer { coefficientBuffer in
        dp.withUnsafeMutableBufferPointer { dpBuffer in
            parallelItems(P * imageBands) { item in
                let (plane, band) = (item / imageBands, item % imageBands)
                let p = pBuffer.baseAddress! + plane * H * W, t = tBuffer.baseAddress! + plane * H * W
                let d = dpBuffer.baseAddress! + plane * H * W
                let k = coefficientBuffer.baseAddress! + plane * 3 * OH * W8
                pool.borrow { scratch in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: S) { offsets in
                        let padded = scratch, adjoints = scratch + W + S - 1
                        padded.initialize(repeating: 0, count: W + S - 1)  // S − 1 zeros each side stay
                        for r in (band * bandRows)..<Swift.min(H, (band + 1) * bandRows) {
                            // Column adjoint: row r gathers output rows r − u, u in [uLow, uHigh].
                            let uLow = Swift.max(0, r - OH + 1), uHigh = Swift.min(S - 1, r)
                            for u in uLow...uHigh { offsets[u - uLow] = (r - u) * W8 }
                            for map in 0..<3 {
                                weightedRowSum(k + map * OH * W8, offsets.baseAddress!, taps.baseAddress! + uLow,
                                               uHigh - uLow + 1, padded + S - 1, OW)
                                // Row adjoint: 'full' correlation = valid correlation of the padded row, flipped taps.
                                correlateRow(padded, flipped.baseAddress!, S, adjoints + map * W, W)
                            }
                            let pr = p + r * W, tr = t + r * W, dr = d + r * W
                            let (a, b, c) = (adjoints, adjoints + W, adjoints + 2 * W)
                            for j in 0..<W {
                                let difference = pr[j] - tr[j]
                                let sign: Float = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
                                dr[j] = sign * signScale + difference * differenceScale + g * (a[j] + pr[j] * b[j] + tr[j] * c[j])
                            }
                        }
                    }
                }
            }
        }}}}}}
        return [Tensor(shape: shape, scalars: dp)]
    }
    return (loss, similarity)
}

// MARK: - Row kernels (8 lanes at a time, 32 where they fit; each lane adds its terms in index order)

@inline(__always)
func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Valid correlation of one row: out[j] = Σ_v taps[v]·x[j + v], j < count, v < tapCount.
@inline(__always)
func correlateRow(_ x: UnsafePointer<Float>, _ taps: UnsafePointer<Float>, _ tapCount: Int,
                          _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    weightedSum(taps, tapCount, out, count) { v in x + v }
}

/// A weighted sum of rows: out[j] = Σ_m taps[m]·base[offsets[m] + j], j < count, m < rowCount.
@inline(__always)
func weightedRowSum(_ base: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ taps: UnsafePointer<Float>,
                            _ rowCount: Int, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
    weightedSum(taps, rowCount, out, count) { m in base + offsets[m] }
}

/// The kernel of both functions above: out[j] = Σ_m taps[m]·row(m)[j], j < count, m < tapCount.
/// Inlined with its `row` closure, so each caller gets the loop with its own addressing.
@inline(__always)
func weightedSum(_ taps: UnsafePointer<Float>, _ tapCount: Int, _ out: UnsafeMutablePointer<Float>, _ count: Int,
                         row: (Int) -> UnsafePointer<Float>) {
    var j = 0
    while j + 32 <= count {  // four independent sums hide the add latency
        var sum0 = SIMD8<Float>(repeating: 0), sum1 = sum0, sum2 = sum0, sum3 = sum0
        for m in 0..<tapCount {
            let tap = taps[m], from = row(m) + j
            sum0 += tap * load8(from)
            sum1 += tap * load8(from + 8)
            sum2 += tap * load8(from + 16)
            sum3 += tap * load8(from + 24)
        }
        store8(sum0, out + j)
        store8(sum1, out + j + 8)
        store8(sum2, out + j + 16)
        store8(sum3, out + j + 24)
        j += 32
    }
    while j + 8 <= count {
        var sum = SIMD8<Float>(repeating: 0)
        for m in 0..<tapCount { sum += taps[m] * load8(row(m) + j) }
        store8(sum, out + j)
        j += 8
    }
    while j < count {
        var sum: Float = 0
        for m in 0..<tapCount { sum += taps[m] * row(m)[j] }
        out[j] = sum
        j += 1
    }
}

/// One output row of the SSIM map from its five moments `moments` (5, W8) (lanes past
/// `count` = W' are 0): returns Σ S over the row; when `coefficients` is given, writes kA, kB,
/// kC (rows `mapStride` apart) of the header, already scaled by `scale` = −w/n.
@inline(__always)
private func ssimRow(_ moments: UnsafeMutablePointer<Float>, _ W8: Int, _ count: Int, _ c1: Float, _ c2: Float,
                     _ scale: Float, _ coefficients: UnsafeMutablePointer<Float>?, _ mapStride: Int) -> Double {
    var total = SIMD8<Float>(repeating: 0)
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    for j in stride(from: 0, to: W8, by: 8) {
        let meanP = load8(moments + j), meanT = load8(moments + W8 + j)
        let meanPP = meanP * meanP, meanTT = meanT * meanT, meanPT = meanP * meanT
        let varianceP: SIMD8<Float> = load8(moments + 2 * W8 + j) - meanPP
        let varianceT: SIMD8<Float> = load8(moments + 3 * W8 + j) - meanTT
        let covariance: SIMD8<Float> = load8(moments + 4 * W8 + j) - meanPT
        let a2: SIMD8<Float> = 2 * covariance + c2, b2: SIMD8<Float> = varianceP + varianceT + c2
        let a1: SIMD8<Float> = 2 * meanPT + c1, b1: SIMD8<Float> = meanPP + meanTT + c1
        let contrastStructure = a2 / b2, luminance = a1 / b1
        let similarity = luminance * contrastStructure
        total += similarity.replacing(with: 0, where: lanes .>= SIMD8<Int32>(repeating: Int32(count - j)))
        guard let coefficients else { continue }
        let dCrossMoment: SIMD8<Float> = 2 * luminance / b2       // ∂S/∂Ept
        let dSquareMoment: SIMD8<Float> = -similarity / b2        // ∂S/∂Epp
        let direct: SIMD8<Float> = 2 * (meanT - meanP * luminance) * contrastStructure / b1
        let dMean: SIMD8<Float> = direct - meanT * dCrossMoment - 2 * meanP * dSquareMoment  // ∂S/∂μp
        store8(scale * dMean, coefficients + j)
        store8((2 * scale) * dSquareMoment, coefficients + mapStride + j)
        store8(scale * dCrossMoment, coefficients + 2 * mapStride + j)
    }
    var sum = 0.0
    for lane in 0..<8 { sum += Double(total[lane]) }
    return sum
}

/// Σ_j |x[j] − y[j]| and Σ_j (x[j] − y[j])² over one row, in one pass, each in 8 lane sums added
/// in order.
@inline(__always)
private func differenceSums(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> (absolute: Double, squared: Double) {
    var absoluteLanes = SIMD8<Float>(repeating: 0), squaredLanes = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= count {
        let difference = load8(x + j) - load8(y + j)
        absoluteLanes += difference.replacing(with: -difference, where: difference .< 0)
        squaredLanes += difference * difference
        j += 8
    }
    var absolute = 0.0, squared = 0.0
    for lane in 0..<8 {
        absolute += Double(absoluteLanes[lane])
        squared += Double(squaredLanes[lane])
    }
    while j < count {
        let difference = x[j] - y[j]
        absolute += Double(Swift.abs(difference))
        squared += Double(difference * difference)
        j += 1
    }
    return (absolute, squared)
}

/// Float scratch areas for concurrent work items: an item borrows one (made on first demand,
/// so there are at most as many as threads running items) and returns it; the pool frees all.
private final class ScratchPool {
    private let size: Int
    private let lock = NSLock()
    private var idle: [UnsafeMutablePointer<Float>] = []
    private var made: [UnsafeMutablePointer<Float>] = []

    init(size: Int) { self.size = size }

    deinit { for area in made { area.deallocate() } }

    func borrow<Result>(_ body: (UnsafeMutablePointer<Float>) -> Result) -> Result {
        lock.lock()
        let area: UnsafeMutablePointer<Float>
        if let reused = idle.popLast() {
            area = reused
        } else {
            area = .allocate(capacity: size)
            made.append(area)
        }
        lock.unlock()
        defer {
            lock.lock()
            idle.append(area)
            lock.unlock()
        }
        return body(area)
    }
}
