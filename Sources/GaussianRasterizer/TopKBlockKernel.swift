import TensorCore

// The top-K rasterizer's work on one block of at most 8 × 8 pixels, dense over the block's
// candidates (the Gaussians that pruning keeps, see BlockCandidates.swift) and vectorised across
// the 8 pixels of a block row (one SIMD8 per row; lanes past the block's width are computed and
// masked).
//
// Forward, one row at a time:
//   1. q of every candidate at the row's 8 pixel centres, q = dx·(a·dx + 2b·dy) + c·dy².
//   2. Per pixel the K-th smallest q, T, from a min/max insertion network: the K smallest seen so
//      far sorted in K registers (or, when fewer candidates than 2K − 1, the n − K + 1 largest,
//      whose smallest is T as well). NaN enters the network as +∞.
//   3. Kept: q < T, and of the q = T ties the lowest local indices until K are kept, so the kept
//      set is the K smallest in (q, local index) order, as in the reference. NaN is never kept;
//      with at most K candidates every non-NaN one is kept.
//   4. w = e^(−q/2) for kept candidates and 0 for the others (and for lanes outside the block),
//      saved for the backward as (candidate, row, lane); C = Σ w·c / (Σ w + ε), summed in
//      ascending local (= pair) order.
// Backward, one candidate at a time over all rows (its sums stay in registers), with per-pixel
// coefficients u = −½/D, A_c = Ḡ_c·u, A₀ = (Ḡ·C)·u:
//   ∂L/∂q = w·(r·A_r + g·A_g + b·A_b − A₀),  ∂L/∂c = −2 Σ w·A_c,
//   ∂L/∂mx = −2(a·S₁ + b·S₂),  ∂L/∂my = −2(b·S₁ + c·S₂),  ∂L/∂a = S₃,  ∂L/∂b = 2·S₄,  ∂L/∂c = S₅
//   with S₁ = Σ ∂L/∂q·dx, S₂ = Σ ∂L/∂q·dy, S₃ = Σ ∂L/∂q·dx², S₄ = Σ ∂L/∂q·dx·dy, S₅ = Σ ∂L/∂q·dy².
// A candidate with infinite or NaN colour poisons every pixel of a block row in which it is kept
// anywhere (its weight 0 multiplies the colour in the other lanes); such sets are already broken
// for every rasterizer.

/// One block row: `blockSize` (8) pixels.
typealias RowLanes = SIMD8<Float>

// On concrete SIMD types: in an extension generic over the vector type, lane comparisons
// compile to loops over lanes.
extension SIMD8 where Scalar == Float {
    /// Lane-wise minimum and maximum (`pointwiseMin`/`Max` are not inlined); a NaN in x stays.
    @inline(__always) static func lesser(_ x: Self, _ y: Self) -> Self { x.replacing(with: y, where: y .< x) }
    @inline(__always) static func greater(_ x: Self, _ y: Self) -> Self { x.replacing(with: y, where: y .> x) }
    @inline(__always) var magnitude: Self { replacing(with: -self, where: self .< 0) }
    /// The least lane (by halving: the generic `min()` is a call and a loop).
    @inline(__always) var smallestLane: Float {
        let four = lowHalf.replacing(with: highHalf, where: highHalf .< lowHalf)
        let two = four.lowHalf.replacing(with: four.highHalf, where: four.highHalf .< four.lowHalf)
        return Swift.min(two.x, two.y)
    }

    @inline(__always) init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }

    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}

/// Where one block's pixels live in an item's planar image (3 planes of `planeSize`) and in
/// its per-pixel buffers.
struct BlockImage {
    let pixels: TilePixels
    let planeSize: Int
    var columns: Int { pixels.x1 - pixels.x0 }
    var rows: Int { pixels.y1 - pixels.y0 }
    /// Pixel centres of the 8 lanes, x.
    var laneX: RowLanes { RowLanes(0, 1, 2, 3, 4, 5, 6, 7) + (Float(pixels.x0) + 0.5) }
    /// 1 in lanes inside the block, 0 past its width.
    var insideLanes: RowLanes { RowLanes(repeating: 0).replacing(with: 1, where: RowLanes(0, 1, 2, 3, 4, 5, 6, 7) .< Float(columns)) }
    func rowCentreY(_ row: Int) -> Float { Float(pixels.y0 + row) + 0.5 }
    func offset(row: Int) -> Int { (pixels.y0 + row) * pixels.width + pixels.x0 }

