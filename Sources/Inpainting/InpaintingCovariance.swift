import Foundation
import TensorCore

// Covariances of the inpainting Gaussians as softmax mixtures over a fixed dictionary of
// Cholesky factors, and their conics: the covariance decoder's last Linear, the softmax, the
// mixture and the 2 × 2 inverse as one fused op with a hand-written backward.
//
// Dictionary. A factor L = [[l11, 0], [l21, l22]] (pixels) gives Σ = L Lᵀ =
// [[l11², l11·l21], [l11·l21, l21² + l22²]]. With n values per element:
//   l11, l22 ∈ lo·(hi/lo)^(i/(n−1)), i = 0…n−1   a geometric grid of standard deviations
//                                                  (default 0.5 … 4 px: 0.5, 0.84, 1.41, 2.38, 4 for n = 5)
//   l21      ∈ −s + 2s·i/(n−1)                    a symmetric shear grid (default s = 2 px, 0 included
//                                                  for odd n), so the correlation l21/√(l21² + l22²)
//                                                  reaches ±0.97 at l22 = 0.5
// (n = 1 takes the geometric mean √(lo·hi) and shear 0). All n³ combinations, l11 outermost,
// then l21, then l22, followed by the paper's zero row L = 0: K = n³ + 1 entries.
//
// Mixture. For one Gaussian with hidden features h (the decoder's ReLU output), the logits are
// z = h W + b (K), π = softmax(z) and
//   Σ = Σ_k π_k L_k L_kᵀ + ε I.
// The zero row adds nothing, so weight on it shrinks Σ towards 0: it lets the network make a
// Gaussian as small as it likes ("off": at π_zero → 1 the Gaussian is a point of standard
// deviation √ε = 0.1 px for ε = 0.01, which lights at most the pixel centre it sits on). The ε I
// guard keeps Σ positive definite with det Σ ≥ ε², so the conic
//   Σ⁻¹ = [[Σ22, −Σ12], [−Σ12, Σ11]] / (Σ11 Σ22 − Σ12²)        (closed-form 2 × 2 inverse)
// is finite and its largest entry at most 1/ε.
//
// Backward. With Q = Σ⁻¹ = [[a, b], [b, c]] and upstream (ḡa, ḡb, ḡc), write the symmetric
// Ḡ = [[ḡa, ḡb/2], [ḡb/2, ḡc]] (so L = tr(Ḡ Q)). From dQ = −Q dΣ Q:
//   ∂L/∂Σ (as a matrix) = −Q Ḡ Q =: −M,  so  ∂L/∂Σ11 = −M00,  ∂L/∂Σ22 = −M11,  ∂L/∂Σ12 = −2 M01
// (Σ12 sits in both off-diagonal entries). Then t_k = ∂L/∂π_k = Σ_e ∂L/∂Σe · D_k,e, the softmax
// pullback ∂L/∂z_k = π_k (t_k − Σ_j π_j t_j), and through the Linear
//   ∂L/∂h = ∂L/∂z Wᵀ,  ∂L/∂W = hᵀ ∂L/∂z,  ∂L/∂b = Σ_rows ∂L/∂z.
//
// Cost. The forward never materialises the logits (M × K floats, 74 MB for a 256 × 256 image):
// each row's z, exponentials and sums live in a scratch row; eˣ is a polynomial (no library
// call) so the loops over the dictionary vectorise, and the four sums run in 16 lanes. The
// backward recomputes z with one matrix product, then π per row, and forms the three
// gradients with matrix products. Rows are independent, split over threads in fixed chunks, so
// results do not depend on the thread count. `referenceDictionaryConics` is the same function
// composed of tensor ops, for tests.

/// The fixed covariance dictionary: K = n³ + 1 Cholesky factors (the last is zero).
public struct CholeskyDictionary: Equatable {
    /// The n values of l11 (and of l22), ascending, in pixels.
    public let scales: [Float]
    /// The n values of l21, ascending, in pixels.
    public let shears: [Float]
    /// (K, 3): the factors [l11, l21, l22] of every entry, the zero row last.
    public let factors: [Float]
    /// (K, 3): [Σ11, Σ12, Σ22] of every entry.
    public let covariances: [Float]

