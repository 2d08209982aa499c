// A byte-oriented range coder (arithmetic coding with 32-bit range, carry propagation as in
// LZMA's coder): symbols are coded from integer frequencies, so the encoder and the decoder do
// the same integer arithmetic on every machine and agree bit for bit.
//
// A symbol s of an alphabet is coded as its interval [cumulative, cumulative + frequency) out of
// `total` (total ≤ 2¹⁶, every frequency ≥ 1). With r = ⌊range / total⌋:
//   encoder   low += r · cumulative;  range = r · frequency
//   decoder   target = min(⌊code / r⌋, total − 1);  find s;  code −= r · cumulative;  range = r · frequency
// and both renormalise while range < 2²⁴ by shifting a byte (range stays in [2²⁴, 2³²), so r ≥ 2⁸
// and the truncation of r costs at most log2(1 + 2⁻⁸) ≈ 0.006 bits a symbol).
// The encoder's `low` is 33 bits wide: a carry out of bit 32 is added to the bytes not yet
// written (one `cache` byte and a run of 0xFF bytes). The stream starts with a zero byte and
// `finish()` flushes the low register and every byte held back; the decoder reads 5 bytes to
// start, so it never needs a byte past the end of a stream it decodes in full.
//
// The decoder trusts nothing: reading past the end supplies zero bytes and counts them
// (`overrunBytes`), and every decoded symbol lies inside its alphabet whatever the bytes, so a
// damaged stream decodes to wrong but valid symbols and never traps; callers check the overrun
// and the container's checksum.

/// The largest `total` a coded distribution may have.
public let rangeCoderMaximumTotal: UInt32 = 1 << 16

private let renormalisationBound: UInt32 = 1 << 24

/// Writes symbols into bytes.
public struct RangeEncoder {
    private var low: UInt64 = 0
    private var range: UInt32 = 0xFFFF_FFFF
    private var cache: UInt8 = 0
    private var pendingBytes = 1  // the cache byte, then pendingBytes − 1 bytes of 0xFF
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Codes the interval [cumulative, cumulative + frequency) of `total`.
    public mutating func encode(cumulative: UInt32, frequency: UInt32, total: UInt32) {
        precondition(total >= 1 && total <= rangeCoderMaximumTotal && frequency >= 1 && cumulative + frequency <= total,
                     "RangeEncoder: interval [\(cumulative), \(cumulative + frequency)) of \(total) is invalid")
        let r = range / total
        low += UInt64(r) * UInt64(cumulative)
        range = r * frequency
        while range < renormalisationBound {
            range <<= 8
            shiftLow()
        }
    }

    /// Codes the low `count` bits of `value` (count ≤ 32) with equal probabilities, high bits first.
    public mutating func encodeBits(_ value: UInt32, count: Int) {
        precondition(count >= 0 && count <= 32, "RangeEncoder.encodeBits: count \(count) must be in 0...32")
        var remaining = count
        while remaining > 0 {
            let chunk = Swift.min(remaining, 16)
            remaining -= chunk
            let part = (value >> UInt32(remaining)) & ((1 << UInt32(chunk)) - 1)
            encode(cumulative: part, frequency: 1, total: 1 << UInt32(chunk))
        }
    }

    /// Flushes the coder and returns every byte written (the decoder reads all but the last).
    public mutating func finish() -> [UInt8] {
        for _ in 0..<5 { shiftLow() }
        bytes.append(cache)
        bytes += [UInt8](repeating: 0xFF, count: pendingBytes - 1)
        pendingBytes = 0
        return bytes
    }

    private mutating func shiftLow() {
        if low < 0xFF00_0000 || low >= 0x1_0000_0000 {
            let carry = UInt8(truncatingIfNeeded: low >> 32)
            var byte = cache
            while pendingBytes > 0 {
                bytes.append(byte &+ carry)
                byte = 0xFF
                pendingBytes -= 1
            }
            cache = UInt8(truncatingIfNeeded: low >> 24)
        }
        pendingBytes += 1
        low = (low & 0x00FF_FFFF) << 8
    }
}

/// Reads symbols from bytes written by `RangeEncoder`.
public struct RangeDecoder {
    private let bytes: [UInt8]
    private var position: Int
    private var code: UInt32 = 0
    private var range: UInt32 = 0xFFFF_FFFF
    private var scaledRange: UInt32 = 1  // r of the symbol being decoded
    /// Bytes read past the end of the input (zeros were supplied): a valid stream has none.
    public private(set) var overrunBytes = 0

    /// Starts decoding `bytes[start...]`.
    public init(bytes: [UInt8], start: Int = 0) {
        self.bytes = bytes
        position = Swift.max(0, start)
        for _ in 0..<5 { code = code << 8 | UInt32(nextByte()) }
    }

    /// The position of `total` the next symbol's interval contains (< total); call `consume`
    /// with that symbol's interval next.
    public mutating func decodeTarget(total: UInt32) -> UInt32 {
        precondition(total >= 1 && total <= rangeCoderMaximumTotal, "RangeDecoder: total \(total) is invalid")
        scaledRange = range / total
        return Swift.min(code / scaledRange, total - 1)
    }

    /// Removes the decoded symbol's interval [cumulative, cumulative + frequency), which must
    /// contain the target `decodeTarget` returned.
    public mutating func consume(cumulative: UInt32, frequency: UInt32) {
        code &-= scaledRange &* cumulative
        range = scaledRange &* frequency
        while range < renormalisationBound {
            code = code << 8 | UInt32(nextByte())
            range <<= 8
        }
    }

    /// Reads `count` bits (≤ 32) written by `encodeBits`.
    public mutating func decodeBits(count: Int) -> UInt32 {
        precondition(count >= 0 && count <= 32, "RangeDecoder.decodeBits: count \(count) must be in 0...32")
        var value: UInt32 = 0, remaining = count
        while remaining > 0 {
            let chunk = Swift.min(remaining, 16)
            remaining -= chunk
            let part = decodeTarget(total: 1 << UInt32(chunk))
            consume(cumulative: part, frequency: 1)
            value = value << UInt32(chunk) | part
        }
        return value
    }

    private mutating func nextByte() -> UInt8 {
        guard position < bytes.count else {
            overrunBytes += 1
            return 0
        }
        defer { position += 1 }
        return bytes[position]
    }
}
