import EntropyCoding

// Quantised latents as range-coded bytes, each value coded with one row ("table") of a
// `FactorizedCodeTables`: a factorised prior's channel, or a Gaussian conditional's scale.
//
//   values     Int32, in the order given (for latents: item-major, item 0's L values first)
//   table      which row codes each value: a factorised prior's position % L, a hyperprior's
//              scale index of that latent (ScaleHyperprior)
//   symbol     the value's support index in its table, or the escape
//   escape     followed by the value's zig-zag code z (UInt32) as an Elias-gamma number in bypass
//              bits: 6 bits of L − 1, L = bit length of z + 1, then the low L − 1 bits of z + 1
//
// A stream may hold several segments coded one after the other with one range coder (a
// hyperprior's side latents, then the latents their scales depend on): `encode(_:tables:rows:into:)`
// and `decode(count:tables:rows:from:)` code one segment. The byte count is not stored here: the
// container that holds the stream records it. Decoding checks what it reads (a symbol the tables
// cannot produce cannot arise: every target falls in some symbol's interval), and reading past
// the end is an error, so a truncated or corrupted stream is a `LatentCodingError`, never a crash.

/// Writes and reads quantised latents with `FactorizedCodeTables`.
public enum LatentStream {
    /// The bytes of `values` (B × C, item-major) coded with `tables` (C rows, one a channel).
    public static func encode(_ values: [Int32], tables: FactorizedCodeTables) -> [UInt8] {
        let channels = tables.channels
        precondition(values.count % channels == 0, "LatentStream.encode: \(values.count) values are not items of \(channels) channels")
        var encoder = RangeEncoder()
        encode(values, tables: tables, rows: { $0 % channels }, into: &encoder)
        return encoder.finish()
    }

    /// The `items` × C values of `bytes`, which `encode` wrote with the same tables.
    public static func decode(_ bytes: [UInt8], items: Int, tables: FactorizedCodeTables) throws -> [Int32] {
        let channels = tables.channels
        guard items >= 0, items <= Int(Int32.max) / channels else {
            throw LatentCodingError.corruptStream("\(items) items of \(channels) channels is not a valid count")
        }
        var decoder = RangeDecoder(bytes: bytes)
        return try decode(count: items * channels, tables: tables, rows: { $0 % channels }, from: &decoder)
    }

    /// Codes one segment: value i with row `rows(i)` of `tables` (each in 0..<tables.channels).
    public static func encode(_ values: [Int32], tables: FactorizedCodeTables, rows: (Int) -> Int, into encoder: inout RangeEncoder) {
        for (position, value) in values.enumerated() {
            let row = rows(position)
            let symbol = tables.symbol(of: value, channel: row)
            encoder.encode(cumulative: tables.cumulative[row][symbol], frequency: tables.frequencies[row][symbol],
                           total: FactorizedCodeTables.total)
            if symbol == tables.frequencies[row].count - 1 {
                let code = UInt64(zigZagEncoded(value)) + 1  // 1...2^32
                let length = 64 - code.leadingZeroBitCount
                encoder.encodeBits(UInt32(length - 1), count: 6)
                if length > 1 { encoder.encodeBits(UInt32(truncatingIfNeeded: code), count: length - 1) }
            }
        }
    }

    /// Reads one segment of `count` values that `encode(_:tables:rows:into:)` wrote with the same
    /// tables and rows. `rows` may depend on values already read in earlier segments, never this one.
    public static func decode(count: Int, tables: FactorizedCodeTables, rows: (Int) -> Int,
                              from decoder: inout RangeDecoder) throws -> [Int32] {
        // The container bounds `count`; the reservation is bounded whatever it says.
        var values: [Int32] = []
        values.reserveCapacity(Swift.min(Swift.max(count, 0), 1 << 20))
        for position in 0..<Swift.max(count, 0) {
            let row = rows(position)
            let cumulative = tables.cumulative[row]
            let target = decoder.decodeTarget(total: FactorizedCodeTables.total)
            // The symbol whose interval holds the target: the last cumulative ≤ target.
            var low = 0, high = cumulative.count - 2
            while low < high {
                let middle = (low + high + 1) / 2
                if cumulative[middle] <= target { low = middle } else { high = middle - 1 }
            }
            decoder.consume(cumulative: cumulative[low], frequency: tables.frequencies[row][low])
            if low == tables.frequencies[row].count - 1 {
                let length = Int(decoder.decodeBits(count: 6)) + 1
                guard length <= 33 else { throw LatentCodingError.corruptStream("an escaped value has \(length) bits") }
                var code = UInt64(1) << UInt64(length - 1)
                if length > 1 { code |= UInt64(decoder.decodeBits(count: Swift.min(length - 1, 32))) }
                guard code - 1 <= UInt64(UInt32.max) else { throw LatentCodingError.corruptStream("an escaped value is out of range") }
                values.append(zigZagDecoded(UInt32(code - 1)))
            } else {
                values.append(tables.offsets[row] + Int32(low))
            }
            if decoder.overrunBytes > 0 {
                throw LatentCodingError.corruptStream("the stream ends after \(position) of \(count) values")
            }
        }
        return values
    }
}
