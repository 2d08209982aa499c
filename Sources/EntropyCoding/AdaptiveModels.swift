// Adaptive probability models for the range coder: integer frequency counts that encoder and
// decoder update identically after every symbol, so no table is sent.
//
// `AdaptiveFrequencyModel` (alphabets of 2…4096 symbols): every count starts at 1; a coded
// symbol's count grows by `increment` (24); when the total would pass 2¹⁶ every count is halved
// (rounding up, so none reaches 0). Recent symbols weigh more after each halving, which lets the
// model follow slowly drifting statistics; on a stationary source its cost over the empirical
// entropy is the estimation noise of about 2¹⁶ / 24 ≈ 2,700 recent symbols (tests: < 1 %).
//
// `AdaptiveIntegerModel` (unsigned integers up to 2³² − 1, e.g. gaps between sorted positions):
// Elias-gamma style, the bit length k of the value (0 for 0) from an adaptive model of 33
// symbols, then the bit below the leading one from an adaptive model per k (2 symbols) and the
// remaining k − 2 bits with equal probabilities.

/// Counts of an alphabet, adapted after each symbol.
public struct AdaptiveFrequencyModel {
    public static let increment: UInt32 = 24
    public static let maximumAlphabet = 4096
    public let alphabetSize: Int
    private var frequencies: [UInt32]
    private var total: UInt32

    public init(alphabetSize: Int) {
        precondition(alphabetSize >= 2 && alphabetSize <= Self.maximumAlphabet,
                     "AdaptiveFrequencyModel: alphabet size \(alphabetSize) must be in 2...\(Self.maximumAlphabet)")
        self.alphabetSize = alphabetSize
        frequencies = [UInt32](repeating: 1, count: alphabetSize)
        total = UInt32(alphabetSize)
    }

    /// Codes `symbol` (< alphabetSize) and adapts.
    public mutating func encode(_ symbol: Int, with encoder: inout RangeEncoder) {
        precondition(symbol >= 0 && symbol < alphabetSize, "AdaptiveFrequencyModel: symbol \(symbol) outside 0..<\(alphabetSize)")
        var cumulative: UInt32 = 0
        for s in 0..<symbol { cumulative += frequencies[s] }
        encoder.encode(cumulative: cumulative, frequency: frequencies[symbol], total: total)
        update(symbol)
    }

    /// Decodes a symbol (always < alphabetSize, whatever the bytes) and adapts.
    public mutating func decode(with decoder: inout RangeDecoder) -> Int {
        let target = decoder.decodeTarget(total: total)
        var cumulative: UInt32 = 0, symbol = 0
        while symbol < alphabetSize - 1 && cumulative + frequencies[symbol] <= target {
            cumulative += frequencies[symbol]
            symbol += 1
        }
        decoder.consume(cumulative: cumulative, frequency: frequencies[symbol])
        update(symbol)
        return symbol
    }

    private mutating func update(_ symbol: Int) {
        frequencies[symbol] += Self.increment
        total += Self.increment
        if total > rangeCoderMaximumTotal {
            total = 0
            for s in 0..<alphabetSize {
                frequencies[s] = (frequencies[s] + 1) / 2
                total += frequencies[s]
            }
        }
    }
}

/// Unsigned integers by bit length (adaptive), the next bit (adaptive per length) and raw bits.
public struct AdaptiveIntegerModel {
    private var lengths = AdaptiveFrequencyModel(alphabetSize: 33)
    private var secondBits = [AdaptiveFrequencyModel](repeating: AdaptiveFrequencyModel(alphabetSize: 2), count: 33)

    public init() {}

    public mutating func encode(_ value: UInt32, with encoder: inout RangeEncoder) {
        let length = value == 0 ? 0 : 32 - value.leadingZeroBitCount
        lengths.encode(length, with: &encoder)
        guard length >= 2 else { return }
        secondBits[length].encode(Int(value >> UInt32(length - 2)) & 1, with: &encoder)
        encoder.encodeBits(value, count: length - 2)
    }

    public mutating func decode(with decoder: inout RangeDecoder) -> UInt32 {
        let length = lengths.decode(with: &decoder)
        guard length >= 2 else { return UInt32(length) }
        let second = UInt32(secondBits[length].decode(with: &decoder))
        let rest = decoder.decodeBits(count: length - 2)
        let leading: UInt32 = 1 << UInt32(length - 1)
        return leading | second << UInt32(length - 2) | rest
    }
}

/// Signed integers as unsigned ones, small magnitudes first: 0, −1, 1, −2, 2, … → 0, 1, 2, 3, 4, …
public func zigZagEncoded(_ value: Int32) -> UInt32 {
    UInt32(bitPattern: (value << 1) ^ (value >> 31))
}

/// The inverse of `zigZagEncoded`.
public func zigZagDecoded(_ value: UInt32) -> Int32 {
    Int32(bitPattern: value >> 1) ^ -Int32(bitPattern: value & 1)
}
