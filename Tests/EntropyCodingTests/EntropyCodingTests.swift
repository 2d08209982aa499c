import TensorCore
import XCTest
@testable import EntropyCoding

/// Draws for the tests from TensorCore's seeded generator.
private struct TestRandom {
    var generator: RandomGenerator
    init(state: UInt64) { generator = RandomGenerator(seed: state) }
    mutating func next() -> UInt64 { generator.next() }
    /// Uniform in [0, 1) with 53 bits.
    mutating func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { generator.nextInt(below: n) }
    /// A symbol drawn from `probabilities` (summing to 1).
    mutating func draw(_ probabilities: [Double]) -> Int {
        var u = uniform()
        for (symbol, p) in probabilities.enumerated() {
            if u < p { return symbol }
            u -= p
        }
        return probabilities.count - 1
    }
}

/// The empirical entropy of `symbols` in bits: Σ −count·log2(count / n).
private func empiricalEntropyBits(_ symbols: [Int]) -> Double {
    var counts: [Int: Int] = [:]
    for s in symbols { counts[s, default: 0] += 1 }
    let n = Double(symbols.count)
    return counts.values.reduce(0) { $0 - Double($1) * log2(Double($1) / n) }
}

final class EntropyCodingTests: XCTestCase {
    func testCRC32MatchesTheStandardCheckValue() {
        XCTAssertEqual(crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(crc32([UInt8]()), 0)
        XCTAssertEqual(crc32([0]), 0xD202_EF8D)  // zlib.crc32(b"\0")
    }

    func testCRC32ContinuesAcrossPieces() {
        let bytes = Array("123456789".utf8)
        for split in 0...bytes.count {
            XCTAssertEqual(crc32(bytes[split...], continuing: crc32(bytes[..<split])), 0xCBF4_3926, "split at \(split)")
        }
    }

    /// The eight-byte path over contiguous memory (any length, any start) gives the byte-by-byte
    /// path's CRC (a lazy sequence has no contiguous storage), and a known long value.
    func testCRC32SlicedPathMatchesTheBytewisePath() {
        var random = TestRandom(state: 7)
        let bytes = (0..<300).map { _ in UInt8(random.below(256)) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 7) {
                let piece = bytes[start..<end]
                XCTAssertEqual(crc32(piece, continuing: 0x1234_5678), crc32(piece.lazy.map { $0 }, continuing: 0x1234_5678),
                               "bytes \(start)..<\(end)")
            }
        }
        XCTAssertEqual(crc32([UInt8](repeating: 0xAB, count: 1_000_000)), 0xDB67_E0FB)  // zlib.crc32(b"\xab" * 10**6)
    }

    func testStaticIntervalsRoundTripExactly() {
        var random = TestRandom(state: 1)
        // Random tables (totals up to 2¹⁶), symbols drawn from them, interleaved with raw bits.
        let tables: [[UInt32]] = (0..<5).map { t in
            (0..<(2 + random.below(200))).map { _ in UInt32(1 + random.below(t == 0 ? 3 : 300)) }
        }
        var script: [(table: Int, symbol: Int, bits: UInt32, count: Int)] = []
        for _ in 0..<20_000 {
            let table = random.below(tables.count)
            let count = random.below(33)
            let bits = UInt32(truncatingIfNeeded: random.next()) & (count == 32 ? .max : (1 << UInt32(count)) - 1)
            script.append((table, random.below(tables[table].count), bits, count))
        }
        var encoder = RangeEncoder()
        for step in script {
            let frequencies = tables[step.table]
            let cumulative = frequencies[..<step.symbol].reduce(0, +)
            encoder.encode(cumulative: cumulative, frequency: frequencies[step.symbol], total: frequencies.reduce(0, +))
            encoder.encodeBits(step.bits, count: step.count)
        }
        let bytes = encoder.finish()
        var decoder = RangeDecoder(bytes: bytes)
        for step in script {
            let frequencies = tables[step.table]
            let target = decoder.decodeTarget(total: frequencies.reduce(0, +))
            var symbol = 0, cumulative: UInt32 = 0
            while cumulative + frequencies[symbol] <= target { cumulative += frequencies[symbol]; symbol += 1 }
            decoder.consume(cumulative: cumulative, frequency: frequencies[symbol])
            XCTAssertEqual(symbol, step.symbol)
            XCTAssertEqual(decoder.decodeBits(count: step.count), step.bits)
        }
        XCTAssertEqual(decoder.overrunBytes, 0, "a whole valid stream is decoded without reading past its end")
    }

    func testCarriesPropagateThroughRunsOfFFBytes() {
        // Symbols at the top of nearly full intervals push low toward 2³², forcing carries.
        var encoder = RangeEncoder()
        let script = (0..<5_000).map { $0 % 7 == 0 ? 0 : 65_534 }
        for symbol in script { encoder.encode(cumulative: UInt32(symbol), frequency: 1, total: 65_535) }
        let bytes = encoder.finish()
        XCTAssertTrue(bytes.contains(0xFF))
        var decoder = RangeDecoder(bytes: bytes)
        for symbol in script {
            let target = decoder.decodeTarget(total: 65_535)
            XCTAssertEqual(Int(target), symbol)
            decoder.consume(cumulative: target, frequency: 1)
        }
    }

