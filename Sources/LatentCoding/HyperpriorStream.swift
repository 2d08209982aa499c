import EntropyCoding
import TensorCore

// A scale hyperprior's latents as one range-coded stream, item by item:
//
//   item i    its Z side values ẑ, each with its row of the side prior's tables; then its L
//             latent values ŷ, value k with the scale table row index(s_k), s = h_s(ẑ) from
//             `ScaleHyperprior.synthesisLogScales` and the stored boundaries
//
// (LatentStream's symbols and escapes throughout). The tables and boundaries are integers and
// floats read from the model file, never derived again, so encoder and decoder agree bit for bit.

/// The integer tables a scale hyperprior codes with (see the file's comment).
public struct HyperpriorCodeTables: Equatable, Sendable {
    /// Z rows: the side prior's channels.
    public let side: FactorizedCodeTables
    /// K rows: the Gaussian conditional's table scales (GaussianConditional.scaleCodeTables).
    public let scales: FactorizedCodeTables
    /// K − 1 increasing log-scale boundaries (GaussianConditional.scaleBoundaries).
    public let boundaries: [Float]

    /// Validated: K − 1 finite, increasing boundaries for K scale rows.
    public init(side: FactorizedCodeTables, scales: FactorizedCodeTables, boundaries: [Float]) throws {
        guard boundaries.count == scales.channels - 1, boundaries.allSatisfy(\.isFinite),
              zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw LatentCodingError.invalidTables("\(boundaries.count) scale boundaries for \(scales.channels) scale tables "
                                                  + "(need \(scales.channels - 1) finite, increasing values)")
        }
        (self.side, self.scales, self.boundaries) = (side, scales, boundaries)
    }

    /// The tables of `hyperprior` as it stands: its side prior's, and the fixed scale tables.
    public init(hyperprior: ScaleHyperprior) {
        try! self.init(side: FactorizedCodeTables(prior: hyperprior.sidePrior), scales: GaussianConditional.scaleCodeTables(),
                       boundaries: GaussianConditional.scaleBoundaries)  // valid by construction
    }

    /// For a model file: the side tables' tensors (prefixed `side.`, padded rows), the scale
    /// tables' (prefixed `scales.`, packed rows: their lengths run from 4 to 2,512) and
    /// `boundaries` (K − 1).
    public var tensors: [String: Tensor] {
        var out: [String: Tensor] = ["boundaries": Tensor(shape: [boundaries.count], scalars: boundaries)]
        for (name, tensor) in side.tensors(packed: false) { out["side." + name] = tensor }
        for (name, tensor) in scales.tensors(packed: true) { out["scales." + name] = tensor }
        return out
    }

    /// Tables read back from `tensors`, validated.
    public init(tensors: [String: Tensor]) throws {
        func group(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        guard let boundaries = tensors["boundaries"], boundaries.rank == 1 else {
            throw LatentCodingError.invalidTables("the scale boundaries are missing")
        }
        try self.init(side: FactorizedCodeTables(tensors: group("side.")), scales: FactorizedCodeTables(tensors: group("scales.")),
                      boundaries: boundaries.scalars)
    }
}

/// Writes and reads a scale hyperprior's latents (see the file's comment).
public enum HyperpriorStream {
    /// The bytes of `items` items: `latents` (items × L) and `sides` (items × Z), item-major.
    public static func encode(latents: [Int32], sides: [Int32], hyperprior: ScaleHyperprior, tables: HyperpriorCodeTables) -> [UInt8] {
        let (l, z) = (hyperprior.latentDimensions, hyperprior.sideDimensions)
        precondition(latents.count % l == 0 && sides.count == latents.count / l * z,
                     "HyperpriorStream.encode: \(latents.count) latents and \(sides.count) side values are not items of \(l) and \(z)")
        var encoder = RangeEncoder()
        for item in 0..<(latents.count / l) {
            let side = Array(sides[(item * z)..<((item + 1) * z)])
            LatentStream.encode(side, tables: tables.side, rows: { $0 }, into: &encoder)
            let rows = scaleRows(side: side, hyperprior: hyperprior, tables: tables)
            LatentStream.encode(Array(latents[(item * l)..<((item + 1) * l)]), tables: tables.scales, rows: { rows[$0] }, into: &encoder)
        }
        return encoder.finish()
    }

    /// The latents (items × L) and side values (items × Z) of `bytes`, which `encode` wrote.
    public static func decode(_ bytes: [UInt8], items: Int, hyperprior: ScaleHyperprior,
                              tables: HyperpriorCodeTables) throws -> (latents: [Int32], sides: [Int32]) {
        let (l, z) = (hyperprior.latentDimensions, hyperprior.sideDimensions)
        guard items >= 0, items <= Int(Int32.max) / (l + z) else {
            throw LatentCodingError.corruptStream("\(items) items of \(l) + \(z) values is not a valid count")
        }
        guard tables.side.channels == z else {
            throw LatentCodingError.invalidTables("side tables of \(tables.side.channels) channels for \(z) side values")
        }
        var decoder = RangeDecoder(bytes: bytes)
        var latents: [Int32] = [], sides: [Int32] = []
        for _ in 0..<items {
            let side = try LatentStream.decode(count: z, tables: tables.side, rows: { $0 }, from: &decoder)
            let rows = scaleRows(side: side, hyperprior: hyperprior, tables: tables)
            latents += try LatentStream.decode(count: l, tables: tables.scales, rows: { rows[$0] }, from: &decoder)
            sides += side
        }
        return (latents, sides)
    }

    /// The scale table row of each latent value of one item.
    static func scaleRows(side: [Int32], hyperprior: ScaleHyperprior, tables: HyperpriorCodeTables) -> [Int] {
        hyperprior.synthesisLogScales(side: side).map { GaussianConditional.scaleIndex(logScale: $0, boundaries: tables.boundaries) }
    }
}