    /// - Parameters:
    ///   - valuesPerElement: n, values of each of l11, l21, l22 (the paper's 9).
    ///   - scaleRange: the ends of the geometric grid of l11 and l22, pixels.
    ///   - shearLimit: s, the grid of l21 spans −s…s pixels.
    public init(valuesPerElement n: Int, scaleRange: ClosedRange<Float> = 0.5...4, shearLimit: Float = 2) {
        precondition(n >= 1 && scaleRange.lowerBound > 0 && shearLimit >= 0,
                     "CholeskyDictionary: \(n) values, scale range \(scaleRange), shear limit \(shearLimit)")
        let (low, high) = (Double(scaleRange.lowerBound), Double(scaleRange.upperBound))
        scales = (0..<n).map { i in
            n == 1 ? Float((low * high).squareRoot()) : Float(low * Foundation.pow(high / low, Double(i) / Double(n - 1)))
        }
        shears = (0..<n).map { i in n == 1 ? 0 : -shearLimit + 2 * shearLimit * Float(i) / Float(n - 1) }
        var factors: [Float] = [], covariances: [Float] = []
        for l11 in scales {
            for l21 in shears {
                for l22 in scales {
                    factors += [l11, l21, l22]
                    covariances += [l11 * l11, l11 * l21, l21 * l21 + l22 * l22]
                }
            }
        }
        factors += [0, 0, 0]
        covariances += [0, 0, 0]
        self.factors = factors
        self.covariances = covariances
    }

    /// K, the number of entries (n³ + 1).
    public var count: Int { covariances.count / 3 }

    /// The entry closest to L = I: least (ln l11)² + l21² + (ln l22)².
    public var nearestIdentity: Int {
        (0..<(count - 1)).min { i, j in
            func distance(_ k: Int) -> Float {
                let (l11, l21, l22) = (factors[3 * k], factors[3 * k + 1], factors[3 * k + 2])
                return Foundation.log(l11) * Foundation.log(l11) + l21 * l21 + Foundation.log(l22) * Foundation.log(l22)
            }
            return distance(i) < distance(j)
        }!
    }
}

/// Conics [a, b, c] of the covariance mixtures Σ = Σ_k softmax(h W + b)_k D_k + ε I: hidden
/// features h (M, F_h), weight W (F_h, K) and bias b (K) → (M, 3). Differentiable in all three
/// (see the file header for the formulas).
public func dictionaryConics(hidden: Tensor, weight: Tensor, bias: Tensor, dictionary: CholeskyDictionary,
                             epsilon: Float) -> Tensor {
    let K = dictionary.count
    precondition(hidden.rank == 2 && weight.rank == 2 && weight.shape == [hidden.shape[1], K] && bias.shape == [K],
                 "dictionaryConics: hidden \(hidden.shape), weight \(weight.shape) and bias \(bias.shape) must be "
                 + "(M, F), (F, \(K)) and (\(K)) for a dictionary of \(K) entries")
    precondition(epsilon > 0, "dictionaryConics: epsilon \(epsilon) must be positive")
    let (M, F) = (hidden.shape[0], hidden.shape[1])
    let lanes = DictionaryLanes(dictionary)
    let rowsPerItem = 256
    let items = (M + rowsPerItem - 1) / rowsPerItem
    var conics = [Float](repeating: 0, count: 3 * M)
    hidden.scalars.withUnsafeBufferPointer { h in
        weight.scalars.withUnsafeBufferPointer { w in
            bias.scalars.withUnsafeBufferPointer { b in
                conics.withUnsafeMutableBufferPointer { out in
                    parallelItems(items) { item in
                        let scratch = lanes.scratch()
                        defer { scratch.deallocate() }
                        for row in (item * rowsPerItem)..<Swift.min(M, (item + 1) * rowsPerItem) {
                            // z = h W + b; a ReLU output's zeros are skipped.
                            let z = scratch.logits
                            for k in 0..<K { z[k] = b[k] }
                            for i in 0..<F {
                                let hi = h[row * F + i]
                                if hi == 0 { continue }
                                let wi = w.baseAddress! + i * K
                                for k in 0..<K { z[k] += hi * wi[k] }
                            }
                            let sums = lanes.mixture(scratch)
                            let sigma11 = sums.s11 / sums.total + epsilon, sigma12 = sums.s12 / sums.total
                            let sigma22 = sums.s22 / sums.total + epsilon
                            let determinant = sigma11 * sigma22 - sigma12 * sigma12
                            out[3 * row] = sigma22 / determinant
                            out[3 * row + 1] = -sigma12 / determinant
                            out[3 * row + 2] = sigma11 / determinant
                        }
                    }
                }
            }
        }
    }
    let savedConics = conics
    return Tensor.record("dictionaryConics", shape: [M, 3], scalars: conics, inputs: [hidden, weight, bias]) { gradient in
        let logits = hidden.matmul(weight) + bias  // (M, K), recomputed
        var dz = [Float](repeating: 0, count: M * K)
        logits.scalars.withUnsafeBufferPointer { z in
            savedConics.withUnsafeBufferPointer { q in
                gradient.scalars.withUnsafeBufferPointer { g in
                    dz.withUnsafeMutableBufferPointer { dZ in
                        parallelItems(items) { item in
                            let scratch = lanes.scratch()
                            defer { scratch.deallocate() }
                            for row in (item * rowsPerItem)..<Swift.min(M, (item + 1) * rowsPerItem) {
                                let (a, b, c) = (q[3 * row], q[3 * row + 1], q[3 * row + 2])
                                let (ga, gbHalf, gc) = (g[3 * row], 0.5 * g[3 * row + 1], g[3 * row + 2])
                                // T = Ḡ Q, M = Q T (symmetric).
                                let t00 = ga * a + gbHalf * b, t01 = ga * b + gbHalf * c
                                let t10 = gbHalf * a + gc * b, t11 = gbHalf * b + gc * c
                                let m00 = a * t00 + b * t10, m01 = a * t01 + b * t11, m11 = b * t01 + c * t11
                                scratch.logits.update(from: z.baseAddress! + row * K, count: K)
                                lanes.softmaxPullback(scratch, dSigma: (-m00, -2 * m01, -m11), into: dZ.baseAddress! + row * K)
                            }
                        }
                    }
                }
            }
        }
        let dLogits = Tensor(shape: [M, K], scalars: dz)
        return [
            hidden.requiresGrad ? dLogits.matmul(weight.transposed()) : nil,
            weight.requiresGrad ? hidden.transposed().matmul(dLogits) : nil,
            bias.requiresGrad ? dLogits.sum(alongAxes: [0]) : nil,
        ]
    }
}

