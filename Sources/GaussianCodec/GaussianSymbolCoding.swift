import EntropyCoding
import GaussianRasterizer

// A quantised set as one range-coded stream, in a canonical order that removes what the set's
// row order and the ellipse's symmetries would otherwise cost:
//   - each Gaussian canonical: sx ≥ sy (else swap them and turn θ by π/2, i.e. L_θ/2 levels,
//     exactly the same ellipse) and θ = 0 when sx = sy (a circle has no orientation);
//   - Gaussians sorted by the Morton code of their position cells (ties by the other symbols),
//     which saves log2 N! bits against any fixed order.
// Per Gaussian, in that order: the gap to the previous Morton code (AdaptiveIntegerModel); sx;
// the anisotropy sx − sy; θ when the anisotropy is not 0; r, g, b. sx, θ and each colour are
// coded either as they are or as the difference to the previous Gaussian's (mod L); the encoder
// takes, per attribute, whichever codes smaller, and the header records the choice (`modes`).

/// Which attributes are coded as differences to the previous Gaussian's (bit set) or as they are.
public struct SymbolCodingModes: Equatable, Sendable {
    public static let attributeCount = 5  // sx, θ, r, g, b
    public var differential: [Bool]

    public init(differential: [Bool] = [Bool](repeating: false, count: attributeCount)) {
        precondition(differential.count == Self.attributeCount, "SymbolCodingModes: \(Self.attributeCount) flags")
        self.differential = differential
    }

    public var byte: UInt8 { differential.enumerated().reduce(0) { $0 | ($1.element ? 1 << UInt8($1.offset) : 0) } }

    /// The modes of a header byte, or nil when it sets unknown bits.
    public init?(byte: UInt8) {
        guard byte >> UInt8(Self.attributeCount) == 0 else { return nil }
        differential = (0..<Self.attributeCount).map { byte & (1 << UInt8($0)) != 0 }
    }
}

/// The canonical form and order of `q` (see the top of this file).
public func canonicalized(_ q: QuantizedGaussians, bits: QuantizationBits) -> QuantizedGaussians {
    let halfTurn = UInt32(1 << (bits.rotation - 1)), rotationMask = UInt32((1 << bits.rotation) - 1)
    var c = q
    for g in 0..<q.count {
        if c.scaleX[g] < c.scaleY[g] {
            swap(&c.scaleX[g], &c.scaleY[g])
            c.rotation[g] = (c.rotation[g] + halfTurn) & rotationMask
        }
        if c.scaleX[g] == c.scaleY[g] { c.rotation[g] = 0 }
    }
    let keys = (0..<q.count).map { g in
        [mortonCode(c, g), c.scaleX[g], c.scaleY[g], c.rotation[g], c.colour[0][g], c.colour[1][g], c.colour[2][g]]
    }
    let order = (0..<q.count).sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }
    var sorted = QuantizedGaussians(count: q.count)
    for (i, g) in order.enumerated() {
        sorted.x[i] = c.x[g]; sorted.y[i] = c.y[g]
        sorted.scaleX[i] = c.scaleX[g]; sorted.scaleY[i] = c.scaleY[g]; sorted.rotation[i] = c.rotation[g]
        for k in 0..<3 { sorted.colour[k][i] = c.colour[k][g] }
    }
    return sorted
}

/// The Morton code of Gaussian g's cell (GaussianRasterizer's `mortonCode`).
private func mortonCode(_ q: QuantizedGaussians, _ g: Int) -> UInt32 {
    GaussianRasterizer.mortonCode(column: q.x[g], row: q.y[g])
}

/// The adaptive models of one stream (fresh ones for encoding and for decoding).
private struct SymbolModels {
    var gaps = AdaptiveIntegerModel()
    var scale: AdaptiveFrequencyModel, anisotropy: AdaptiveFrequencyModel, rotation: AdaptiveFrequencyModel
    var colours: [AdaptiveFrequencyModel]

    init(bits: QuantizationBits, colourLevels: [Int]) {
        scale = AdaptiveFrequencyModel(alphabetSize: 1 << bits.scale)
        anisotropy = AdaptiveFrequencyModel(alphabetSize: 1 << bits.scale)
        rotation = AdaptiveFrequencyModel(alphabetSize: 1 << bits.rotation)
        colours = colourLevels.map { AdaptiveFrequencyModel(alphabetSize: $0) }
    }
}

/// `value` as coded: itself, or its difference to `previous` modulo the alphabet (both < levels).
private func coded(_ value: UInt32, previous: UInt32, differential: Bool, levels: Int) -> Int {
    differential ? (Int(value) - Int(previous) + levels) % levels : Int(value)
}

private func decoded(_ symbol: Int, previous: UInt32, differential: Bool, levels: Int) -> UInt32 {
    differential ? UInt32((symbol + Int(previous)) % levels) : UInt32(symbol)
}

/// The range-coded stream of canonical symbols `q`, with the modes that make it smallest.
public func encodeSymbols(_ q: QuantizedGaussians, quantizer: GaussianQuantizer) -> (bytes: [UInt8], modes: SymbolCodingModes) {
    let (bits, levels) = (quantizer.bits, quantizer.colourLevels)
    // Each attribute's cost is separable: try each alone both ways, then code all with the winners.
    var modes = SymbolCodingModes()
    for attribute in 0..<SymbolCodingModes.attributeCount {
        var sizes: [Int] = []
        for differential in [false, true] {
            var trial = SymbolCodingModes()
            trial.differential[attribute] = differential
            sizes.append(encodeSymbols(q, bits: bits, colourLevels: levels, modes: trial, only: attribute).count)
        }
        modes.differential[attribute] = sizes[1] < sizes[0]
    }
    return (encodeSymbols(q, bits: bits, colourLevels: levels, modes: modes, only: nil), modes)
}

