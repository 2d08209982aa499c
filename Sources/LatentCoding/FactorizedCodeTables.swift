import Foundation
import TensorCore

// The integer code tables of a factorised prior: what the range coder needs to write and read
// quantised latents, made once from the trained density and stored beside the model, so that
// encoder and decoder use the same integers on any machine (the density's float evaluation may
// differ in its last bits across CPUs and libm versions; integers read from a file cannot).
//
// Per channel:
//   support    the integer values [offset, offset + count) that hold all but `tailMass` of the
//              density (bisection on the monotone logits l(x) for l = logit(tailMass / 2) and
//              logit(1 − tailMass / 2)), at most `maximumSupport` values
//   symbols    count + 1: the support's values, then an escape for values outside it
//   frequency  of symbol i: 1 + ⌊p_i · (T − n)⌋, T = 2^precision, n = count + 1, p_i the bin's
//              mass c(v + ½) − c(v − ½) (escape: 1 − Σ p); the T − Σ left over goes one each to
//              the symbols of largest remainder (ties: lower index). Every symbol can be coded,
//              and the sum is exactly T.
// An escaped value is written after its escape as bypass bits (LatentStream.swift).

/// The range coder's tables of a factorised prior (see the file's comment).
public struct FactorizedCodeTables: Equatable, Sendable {
    /// Bits of the frequency total: frequencies sum to 2^16.
    public static let precision = 16
    public static let total = UInt32(1) << UInt32(precision)
    /// The most support values a channel may have (so every symbol keeps a frequency ≥ 1 and
    /// the tables stay small).
    public static let maximumSupport = 4095
    /// The probability mass left outside a channel's support (coded through the escape).
    public static let tailMass = 1e-6

    /// The lowest value of each channel's support.
    public let offsets: [Int32]
    /// Each channel's frequencies: one per support value, then the escape's (sum `total`).
    public let frequencies: [[UInt32]]
    /// Each channel's cumulative frequencies (count + 2 entries, from 0 to `total`).
    let cumulative: [[UInt32]]

    public var channels: Int { offsets.count }

    /// Tables from integers (a model file's), validated: every channel's frequencies positive
    /// and summing to `total`, its support within `maximumSupport`, its values within Int32.
    public init(offsets: [Int32], frequencies: [[UInt32]]) throws {
        guard !offsets.isEmpty, offsets.count == frequencies.count else {
            throw LatentCodingError.invalidTables("\(offsets.count) offsets for \(frequencies.count) channels of frequencies")
        }
        for (channel, table) in frequencies.enumerated() {
            let count = table.count - 1
            guard (1...FactorizedCodeTables.maximumSupport).contains(count) else {
                throw LatentCodingError.invalidTables("channel \(channel) has \(count) support values (1...\(FactorizedCodeTables.maximumSupport))")
            }
            guard Int(offsets[channel]) + count <= Int(Int32.max) else {
                throw LatentCodingError.invalidTables("channel \(channel)'s support passes the largest 32-bit value")
            }
            guard table.allSatisfy({ $0 >= 1 && $0 <= FactorizedCodeTables.total }),
                  table.reduce(UInt64(0), { $0 + UInt64($1) }) == UInt64(FactorizedCodeTables.total) else {
                throw LatentCodingError.invalidTables("channel \(channel)'s frequencies are not positive with sum \(FactorizedCodeTables.total)")
            }
        }
        self.offsets = offsets
        self.frequencies = frequencies
        cumulative = frequencies.map { table in table.reduce(into: [UInt32(0)]) { $0.append($0.last! + $1) } }
    }

