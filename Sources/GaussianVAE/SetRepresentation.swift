import Foundation

// How a set of Gaussians is presented to the VAE: the columns of each Gaussian before the
// per-column z-scoring (`ColumnNormalization`), and the loss groups over those columns.
//
// Image-GS rows are [x, y, sx, sy, θ, r, g, b]: position in [0, 1], inverse standard deviations
// sx, sy in 1/px along the axes turned by θ, colour. Standard deviations σ = 1/|s| in pixels.
//
// - plain (8 columns): the Image-GS columns as stored (GaussVAE's setting). Groups xy 0–1,
//   scale 2–3, rotation 4, colour 5–7. GaussVAE's rotation and colour never learned in this form
//   (normalised MSE stayed at 1.00 and 0.97).
// - canonical (9 columns): [x, y, log σ_major, log σ_minor, cos 2θ, sin 2θ, r, g, b], the
//   standard deviations ordered (θ turned by π/2 when they swap), the orientation a point on the
//   circle (θ and θ + π are the same ellipse, hence 2θ), colour clamped to [0, 1]. Groups xy 0–1,
//   scale 2–3, rotation 4–5, colour 6–8. Back: θ = ½·atan2(sin 2θ, cos 2θ), s = exp(−log σ).
// - log_covariance (8 columns): [x, y, m, d·cos 2θ, d·sin 2θ, r, g, b] with m = ½(log σx + log σy)
//   and d = ½(log σx − log σy): the three entries of ½·log Σ (the matrix logarithm of the
//   covariance, Σ = R(θ) diag(σx², σy²) R(θ)ᵀ), as its trace part m and its traceless part
//   d·(cos 2θ, sin 2θ); colour clamped to [0, 1]. Groups xy 0–1, scale 2 (size), rotation 3–4
//   (shape: elongation and orientation together), colour 5–7. Back: d = |(p, q)|,
//   θ = ½·atan2(q, p), log σx = m + d, log σy = m − d (σx ≥ σy).
//   Every ellipse has one point here and nearby points are nearby ellipses: a round Gaussian
//   (d = 0) has no orientation to get wrong, and the mean of uncertain shapes, which a
//   squared-error decoder predicts, is a rounder ellipse — in the canonical form it is an
//   ellipse as elongated as any, in an orientation taken from a point near the circle's centre.

/// How sets are presented to the VAE.
public enum SetRepresentation: String, Codable, CaseIterable, Sendable {
    case plain, canonical
    case logCovariance = "log_covariance"

    /// Columns per Gaussian in this representation.
    public var columns: Int { self == .canonical ? 9 : 8 }
    /// The most columns any representation has.
    public static let maximumColumns = allCases.map(\.columns).max()!

    /// Column ranges of the loss groups (xy, scale, rotation, colour).
    public var groups: [(name: String, columns: Range<Int>)] {
        switch self {
        case .plain: return [("xy", 0..<2), ("scale", 2..<4), ("rotation", 4..<5), ("colour", 5..<8)]
        case .canonical: return [("xy", 0..<2), ("scale", 2..<4), ("rotation", 4..<6), ("colour", 6..<9)]
        case .logCovariance: return [("xy", 0..<2), ("scale", 2..<3), ("rotation", 3..<5), ("colour", 5..<8)]
        }
    }

    /// Image-GS rows (N·8 values) → this representation's rows (not normalised).
    public func encode(_ rows: [Float]) -> [Float] {
        func logStandardDeviations(_ r: [Double]) -> (x: Double, y: Double) {
            (-Foundation.log(Swift.abs(r[2])), -Foundation.log(Swift.abs(r[3])))
        }
        func colour(_ r: [Double]) -> [Double] { r[5...7].map { Swift.min(Swift.max($0, 0), 1) } }
        switch self {
        case .plain:
            return rows
        case .canonical:
            return Self.mapRows(rows, from: 8) { r in
                let (logX, logY) = logStandardDeviations(r)
                let angle = logX < logY ? r[4] + Double.pi / 2 : r[4]
                return [r[0], r[1], Swift.max(logX, logY), Swift.min(logX, logY),
                        Foundation.cos(2 * angle), Foundation.sin(2 * angle)] + colour(r)
            }
        case .logCovariance:
            return Self.mapRows(rows, from: 8) { r in
                let (logX, logY) = logStandardDeviations(r)
                let (m, d) = ((logX + logY) / 2, (logX - logY) / 2)
                return [r[0], r[1], m, d * Foundation.cos(2 * r[4]), d * Foundation.sin(2 * r[4])] + colour(r)
            }
        }
    }

    /// This representation's rows → Image-GS rows (N·8 values).
    public func decode(_ rows: [Float]) -> [Float] {
        switch self {
        case .plain:
            return rows
        case .canonical:
            return Self.mapRows(rows, from: 9) { r in
                [r[0], r[1], Foundation.exp(-r[2]), Foundation.exp(-r[3]), 0.5 * Foundation.atan2(r[5], r[4]), r[6], r[7], r[8]]
            }
        case .logCovariance:
            return Self.mapRows(rows, from: 8) { r in
                let d = (r[3] * r[3] + r[4] * r[4]).squareRoot()
                return [r[0], r[1], Foundation.exp(-(r[2] + d)), Foundation.exp(-(r[2] - d)), 0.5 * Foundation.atan2(r[4], r[3]),
                        r[5], r[6], r[7]]
            }
        }
    }

    /// Applies `transform` (in Double) to each row of `width` values.
    private static func mapRows(_ rows: [Float], from width: Int, _ transform: ([Double]) -> [Double]) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(rows.count)
        for start in stride(from: 0, to: rows.count - width + 1, by: width) {
            result += transform(rows[start..<(start + width)].map(Double.init)).map { Float($0) }
        }
        return result
    }
}
