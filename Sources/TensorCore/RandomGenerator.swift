import Foundation

// A seeded pseudo-random generator whose stream depends only on the seed: the same seed gives
// the same numbers on every run and machine (no platform generator is involved).
//
// Algorithm: xoshiro256** (Blackman & Vigna) for 64-bit outputs, its 256-bit state expanded
// from the seed with SplitMix64. Floats take the top 24 bits; normals use Box–Muller in Double.

/// Deterministic random numbers for initialisation, dropout, shuffling and sampling.
public struct RandomGenerator: RandomNumberGenerator, Equatable, Sendable {
    // xoshiro256**'s four state words, as stored properties rather than an array, so that a
    // loop of draws keeps them in registers.
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A second normal from the last Box–Muller pair, served before drawing new numbers.
    public var spareNormal: Float?

    /// The full generator state (four words): saving and restoring it resumes the stream exactly.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3] }
        set {
            precondition(newValue.count == 4, "RandomGenerator: state needs 4 words, got \(newValue.count)")
            (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    public init(seed: UInt64) {
        var mixer = seed
        s0 = RandomGenerator.splitMix64(&mixer)
        s1 = RandomGenerator.splitMix64(&mixer)
        s2 = RandomGenerator.splitMix64(&mixer)
        s3 = RandomGenerator.splitMix64(&mixer)
        spareNormal = nil
    }

    /// Restores a generator from a saved `state` (four words) and optional spare normal.
    public init(state: [UInt64], spareNormal: Float? = nil) {
        (s0, s1, s2, s3) = (0, 0, 0, 0)
        self.state = state
        self.spareNormal = spareNormal
    }

    private static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = RandomGenerator.rotateLeft(s3, 45)
        return result
    }

    /// A uniform float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform integer in `0..<upperBound` (unbiased, by rejection).
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt: upper bound must be positive")
        let bound = UInt64(upperBound)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }

    /// A standard normal sample (Box–Muller; the pair's second value is kept for the next call).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // u1 in (0, 1] so the logarithm is finite.
        let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = Float(radius * Foundation.sin(angle))
        return Float(radius * Foundation.cos(angle))
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        if count < 2 { return values }
        for i in stride(from: count - 1, to: 0, by: -1) {
            values.swapAt(i, nextInt(below: i + 1))
        }
        return values
    }
}