/// 16 float lanes (Swift lowers lane-wise +, −, × of SIMD16<Float> to vector instructions).
typealias Lanes = SIMD16<Float>

/// One row's working memory: K logits and K exponentials, each padded to whole lanes.
private struct RowScratch {
    let logits: UnsafeMutablePointer<Float>
    /// Zero past K, so whole-lane sums see only the row's entries.
    let exponentials: UnsafeMutablePointer<Lanes>

    func deallocate() {
        logits.deallocate()
        exponentials.deallocate()
    }
}

/// The dictionary's covariance entries by column, in lanes (zero past K).
private struct DictionaryLanes {
    let count: Int
    let chunks: Int
    let sigma11: [Lanes], sigma12: [Lanes], sigma22: [Lanes]

    init(_ dictionary: CholeskyDictionary) {
        let (count, chunks) = (dictionary.count, (dictionary.count + Lanes.scalarCount - 1) / Lanes.scalarCount)
        (self.count, self.chunks) = (count, chunks)
        func lanes(_ column: Int) -> [Lanes] {
            (0..<chunks).map { chunk in
                var v = Lanes()
                for lane in 0..<Lanes.scalarCount where chunk * Lanes.scalarCount + lane < count {
                    v[lane] = dictionary.covariances[3 * (chunk * Lanes.scalarCount + lane) + column]
                }
                return v
            }
        }
        (sigma11, sigma12, sigma22) = (lanes(0), lanes(1), lanes(2))
    }

    func scratch() -> RowScratch {
        let exponentials = UnsafeMutablePointer<Lanes>.allocate(capacity: chunks)
        exponentials.initialize(repeating: Lanes(), count: chunks)
        return RowScratch(logits: .allocate(capacity: count), exponentials: exponentials)
    }

    /// Fills the scratch row's exponentials e_k = exp(z_k − max z) and returns Σ e_k and
    /// Σ e_k D_k (unnormalised).
    @inline(__always)
    func mixture(_ scratch: RowScratch) -> (total: Float, s11: Float, s12: Float, s22: Float) {
        let z = scratch.logits
        let largest = rowMaximum(z, count)
        scratch.exponentials.withMemoryRebound(to: Float.self, capacity: chunks * Lanes.scalarCount) { e in
            for k in 0..<count { e[k] = exponential(Swift.max(z[k] - largest, -87.3)) }
        }
        var total = Lanes(), s11 = Lanes(), s12 = Lanes(), s22 = Lanes()
        for chunk in 0..<chunks {
            let e = scratch.exponentials[chunk]
            total += e
            s11 += e * sigma11[chunk]
            s12 += e * sigma12[chunk]
            s22 += e * sigma22[chunk]
        }
        return (total.sum(), s11.sum(), s12.sum(), s22.sum())
    }