    /// Lanes of row `row` of `plane`, 0 past the block's width.
    func load(_ plane: UnsafePointer<Float>, row: Int) -> RowLanes {
        let start = plane + offset(row: row)
        if columns == blockSize { return RowLanes(loading: start) }
        var lanes = RowLanes()
        for lane in 0..<columns { lanes[lane] = start[lane] }
        return lanes
    }

    /// Writes the block's lanes of `values` to row `row` of `plane`.
    func store(_ values: RowLanes, to plane: UnsafeMutablePointer<Float>, row: Int) {
        let start = plane + offset(row: row)
        if columns == blockSize { return values.store(to: start) }
        for lane in 0..<columns { start[lane] = values[lane] }
    }
}

/// Scratch for the dense block kernel over blocks of at most `capacity` candidates. Owns its
/// buffers: call `deallocate()`.
struct TopKBlockKernel {
    let k: Int
    let epsilon: Float
    /// One row's q per (candidate, lane).
    private let rowValues: UnsafeMutablePointer<Float>
    /// The insertion network's registers (lane-wise sorted), or the backward's per-pixel
    /// coefficients (4 planes of 8 rows × 8 lanes).
    private let registers: UnsafeMutablePointer<Float>

    init(options: TopKOptions, capacity: Int) {
        k = options.k
        epsilon = options.epsilon
        rowValues = .allocate(capacity: Swift.max(capacity, 1) * blockSize)
        registers = .allocate(capacity: Swift.max(k, 4 * blockSize) * blockSize)
    }

    func deallocate() {
        rowValues.deallocate()
        registers.deallocate()
    }

    /// Floats of saved weights for a block of `candidates`: (candidate, row, lane).
    static func weightCount(candidates: Int) -> Int { candidates * blockSize * blockSize }

    /// Renders the block's pixels from its candidates `block`: colours into `image` (3 planes),
    /// Σw + ε into `denominators`, each (candidate, row, lane) weight into `weights`, and each
    /// candidate's first and last row with a kept lane into `keptRows` (2 per candidate; first >
    /// last when kept nowhere), so the backward visits only those rows.
    func forward(_ block: TileConics, at place: BlockImage, weights: UnsafeMutablePointer<Float>, keptRows: UnsafeMutablePointer<UInt8>,
                 image: UnsafeMutablePointer<Float>, denominators: UnsafeMutablePointer<Float>) {
        let n = block.count, x = place.laneX, inside = place.insideLanes
        for j in 0..<n {
            keptRows[2 * j] = UInt8.max
            keptRows[2 * j + 1] = 0
        }
        for row in 0..<place.rows {
            let y = place.rowCentreY(row)
            // 1. Distances.
            for j in 0..<n {
                let dx = x - block.meanX[j], dy = y - block.meanY[j]
                let q = dx * (block.a[j] * dx + block.twoB[j] * dy) + block.c[j] * dy * dy
                q.store(to: rowValues + j * blockSize)
            }
            // 2–3. The K-th smallest; per lane, the number of q = T ties still to keep.
            // (Lane-wise logic is written as selects on float lanes: SIMDMask's `.&` compiles to a
            // loop over lanes.)
            let threshold = kthSmallestDistance(candidates: n), zero = RowLanes(), one = RowLanes(repeating: 1)
            var tiesLeft = RowLanes(repeating: Float(k))
            for j in 0..<n {
                tiesLeft -= zero.replacing(with: one, where: RowLanes(loading: rowValues + j * blockSize) .< threshold)
            }
            // 4. Per candidate: w = e^(−q/2) in kept lanes (0 elsewhere), saved, and blended;
            // a candidate kept in no lane of the row skips the exponential.
            var sum = RowLanes(), red = RowLanes(), green = RowLanes(), blue = RowLanes()
            for j in 0..<n {
                let slot = rowValues + j * blockSize, saved = weights + (j * blockSize + row) * blockSize
                let q = RowLanes(loading: slot)
                let tieKept = zero.replacing(with: zero.replacing(with: one, where: q .== threshold), where: tiesLeft .> zero)
                tiesLeft -= tieKept
                var kept = RowLanes(repeating: .infinity).replacing(with: q, where: q .< threshold)
                kept.replace(with: q, where: tieKept .> zero)
                kept.replace(with: .infinity, where: inside .== zero)
                if kept.smallestLane == .infinity {
                    zero.store(to: saved)
                    continue
                }
                if keptRows[2 * j] == UInt8.max { keptRows[2 * j] = UInt8(row) }
                keptRows[2 * j + 1] = UInt8(row)
                let w = weightExponential(-0.5 * kept)
                w.store(to: saved)
                sum += w
                red += w * block.red[j]
                green += w * block.green[j]
                blue += w * block.blue[j]
            }
            let d = sum + epsilon
            place.store(d, to: denominators, row: row)
            place.store(red / d, to: image, row: row)
            place.store(green / d, to: image + place.planeSize, row: row)
            place.store(blue / d, to: image + 2 * place.planeSize, row: row)
        }
    }

