import CBLAS

// Matrix products over OpenBLAS's cblas_sgemm (row-major).
//
//   matmul          (M, K) · (K, N) → (M, N)
//   batched matmul  (B, M, K) · (B, K, N) → (B, M, N); a rank-2 operand is shared by every batch
//
// Pullbacks: dA = dC · Bᵀ, dB = Aᵀ · dC, computed by sgemm with transpose flags, never by
// materialising a transpose.

/// C (m×n, leading dimension n) = alpha · op(A) · op(B) + beta · C, all row-major and contiguous.
/// `op(A)` is m×k (A stored k×m when `transposeA`), `op(B)` is k×n (B stored n×k when `transposeB`).
@inline(__always)
func sgemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
    beta: Float = 0, _ c: UnsafeMutablePointer<Float>
) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS would leave C as beta · C; state it explicitly for clarity.
        for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
}

extension Tensor {
    /// Matrix product. Ranks: (M,K)·(K,N), (B,M,K)·(B,K,N), (B,M,K)·(K,N) or (M,K)·(B,K,N).
    public func matmul(_ other: Tensor) -> Tensor {
        Tensor.matmul(self, other)
    }

    static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition((a.rank == 2 || a.rank == 3) && (b.rank == 2 || b.rank == 3),
                     "matmul: needs rank 2 or 3 operands, got \(a.shape) and \(b.shape)")
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let n = b.shape[b.rank - 1]
        precondition(b.shape[b.rank - 2] == k, "matmul: inner extents differ in \(a.shape) · \(b.shape)")
        let batchA = a.rank == 3 ? a.shape[0] : 1, batchB = b.rank == 3 ? b.shape[0] : 1
        precondition(batchA == batchB || a.rank == 2 || b.rank == 2,
                     "matmul: batch extents differ in \(a.shape) · \(b.shape)")
        let batch = Swift.max(batchA, batchB)
        let outputShape = (a.rank == 3 || b.rank == 3) ? [batch, m, n] : [m, n]
        let output = batchedProduct(a.scalars, b.scalars, batch: batch, m: m, n: n, k: k,
                                    strideA: a.rank == 3 ? m * k : 0, strideB: b.rank == 3 ? k * n : 0)
        return record("matmul", shape: outputShape, scalars: output, inputs: [a, b]) { g in
            var gradA: Tensor?, gradB: Tensor?
            if a.requiresGrad {
                // dA[b] = dC[b] · B[b]ᵀ  (m×n · n×k); summed over batches when A is shared.
                let perBatch = batchedProduct(g.scalars, b.scalars, batch: batch, m: m, n: k, k: n,
                                              strideA: m * n, strideB: b.rank == 3 ? k * n : 0, transposeB: true)
                gradA = Tensor(shape: [batch, m, k], scalars: perBatch).reduced(toShape: a.shape)
            }
            if b.requiresGrad {
                // dB[b] = A[b]ᵀ · dC[b]  (k×m · m×n)
                let perBatch = batchedProduct(a.scalars, g.scalars, batch: batch, m: k, n: n, k: m,
                                              strideA: a.rank == 3 ? m * k : 0, strideB: m * n, transposeA: true)
                gradB = Tensor(shape: [batch, k, n], scalars: perBatch).reduced(toShape: b.shape)
            }
            return [gradA, gradB]
        }
    }

    /// `batch` independent products op(A_i) · op(B_i) of shape m×n; a stride of 0 reuses one operand.
    private static func batchedProduct(
        _ a: [Float], _ b: [Float], batch: Int, m: Int, n: Int, k: Int,
        strideA: Int, strideB: Int, transposeA: Bool = false, transposeB: Bool = false
    ) -> [Float] {
        [Float](unsafeUninitializedCapacity: batch * m * n) { out, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    for i in 0..<batch {
                        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              pa.baseAddress! + i * strideA, pb.baseAddress! + i * strideB,
                              out.baseAddress! + i * m * n)
                    }
                }
            }
            initialized = batch * m * n
        }
    }
}