    /// ∂L/∂z_k = π_k (t_k − Σ_j π_j t_j) with t_k = ∂L/∂Σ · D_k, for the logits in the scratch row.
    @inline(__always)
    func softmaxPullback(_ scratch: RowScratch, dSigma: (Float, Float, Float), into dz: UnsafeMutablePointer<Float>) {
        let total = mixture(scratch).total
        let (g11, g12, g22) = dSigma
        var weighted = Lanes()  // Σ_j π_j t_j, by lanes
        for chunk in 0..<chunks {
            weighted += scratch.exponentials[chunk] * (g11 * sigma11[chunk] + g12 * sigma12[chunk] + g22 * sigma22[chunk])
        }
        let mean = weighted.sum() / total
        scratch.exponentials.withMemoryRebound(to: Float.self, capacity: chunks * Lanes.scalarCount) { e in
            sigma11.withUnsafeBufferPointer { d11 in
                sigma12.withUnsafeBufferPointer { d12 in
                    sigma22.withUnsafeBufferPointer { d22 in
                        d11.withMemoryRebound(to: Float.self) { d11 in
                            d12.withMemoryRebound(to: Float.self) { d12 in
                                d22.withMemoryRebound(to: Float.self) { d22 in
                                    let inverseTotal = 1 / total
                                    for k in 0..<count {
                                        dz[k] = e[k] * inverseTotal * (g11 * d11[k] + g12 * d12[k] + g22 * d22[k] - mean)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The largest of `count` floats (four running maxima, so the comparisons overlap).
@inline(__always)
private func rowMaximum(_ values: UnsafePointer<Float>, _ count: Int) -> Float {
    var m0 = values[0], m1 = values[0], m2 = values[0], m3 = values[0]
    var k = 0
    while k + 4 <= count {
        m0 = Swift.max(m0, values[k])
        m1 = Swift.max(m1, values[k + 1])
        m2 = Swift.max(m2, values[k + 2])
        m3 = Swift.max(m3, values[k + 3])
        k += 4
    }
    while k < count {
        m0 = Swift.max(m0, values[k])
        k += 1
    }
    return Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
}

/// eˣ without a library call, so loops of it vectorise: Cephes' expf. x = n·ln 2 + r with
/// n = round(x·log₂e) and |r| ≤ ½ ln 2; eʳ by its degree-6 polynomial; 2ⁿ built in the exponent
/// bits. Rounding to an integer adds and subtracts 1.5·2²³ (+ 127), which leaves n + 127 in the
/// low bits of the sum, ready to shift into the exponent field. Within 2 ulp of eˣ for x in
/// [−87.3, 88]; the caller keeps x in that range.
@inline(__always)
func exponential(_ x: Float) -> Float {
    let shifted = x * 1.44269504088896341 + (12_582_912 + 127)  // 1.5·2²³ + 127 + n, exactly
    let n = shifted - (12_582_912 + 127)
    let r = x - n * 0.693359375 + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    // The sum's bits are 0x4B400000 + n + 127, and 0x4B400000 << 23 overflows away: (n + 127) << 23 = 2ⁿ.
    return p * Float(bitPattern: shifted.bitPattern << 23)
}

/// `dictionaryConics` composed of tensor ops (matmul, softmax, arithmetic): the reference for tests.
func referenceDictionaryConics(hidden: Tensor, weight: Tensor, bias: Tensor, dictionary: CholeskyDictionary,
                               epsilon: Float) -> Tensor {
    let weights = (hidden.matmul(weight) + bias).softmax(alongAxis: 1)  // (M, K)
    let entries = Tensor(shape: [dictionary.count, 3], scalars: dictionary.covariances)
    let sigma = weights.matmul(entries) + Tensor([epsilon, 0, epsilon])  // (M, 3)
    let parts = sigma.split(sizes: [1, 1, 1], alongAxis: 1)
    let determinant = parts[0] * parts[2] - parts[1] * parts[1]
    return Tensor.concatenated([parts[2] / determinant, -parts[1] / determinant, parts[0] / determinant], alongAxis: 1)
}