    /// Per lane, the k-th smallest of the n candidates' distances in `rowValues` (NaN as +∞);
    /// +∞ when n ≤ k.
    private func kthSmallestDistance(candidates n: Int) -> RowLanes {
        if n <= k { return RowLanes(repeating: .infinity) }
        // Keep the k smallest, or (fewer registers) the n − k + 1 largest, whose least is the same.
        let levels = Swift.min(k, n - k + 1), smallest = levels == k
        for level in 0..<levels { RowLanes(repeating: smallest ? .infinity : -.infinity).store(to: registers + level * blockSize) }
        for j in 0..<n {
            var value = RowLanes(loading: rowValues + j * blockSize)
            value.replace(with: .infinity, where: value .!= value)
            // Registers past the j-th still hold their initial value and would pass it on.
            for level in 0..<Swift.min(levels, j + 1) {
                let register = registers + level * blockSize, held = RowLanes(loading: register)
                if smallest {
                    RowLanes.lesser(held, value).store(to: register)
                    value = RowLanes.greater(held, value)
                } else {
                    RowLanes.greater(held, value).store(to: register)
                    value = RowLanes.lesser(held, value)
                }
            }
        }
        return RowLanes(loading: registers + (levels - 1) * blockSize)
    }

    /// Adds the block's gradient with respect to each candidate's screen row
    /// [mx, my, a, b, c, r, g, b] into `slots` (8 floats per (tile, Gaussian) pair, indexed by
    /// `block.pair`), given the upstream gradient and the forward's image, denominators and weights.
    func backward(_ block: TileConics, at place: BlockImage, weights: UnsafePointer<Float>, keptRows: UnsafePointer<UInt8>,
                  upstream: UnsafePointer<Float>,
                  image: UnsafePointer<Float>, denominators: UnsafePointer<Float>, slots: UnsafeMutablePointer<Float>) {
        // Per-pixel coefficients A_r, A_g, A_b, A₀ (planes of blockSize rows), 0 outside the block.
        let coefficients = registers, plane = blockSize * blockSize, P = place.planeSize
        for row in 0..<place.rows {
            let gr = place.load(upstream, row: row), gg = place.load(upstream + P, row: row), gb = place.load(upstream + 2 * P, row: row)
            let colourDot = gr * place.load(image, row: row) + gg * place.load(image + P, row: row) + gb * place.load(image + 2 * P, row: row)
            let d = place.load(denominators, row: row)
            let u = (-0.5 / d).replacing(with: 0, where: place.insideLanes .== 0)
            let at = coefficients + row * blockSize
            (gr * u).store(to: at)
            (gg * u).store(to: at + plane)
            (gb * u).store(to: at + 2 * plane)
            (colourDot * u).store(to: at + 3 * plane)
        }
        let x = place.laneX
        for j in 0..<block.count {
            // Rows where the candidate is kept in no lane add exact zeros: skipped.
            let (firstRow, lastRow) = (Int(keptRows[2 * j]), Int(keptRows[2 * j + 1]))
            if firstRow > lastRow { continue }
            let meanX = block.meanX[j], meanY = block.meanY[j], red = block.red[j], green = block.green[j], blue = block.blue[j]
            var s1 = RowLanes(), s2 = RowLanes(), s3 = RowLanes(), s4 = RowLanes(), s5 = RowLanes()
            var sumRed = RowLanes(), sumGreen = RowLanes(), sumBlue = RowLanes()
            for row in firstRow...lastRow {
                let w = RowLanes(loading: weights + (j * blockSize + row) * blockSize)
                let at = coefficients + row * blockSize
                let ar = RowLanes(loading: at), ag = RowLanes(loading: at + plane), ab = RowLanes(loading: at + 2 * plane)
                let dQ = w * (red * ar + green * ag + blue * ab - RowLanes(loading: at + 3 * plane))
                let dx = x - meanX, dy = place.rowCentreY(row) - meanY
                let t = dQ * dx
                s1 += t
                s2 += dQ * dy
                s3 += t * dx
                s4 += t * dy
                s5 += dQ * (dy * dy)
                sumRed += w * ar
                sumGreen += w * ag
                sumBlue += w * ab
            }
            let (a, b, c) = (block.a[j], 0.5 * block.twoB[j], block.c[j])
            let (S1, S2) = (s1.sum(), s2.sum())
            let conic = SIMD4<Float>(-2 * (a * S1 + b * S2), -2 * (b * S1 + c * S2), s3.sum(), 2 * s4.sum())
            let rest = SIMD4<Float>(s5.sum(), -2 * sumRed.sum(), -2 * sumGreen.sum(), -2 * sumBlue.sum())
            let accumulator = UnsafeMutableRawPointer(slots + Int(block.pair[j]) * ScreenColumn.count)
            accumulator.storeBytes(of: accumulator.loadUnaligned(as: SIMD4<Float>.self) + conic, as: SIMD4<Float>.self)
            accumulator.storeBytes(of: accumulator.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self) + rest,
                                   toByteOffset: 16, as: SIMD4<Float>.self)
        }
    }
}

