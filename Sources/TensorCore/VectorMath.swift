import CSystem
// e^x and e^x − 1 written without branches or library calls, so that an element-wise loop
// calling them is vectorised by the compiler (ELU's scalar libm expm1 was an eighth of a VAE
// training step; this form runs 2.4× faster, ELU's non-positive variant 4×, on the baseline
// x86-64 target).
//
// Every step is a float add, multiply, compare-and-select or an integer bit operation: the
// loops of Kernels.swift (`mapScalars`, …) compile to SSE instructions over 4 lanes (checked
// in the disassembly: mulps, pslld, paddd; no call). Swift's SIMD16 types were tried first:
// their generic lane-wise operations (clamped, replacing(with:where:)) compiled to per-lane
// loops through the stack and ran slower than libm.
//
//   range reduction   x = n·ln2 + r,  n = round(x / ln2),  |r| ≤ ln2/2
//                     n by adding 1.5·2²³ (the sum's low mantissa bits hold n, ties to even);
//                     r = (x − n·C1) − n·C2 with ln2 = C1 + C2 (Cody–Waite): C1 has 9
//                     significant bits, so x − n·C1 is exact; the rounding error of the
//                     second subtraction is recovered (Fast2Sum) and carried as a correction
//   e^r − 1           r + tail, tail = r²·q(r) + correction·(1 + r), with q the Taylor series
//                     to degree 8 divided by r²: truncation error r⁸/9! ≤ 6e-10 relative
//   2^n               from exponent bits, as 2^n1 · 2^n2 (n1 = ⌊n/2⌋, n2 = n − n1), so results
//                     near the overflow threshold and in the subnormal range need no special case
//
//   e^x     = 2^n · (1 + (r + tail))
//   e^x − 1 = 2^n · (r + tail) + (2^n − 1)   for n ≤ 24, where 2^n − 1 is exact; n = 0 gives
//             r + tail itself, so small |x| keeps full relative accuracy (no cancellation),
//             and n ≤ −25 gives −1 + (below half an ulp), i.e. exactly −1 for x ≤ −17.4
//           = e^x − 1                        for n > 24, where the −1 is below an ulp
//
// Inputs are clamped to [−110, 89] first (e^−110 underflows to 0, e^89 overflows to +∞), so
// ±∞ and large inputs give 0 or −1 and +∞; NaN passes the clamp and stays NaN.
// Measured against Double libm over dense grids (Tests/TensorCoreTests/VectorMathTests):
// e^x within 7e-8 relative on [−87, 88]; e^x − 1 within 7.4e-8 absolute on [−1, 1] (glibc's
// expm1f: 9.0e-8) and within 1.1e-7 relative on [−100, 88]. ELU's variant for x ≤ 0 runs
// about 1.8× faster again than the general e^x − 1 (no overflow case, one summation order).

/// Exponential functions in branch-free form, for loops the compiler vectorises.
public enum VectorMath {
    /// The high part of ln 2 (9 significant bits, so products with small integers are exact).
    @usableFromInline static let ln2High: Float = 0.693359375
    /// ln 2 − `ln2High`.
    @usableFromInline static let ln2Low: Float = -2.12194440e-4
    /// 1.5·2²³: adding it to a float of magnitude below 2²² rounds it to an integer held in
    /// the low mantissa bits.
    @usableFromInline static let roundingShift: Float = 12_582_912

    /// e^x.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let reduced = reduce(x, highest: 89)
        return (1 + (reduced.remainder + reduced.tail)) * reduced.scaleLow * reduced.scaleHigh
    }

    /// e^x − 1, accurate near 0.
    @inline(__always)
    static func expm1(_ x: Float) -> Float {
        let reduced = reduce(x, highest: 89)
        let scale = reduced.scaleLow * reduced.scaleHigh  // 2^n, exact while n ≥ −149
        // 2^n·(r + tail) + (2^n − 1), summed in the order that rounds least: for n > 0 the
        // large terms 2^n·r and 2^n − 1 first (else e^r − 1's rounding error is scaled by 2^n);
        // for n ≤ 0, e^r − 1 first (its rounding error is then scaled down).
        let moderate = reduced.exponent > 0
            ? (scale * reduced.remainder + (scale - 1)) + scale * reduced.tail
            : scale * (reduced.remainder + reduced.tail) + (scale - 1)
        let large = (1 + (reduced.remainder + reduced.tail)) * reduced.scaleLow * reduced.scaleHigh - 1
        return reduced.exponent > 24 ? large : moderate
    }

    /// e^min(x, 0) − 1: `expm1` for inputs known to be ≤ 0 (ELU's negative side), where n ≤ 0
    /// leaves one summation order and no overflow case (a quarter fewer instructions).
    @inline(__always)
    static func expm1OfNonPositive(_ x: Float) -> Float {
        let reduced = reduce(x, highest: 0)
        let scale = reduced.scaleLow * reduced.scaleHigh  // 2^n, exact while n ≥ −149
        return scale * (reduced.remainder + reduced.tail) + (scale - 1)
    }

    /// x = n·ln2 + r with e^r − 1 = r + tail, n, and 2^n as two factors 2^n1 · 2^n2, for x
    /// clamped to [−110, `highest`]. NaN passes the clamp and propagates through the arithmetic.
    @inlinable @inline(__always)
    static func reduce(_ x: Float, highest: Float)
        -> (remainder: Float, tail: Float, exponent: Int32, scaleLow: Float, scaleHigh: Float) {
        let atLeastLowest: Float = x < -110 ? -110 : x
        let clamped: Float = atLeastLowest > highest ? highest : atLeastLowest
        let shifted = clamped * 1.44269504088896341 + roundingShift  // x / ln2 + 1.5·2²³
        let n = Int32(bitPattern: shifted.bitPattern) &- Int32(bitPattern: roundingShift.bitPattern)
        let nFloat = shifted - roundingShift
        let high = clamped - nFloat * ln2High  // exact
        let low = nFloat * ln2Low
        let r = high - low
        let rError = (high - r) - low  // r + rError = high − low exactly (Fast2Sum, |high| ≥ |low|)
        // e^(r + rError) − 1 ≈ r + r²·q(r) + rError·(1 + r)
        let tail = (r * r) * expm1PolynomialQuotient(r) + rError * (1 + r)
        let nLow = n &>> 1, nHigh = n &- nLow
        return (r, tail, n, powerOfTwo(nLow), powerOfTwo(nHigh))
    }

    /// q(r) with e^r − 1 = r + r²·q(r) for |r| ≤ ln2/2: the Taylor series to degree 8, Horner form.
    @inlinable @inline(__always)
    static func expm1PolynomialQuotient(_ r: Float) -> Float {
        var q: Float = 1.0 / 40320
        q = q * r + 1.0 / 5040
        q = q * r + 1.0 / 720
        q = q * r + 1.0 / 120
        q = q * r + 1.0 / 24
        q = q * r + 1.0 / 6
        return q * r + 0.5
    }

    /// 2^k for an integer k in [−126, 127], from its exponent bits.
    @inlinable @inline(__always)
    static func powerOfTwo(_ k: Int32) -> Float {
        Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
    }
}

extension VectorMath {
    /// The lane-wise square root of eight floats, correctly rounded like sqrtf, as one vector
    /// instruction (sqrtps): Swift's SIMD8.squareRoot() calls sqrtf once per lane (glibc's sqrtf
    /// may set errno). The one door to CSystem's vector square root for other modules.
    @inline(__always)
    public static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
        splatkit_square_root8(x)
    }
}