    /// The tables of `prior` as it stands (after training).
    public init(prior: FactorizedPrior) {
        let channels = prior.channels
        let (lower, upper) = withoutGradients { FactorizedCodeTables.support(of: prior) }
        let counts = (0..<channels).map { Swift.min(upper[$0] - lower[$0] + 1, FactorizedCodeTables.maximumSupport) }
        // Bin edges v ± ½ of each channel's support, one row a channel, padded to the longest.
        let width = counts.max()! + 1
        let edges = (0..<channels).map { channel in (0..<width).map { Float(lower[channel] + Swift.min($0, counts[channel])) - 0.5 } }
        let cumulative = withoutGradients { FactorizedCodeTables.cumulative(of: prior, at: edges) }
        var frequencies: [[UInt32]] = []
        for channel in 0..<channels {
            let row = cumulative[channel]
            // A diverged density (NaN) gets masses of 0: its symbols keep frequency 1 each.
            var masses = (0..<counts[channel]).map { index in (row[index + 1] - row[index]).isFinite ? Swift.max(0, row[index + 1] - row[index]) : 0 }
            masses.append(Swift.max(0, 1 - masses.reduce(0, +)))
            frequencies.append(FactorizedCodeTables.quantized(masses))
        }
        let offsets = lower.map { Int32(clamping: $0) }
        try! self.init(offsets: offsets, frequencies: frequencies)  // valid by construction
    }

    /// Frequencies of `masses` (each ≥ 0) summing to `total`, each at least 1 (file's comment).
    static func quantized(_ masses: [Double]) -> [UInt32] {
        let free = Double(total) - Double(masses.count)
        let sum = masses.reduce(0, +)
        // No mass at all (a degenerate density): everything left to the last symbol (the escape).
        let scaled = sum > 0 ? masses.map { $0 / sum * free } : masses.indices.map { $0 == masses.count - 1 ? free : 0 }
        var frequencies = scaled.map { 1 + UInt32($0.rounded(.down)) }
        let left = Int(total) - frequencies.reduce(0) { $0 + Int($1) }
        let byRemainder = scaled.indices.sorted { a, b in
            let (ra, rb) = (scaled[a] - scaled[a].rounded(.down), scaled[b] - scaled[b].rounded(.down))
            return ra != rb ? ra > rb : a < b
        }
        for index in byRemainder.prefix(left) { frequencies[index] += 1 }
        return frequencies
    }

    /// Each channel's support [lower, upper]: the integers whose bins hold all but `tailMass`.
    static func support(of prior: FactorizedPrior) -> (lower: [Int], upper: [Int]) {
        let edge = Float(tailMass / 2)
        let lowTarget = Foundation.log(edge / (1 - edge)), highTarget = -lowTarget  // logit(m/2), logit(1 − m/2)
        func solve(_ target: Float) -> [Float] {
            var low = [Float](repeating: -65_536, count: prior.channels), high = [Float](repeating: 65_536, count: prior.channels)
            for _ in 0..<40 {  // bisection of the increasing l(x) = target, every channel at once
                let middle = zip(low, high).map { ($0 + $1) / 2 }
                let values = prior.logits(Tensor(shape: [prior.channels, 1], scalars: middle)).scalars
                for channel in 0..<prior.channels {
                    if values[channel] < target { low[channel] = middle[channel] } else { high[channel] = middle[channel] }
                }
            }
            return high
        }
        // Bisection stays within ±65,536 (a NaN density leaves the bounds where they started).
        func integer(_ value: Float, _ rule: FloatingPointRoundingRule) -> Int {
            value.isFinite ? Int((value + 0.5).rounded(rule)) : 0
        }
        let lower = solve(lowTarget).map { integer($0, .down) }
        let upper = solve(highTarget).map { integer($0, .up) - 1 }
        return (lower, zip(lower, upper).map { Swift.max($0, $1) })
    }

    /// c(x) of each channel at its row of `points` (C rows of one length), in Double.
    static func cumulative(of prior: FactorizedPrior, at points: [[Float]]) -> [[Double]] {
        let width = points[0].count
        let logits = prior.logits(Tensor(shape: [prior.channels, width], scalars: Array(points.joined()))).scalars
        return (0..<prior.channels).map { channel in
            logits[(channel * width)..<((channel + 1) * width)].map { 1 / (1 + Foundation.exp(-Double($0))) }
        }
    }

    /// The symbol of `value` in `channel`: its support index, or the escape (`count`).
    @inline(__always) func symbol(of value: Int32, channel: Int) -> Int {
        let index = Int(value) - Int(offsets[channel])
        return index >= 0 && index < frequencies[channel].count - 1 ? index : frequencies[channel].count - 1
    }
}