/// e^x lane by lane for the blend weights (x = −q/2), within 2 ulp: x = n·ln2 + r with
/// |r| ≤ ln2/2 (Cody–Waite, ln2 in two parts), e^r by its Taylor series to degree 8 (truncation
/// below 6e-9 relative), times 2^n from the exponent bits. x < −87 gives 0 (e^−87 is near the
/// smallest normal float) and x > 88 gives e^88; NaN stays NaN. Written on SIMD8 directly so each
/// row of weights is a straight run of vector instructions. `@_transparent`: the forward's call
/// site ignores `@inline(__always)`, and the call (its arguments split into halves, `vzeroupper`)
/// cost 8 % of a 768 × 512 fit.
@_transparent
func weightExponential(_ x: RowLanes) -> RowLanes {
    let roundingShift: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer in the low bits
    let clamped = RowLanes.lesser(RowLanes.greater(x, RowLanes(repeating: -87)), RowLanes(repeating: 88))
    let shifted = clamped * 1.44269504088896341 + roundingShift
    let n = shifted - roundingShift
    let r = (clamped - n * 0.693359375) - n * -2.12194440e-4
    var p = r * (1.0 / 40320) + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    let power = unsafeBitCast((unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23, to: RowLanes.self)
    return ((p * r * r + r + 1) * power).replacing(with: 0, where: x .< -87)
}