/// Approximate bytes of each attribute's symbols in the stream `encodeSymbols` makes (each coded
/// alone with the chosen modes), for reports: positions are the rest of the stream.
public func attributeBytes(_ q: QuantizedGaussians, quantizer: GaussianQuantizer, modes: SymbolCodingModes) -> [(name: String, bytes: Int)] {
    let (bits, levels) = (quantizer.bits, quantizer.colourLevels)
    let total = encodeSymbols(q, bits: bits, colourLevels: levels, modes: modes, only: nil).count
    let parts = ["scale", "rotation", "luma", "chroma r−b", "chroma g"].enumerated().map { index, name in
        (name: name, bytes: encodeSymbols(q, bits: bits, colourLevels: levels, modes: modes, only: index).count)
    }
    return [(name: "position + anisotropy", bytes: total - parts.reduce(0) { $0 + $1.bytes })] + parts
}

/// Codes `q` with `modes`; with `only`, just that attribute (0 sx, 1 θ, 2–4 r, g, b) for sizing.
private func encodeSymbols(_ q: QuantizedGaussians, bits: QuantizationBits, colourLevels: [Int], modes: SymbolCodingModes,
                           only: Int?) -> [UInt8] {
    var models = SymbolModels(bits: bits, colourLevels: colourLevels), encoder = RangeEncoder()
    let scaleLevels = 1 << bits.scale, rotationLevels = 1 << bits.rotation
    let colours = q.colour
    var previousMorton: UInt32 = 0
    for g in 0..<q.count {
        let before = g > 0 ? g - 1 : g
        let morton = mortonCode(q, g)
        precondition(morton >= previousMorton, "encodeSymbols: the set is not in canonical order")
        if only == nil { models.gaps.encode(morton - previousMorton, with: &encoder) }
        previousMorton = morton
        if only == nil || only == 0 {
            models.scale.encode(coded(q.scaleX[g], previous: g > 0 ? q.scaleX[before] : 0, differential: modes.differential[0], levels: scaleLevels), with: &encoder)
        }
        let anisotropy = q.scaleX[g] - q.scaleY[g]
        if only == nil { models.anisotropy.encode(Int(anisotropy), with: &encoder) }
        if anisotropy > 0 && (only == nil || only == 1) {
            models.rotation.encode(coded(q.rotation[g], previous: g > 0 ? q.rotation[before] : 0, differential: modes.differential[1], levels: rotationLevels), with: &encoder)
        }
        for channel in 0..<3 where only == nil || only == 2 + channel {
            models.colours[channel].encode(coded(colours[channel][g], previous: g > 0 ? colours[channel][before] : 0,
                                                 differential: modes.differential[2 + channel], levels: colourLevels[channel]), with: &encoder)
        }
    }
    return encoder.finish()
}

/// Decodes `count` Gaussians from `bytes`. Every symbol lies on its grid whatever the bytes; a
/// stream that ends early or whose positions overflow the grid is an error.
public func decodeSymbols(_ bytes: [UInt8], count: Int, quantizer: GaussianQuantizer, modes: SymbolCodingModes) throws -> QuantizedGaussians {
    let (bits, colourLevels) = (quantizer.bits, quantizer.colourLevels)
    precondition(count >= 0, "decodeSymbols: invalid count \(count)")
    var models = SymbolModels(bits: bits, colourLevels: colourLevels), decoder = RangeDecoder(bytes: bytes)
    let scaleLevels = 1 << bits.scale, rotationLevels = 1 << bits.rotation
    let codeLimit = UInt64(1) << UInt64(2 * bits.position)
    var q = QuantizedGaussians(count: count)
    var colours = [[UInt32]](repeating: [UInt32](repeating: 0, count: count), count: 3)
    var morton: UInt64 = 0
    for g in 0..<count {
        let before = g > 0 ? g - 1 : g
        morton += UInt64(models.gaps.decode(with: &decoder))
        guard morton < codeLimit else { throw CodecError("a position lies outside the \(bits.position)-bit grid (damaged stream)") }
        (q.x[g], q.y[g]) = mortonCell(UInt32(morton))
        q.scaleX[g] = decoded(models.scale.decode(with: &decoder), previous: g > 0 ? q.scaleX[before] : 0,
                              differential: modes.differential[0], levels: scaleLevels)
        let anisotropy = UInt32(models.anisotropy.decode(with: &decoder))
        guard anisotropy <= q.scaleX[g] else { throw CodecError("a Gaussian's anisotropy exceeds its scale (damaged stream)") }
        q.scaleY[g] = q.scaleX[g] - anisotropy
        if anisotropy > 0 {
            q.rotation[g] = decoded(models.rotation.decode(with: &decoder), previous: g > 0 ? q.rotation[before] : 0,
                                    differential: modes.differential[1], levels: rotationLevels)
        }
        for channel in 0..<3 {
            colours[channel][g] = decoded(models.colours[channel].decode(with: &decoder), previous: g > 0 ? colours[channel][before] : 0,
                                          differential: modes.differential[2 + channel], levels: colourLevels[channel])
        }
        if decoder.overrunBytes > 0 { throw CodecError("the coded Gaussians end early (truncated stream)") }
    }
    q.colour = colours
    return q
}

/// A malformed or damaged stream (the container names the file).
public struct CodecError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