    func testAdaptiveModelsRoundTripInterleaved() {
        var random = TestRandom(state: 2)
        var small = AdaptiveFrequencyModel(alphabetSize: 2), large = AdaptiveFrequencyModel(alphabetSize: 4096)
        var integers = AdaptiveIntegerModel()
        let values: [UInt32] = [0, 1, 2, 3, 4, 255, 256, 65_535, 65_536, 1 << 31, .max]
            + (0..<3_000).map { _ in UInt32(truncatingIfNeeded: random.next() >> UInt64(random.below(64))) }
        let script = values.map { ($0, random.below(2), random.below(4096)) }
        var encoder = RangeEncoder()
        for (value, bit, symbol) in script {
            integers.encode(value, with: &encoder)
            small.encode(bit, with: &encoder)
            large.encode(symbol, with: &encoder)
        }
        let bytes = encoder.finish()
        small = AdaptiveFrequencyModel(alphabetSize: 2); large = AdaptiveFrequencyModel(alphabetSize: 4096)
        integers = AdaptiveIntegerModel()
        var decoder = RangeDecoder(bytes: bytes)
        for (value, bit, symbol) in script {
            XCTAssertEqual(integers.decode(with: &decoder), value)
            XCTAssertEqual(small.decode(with: &decoder), bit)
            XCTAssertEqual(large.decode(with: &decoder), symbol)
        }
        XCTAssertEqual(decoder.overrunBytes, 0)
    }

    /// On stationary synthetic sources the coded size is within 1 % of the empirical entropy.
    func testRateIsWithinOnePercentOfTheEmpiricalEntropy() {
        var random = TestRandom(state: 3)
        let geometric = (0..<16).map { 0.3 * pow(0.7, Double($0)) }
        let skewed = [0.9, 0.05, 0.03, 0.02]
        let wide = (0..<64).map { 1.0 / (1.0 + Double($0)) }
        let sum = wide.reduce(0, +)
        for (name, probabilities) in [("geometric16", geometric.map { $0 / geometric.reduce(0, +) }), ("skewed4", skewed),
                                      ("harmonic64", wide.map { $0 / sum })] {
            let symbols = (0..<200_000).map { _ in random.draw(probabilities) }
            var model = AdaptiveFrequencyModel(alphabetSize: probabilities.count)
            var encoder = RangeEncoder()
            for s in symbols { model.encode(s, with: &encoder) }
            let codedBits = Double(encoder.finish().count * 8)
            let entropy = empiricalEntropyBits(symbols)
            print("EntropyCodingTests \(name): \(Int(codedBits)) bits coded, empirical entropy \(Int(entropy)) bits, "
                  + "overhead \(String(format: "%.3f", (codedBits / entropy - 1) * 100)) %")
            XCTAssertLessThan(codedBits, entropy * 1.01, name)
        }
        // Integers: geometric gaps as between sorted positions, against their own empirical entropy.
        let gaps = (0..<100_000).map { _ in Int(-log(1 - random.uniform()) * 40) }
        var model = AdaptiveIntegerModel(), encoder = RangeEncoder()
        for gap in gaps { model.encode(UInt32(gap), with: &encoder) }
        let codedBits = Double(encoder.finish().count * 8), entropy = empiricalEntropyBits(gaps)
        print("EntropyCodingTests exponential gaps: overhead \(String(format: "%.3f", (codedBits / entropy - 1) * 100)) %")
        XCTAssertLessThan(codedBits, entropy * 1.03, "integer gaps (raw low bits) within 3 % of their entropy")
    }

    func testDamagedStreamsDecodeToValidSymbolsWithoutTrapping() {
        var random = TestRandom(state: 4)
        for trial in 0..<200 {
            let bytes = (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var decoder = RangeDecoder(bytes: bytes)
            var model = AdaptiveFrequencyModel(alphabetSize: 2 + trial % 50), integers = AdaptiveIntegerModel()
            for _ in 0..<100 {
                let symbol = model.decode(with: &decoder)
                XCTAssertTrue(symbol >= 0 && symbol < model.alphabetSize)
                _ = integers.decode(with: &decoder)
            }
            if bytes.count < 30 { XCTAssertGreaterThan(decoder.overrunBytes, 0, "reading past the end is counted") }
        }
    }

    func testZigZagRoundTrips() {
        for value: Int32 in [0, -1, 1, -2, 2, .min, .max, 12_345, -12_345] {
            XCTAssertEqual(zigZagDecoded(zigZagEncoded(value)), value)
        }
        XCTAssertEqual([0, -1, 1, -2, 2].map { zigZagEncoded(Int32($0)) }, [0, 1, 2, 3, 4])
    }
}