/// Problems with code tables or a latent stream.
public enum LatentCodingError: Error, Equatable, CustomStringConvertible {
    case invalidTables(String)
    case corruptStream(String)

    public var description: String {
        switch self {
        case .invalidTables(let detail): "invalid code tables: \(detail)"
        case .corruptStream(let detail): "corrupt latent stream: \(detail)"
        }
    }
}

extension FactorizedCodeTables {
    /// The tables as float32 tensors for a model file (every value an integer below 2^24, so
    /// exact): `offsets` (C), `counts` (C, symbols per channel) and `frequencies`, either (C, S),
    /// each row padded with zeros to the longest, S = the most symbols of any channel, or, when
    /// `packed` (for rows of very different lengths), (Σ counts), the rows one after another.
    public func tensors(packed: Bool = false) -> [String: Tensor] {
        let frequencyTensor: Tensor
        if packed {
            let joined = frequencies.joined().map { Float($0) }
            frequencyTensor = Tensor(shape: [joined.count], scalars: joined)
        } else {
            let width = frequencies.map(\.count).max()!
            var padded: [Float] = []
            for table in frequencies { padded += table.map { Float($0) } + [Float](repeating: 0, count: width - table.count) }
            frequencyTensor = Tensor(shape: [channels, width], scalars: padded)
        }
        return ["offsets": Tensor(shape: [channels], scalars: offsets.map { Float($0) }),
                "counts": Tensor(shape: [channels], scalars: frequencies.map { Float($0.count) }),
                "frequencies": frequencyTensor]
    }

    /// `tensors()` with the padded layout.
    public var tensors: [String: Tensor] { tensors(packed: false) }

    /// Tables read back from `tensors`, validated (shapes, integers, then `init(offsets:frequencies:)`).
    public init(tensors: [String: Tensor]) throws {
        guard let offsets = tensors["offsets"], let counts = tensors["counts"], let frequencies = tensors["frequencies"] else {
            throw LatentCodingError.invalidTables("offsets, counts or frequencies are missing")
        }
        let channels = offsets.count
        let packed = frequencies.rank == 1
        guard offsets.shape == [channels], counts.shape == [channels],
              packed ? frequencies.count <= channels * (FactorizedCodeTables.maximumSupport + 1)
                     : frequencies.rank == 2 && frequencies.shape[0] == channels && frequencies.shape[1] >= 2
                       && frequencies.shape[1] <= FactorizedCodeTables.maximumSupport + 1 else {
            throw LatentCodingError.invalidTables("shapes \(offsets.shape), \(counts.shape) and \(frequencies.shape) do not fit together")
        }
        let exact = { (value: Float) in value.isFinite && value == value.rounded() && Swift.abs(value) < 16_777_216 }
        for (name, tensor) in [("offsets", offsets), ("counts", counts), ("frequencies", frequencies)] {
            if let bad = tensor.scalars.first(where: { !exact($0) }) {
                throw LatentCodingError.invalidTables("\(name) holds \(bad), not an integer below 2^24")
            }
        }
        let width = packed ? FactorizedCodeTables.maximumSupport + 1 : frequencies.shape[1]
        var rows: [[UInt32]] = []
        var start = 0  // packed: where the channel's row begins
        for channel in 0..<channels {
            let count = Int(counts.scalars[channel])
            guard count >= 2 && count <= width else {
                throw LatentCodingError.invalidTables("channel \(channel) has \(count) symbols (2...\(width))")
            }
            let first = packed ? start : channel * width
            guard first + count <= frequencies.count else {
                throw LatentCodingError.invalidTables("the counts need more than the \(frequencies.count) frequencies stored")
            }
            start += count
            let row = frequencies.scalars[first..<(first + count)]
            guard row.allSatisfy({ $0 >= 0 }) else { throw LatentCodingError.invalidTables("channel \(channel) has a negative frequency") }
            rows.append(row.map { UInt32($0) })
        }
        guard !packed || start == frequencies.count else {
            throw LatentCodingError.invalidTables("\(frequencies.count) frequencies stored for counts that sum to \(start)")
        }
        try self.init(offsets: offsets.scalars.map { Int32($0) }, frequencies: rows)
    }
}
