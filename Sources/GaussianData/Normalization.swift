import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore

// Per-column normalisation of rows of Gaussian parameters: z = (p − mean) / std for each column,
// the mean and std taken over every row of every training set. One type for every column layout:
// the 8 Image-GS columns of a dataset (its `statistics/mean`, `statistics/std`, the data
// loader, GaussVAE's statistics file) and the columns of a VAE's set representation.
//
// Statistics are accumulated in Double: each added chunk's mean and sum of squared deviations
// (two passes over the chunk), merged into the running totals with Chan et al.'s parallel
// update, so accuracy does not degrade with the number of rows. The std is the population
// std (divide by the count, as `np.std` does); a column whose std is 0 (constant, or no data)
// gets std 1, so normalising it only subtracts the mean instead of dividing by zero.
//
// GaussVAE's `normalization_stats.npz` groups the columns: xy = 0–1, scale = 2–3, rot = 4,
// feat = 5–7, with arrays xy_mean, xy_std, scale_mean, scale_std, rot_mean, rot_std, feat_mean,
// feat_std. Reading accepts any numeric dtype and, for every group, a 1-D array of the group's
// width or a scalar (broadcast to the group); writing uses float32 1-D arrays (rot as (1,)).

/// Per-column mean and standard deviation of rows, and the maps to and from normalised rows.
public struct ColumnNormalization: Equatable, Sendable {
    /// The mean of each column.
    public let mean: [Float]
    /// The standard deviation of each column, all positive and finite.
    public let standardDeviation: [Float]
    /// Columns per row.
    public var columns: Int { mean.count }

    public init(mean: [Float], standardDeviation: [Float]) {
        precondition(!mean.isEmpty && mean.count == standardDeviation.count,
                     "ColumnNormalization: \(mean.count) means and \(standardDeviation.count) stds")
        precondition(standardDeviation.allSatisfy { $0 > 0 && $0.isFinite },
                     "ColumnNormalization: standard deviations must be positive and finite, got \(standardDeviation)")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Mean 0 and std 1 for rows of `columns` (default: the 8 Image-GS columns): normalising
    /// changes nothing.
    public static func identity(columns: Int = ImageGSColumn.count) -> ColumnNormalization {
        ColumnNormalization(mean: [Float](repeating: 0, count: columns), standardDeviation: [Float](repeating: 1, count: columns))
    }

    /// The statistics of every row of every set in `sets` (each flattened rows of `columns`).
    public static func fitted<Sets: Sequence>(to sets: Sets, columns: Int = ImageGSColumn.count) -> ColumnNormalization
        where Sets.Element == [Float] {
        var statistics = ColumnStatistics(columns: columns)
        for set in sets { statistics.add(rows: set) }
        return statistics.normalization
    }

    // MARK: Applying

    /// (p − mean) / std per column of `rows`, flattened (…, columns) values.
    public func normalize(rows: [Float]) -> [Float] {
        apply(to: rows) { value, column in (value - mean[column]) / standardDeviation[column] }
    }

    /// z · std + mean per column: the inverse of `normalize(rows:)`.
    public func denormalize(rows: [Float]) -> [Float] {
        apply(to: rows) { value, column in value * standardDeviation[column] + mean[column] }
    }

    /// `normalize(rows:)` of a (…, columns) tensor, as a new tensor without gradient history.
    public func normalize(_ sets: Tensor) -> Tensor {
        precondition(sets.shape.last == columns, "normalize: expected (…, \(columns)), got \(sets.shape)")
        return Tensor(shape: sets.shape, scalars: normalize(rows: sets.scalars))
    }

    /// `denormalize(rows:)` of a (…, columns) tensor, as a new tensor without gradient history.
    public func denormalize(_ sets: Tensor) -> Tensor {
        precondition(sets.shape.last == columns, "denormalize: expected (…, \(columns)), got \(sets.shape)")
        return Tensor(shape: sets.shape, scalars: denormalize(rows: sets.scalars))
    }

    private func apply(to rows: [Float], _ transform: (Float, Int) -> Float) -> [Float] {
        let columns = self.columns
        precondition(rows.count % columns == 0, "ColumnNormalization: \(rows.count) values are not rows of \(columns)")
        var result = rows
        result.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = transform(buffer[index], index % columns) }
        }
        return result
    }

    // MARK: GaussVAE's normalization_stats.npz

    /// GaussVAE's parameter groups: array-name prefix and the columns it covers.
    public static let gaussVAEGroups: [(name: String, columns: Range<Int>)] = [
        ("xy", 0..<2), ("scale", 2..<4), ("rot", 4..<5), ("feat", 5..<8),
    ]

    /// Statistics from the arrays of a GaussVAE `normalization_stats.npz` read from `path`
    /// (used in error messages). Each `<group>_mean` / `<group>_std` may be a scalar or a 1-D
    /// array of the group's width; a std that is not positive and finite throws.
    public init(gaussVAEStatistics arrays: [String: NPYArray], path: String) throws {
        // (Image-GS columns only.)
        var mean = [Float](repeating: 0, count: ImageGSColumn.count)
        var standardDeviation = [Float](repeating: 1, count: ImageGSColumn.count)
        for (group, columns) in Self.gaussVAEGroups {
            for suffix in ["mean", "std"] {
                let name = "\(group)_\(suffix)"
                guard let array = arrays[name] else {
                    throw FileError(path, "missing array '\(name)' (GaussVAE statistics need \(Self.gaussVAEArrayNames.joined(separator: ", ")))")
                }
                guard array.shape == [] || array.shape == [columns.count] else {
                    throw FileError(path, "array '\(name)' has shape \(array.shape), expected () or (\(columns.count),)")
                }
                let values: [Float]
                do { values = try array.floats() } catch { throw FileError(path, "array '\(name)': \(error)") }
                for (offset, column) in columns.enumerated() {
                    let value = values[array.shape == [] ? 0 : offset]
                    if suffix == "mean" {
                        guard value.isFinite else { throw FileError(path, "array '\(name)' holds a non-finite mean \(value)") }
                        mean[column] = value
                    } else {
                        guard value > 0 && value.isFinite else {
                            throw FileError(path, "array '\(name)' holds std \(value); stds must be positive and finite")
                        }
                        standardDeviation[column] = value
                    }
                }
            }
        }
        self.init(mean: mean, standardDeviation: standardDeviation)
    }

    /// Reads a GaussVAE `normalization_stats.npz`.
    public static func read(gaussVAEStatisticsAt path: String) throws -> ColumnNormalization {
        try ColumnNormalization(gaussVAEStatistics: try NPZ.read(path), path: path)
    }

    /// The names GaussVAE's statistics file holds, in the order they are written.
    public static var gaussVAEArrayNames: [String] {
        gaussVAEGroups.flatMap { ["\($0.name)_mean", "\($0.name)_std"] }
    }

    /// These statistics (of Image-GS columns) in GaussVAE's layout: float32 1-D arrays, in
    /// `gaussVAEArrayNames` order.
    public var gaussVAEStatistics: [(name: String, array: NPYArray)] {
        precondition(columns == ImageGSColumn.count, "gaussVAEStatistics: \(columns) columns, GaussVAE's layout has 8")
        return Self.gaussVAEGroups.flatMap { group, columns in
            [(name: "\(group)_mean", array: NPYArray(shape: [columns.count], floats: Array(mean[columns]))),
             (name: "\(group)_std", array: NPYArray(shape: [columns.count], floats: Array(standardDeviation[columns])))]
        }
    }

    /// Writes these statistics as a GaussVAE `normalization_stats.npz` (deflated, atomic).
    public func write(gaussVAEStatisticsTo path: String) throws {
        try NPZ.write(gaussVAEStatistics, to: path)
    }
}

/// Streaming per-column mean and population variance of rows, in Double.
public struct ColumnStatistics: Equatable, Sendable {
    /// Columns per row.
    public let columns: Int
    /// The number of rows added.
    public private(set) var count: Int = 0
    /// The running mean of each column.
    public private(set) var mean: [Double]
    /// The running sum of squared deviations from the mean of each column.
    public private(set) var sumOfSquaredDeviations: [Double]

    /// No rows yet, of `columns` (default: the 8 Image-GS columns).
    public init(columns: Int = ImageGSColumn.count) {
        precondition(columns >= 1, "ColumnStatistics: \(columns) columns")
        self.columns = columns
        mean = [Double](repeating: 0, count: columns)
        sumOfSquaredDeviations = [Double](repeating: 0, count: columns)
    }

    /// Adds rows (…, columns) given as flattened values.
    public mutating func add(rows: [Float]) {
        precondition(rows.count % columns == 0, "ColumnStatistics.add: \(rows.count) values are not rows of \(columns)")
        let chunkCount = rows.count / columns
        guard chunkCount > 0 else { return }
        var chunk = ColumnStatistics(columns: columns)
        chunk.count = chunkCount
        for index in rows.indices { chunk.mean[index % columns] += Double(rows[index]) }
        for column in 0..<columns { chunk.mean[column] /= Double(chunkCount) }
        for index in rows.indices {
            let deviation = Double(rows[index]) - chunk.mean[index % columns]
            chunk.sumOfSquaredDeviations[index % columns] += deviation * deviation
        }
        merge(chunk)
    }

    /// Adds the rows of a (…, columns) tensor.
    public mutating func add(_ sets: Tensor) {
        precondition(sets.shape.last == columns, "ColumnStatistics.add: expected (…, \(columns)), got \(sets.shape)")
        add(rows: sets.scalars)
    }

    /// Combines statistics accumulated separately (Chan et al.): the result equals adding both
    /// row collections to one accumulator, up to rounding.
    public mutating func merge(_ other: ColumnStatistics) {
        precondition(other.columns == columns, "ColumnStatistics.merge: \(other.columns) columns into \(columns)")
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let total = Double(count + other.count)
        let weight = Double(other.count) / total
        for column in mean.indices {
            let delta = other.mean[column] - mean[column]
            mean[column] += delta * weight
            sumOfSquaredDeviations[column] += other.sumOfSquaredDeviations[column]
                + delta * delta * Double(count) * weight
        }
        count += other.count
    }

    /// The population standard deviation of each column (0 with no rows).
    public var standardDeviation: [Double] {
        sumOfSquaredDeviations.map { count > 0 ? ($0 / Double(count)).squareRoot() : 0 }
    }

    /// The normalisation these statistics define; a std that is 0 (or rounds to 0, or is not
    /// finite) in Float becomes 1.
    public var normalization: ColumnNormalization {
        ColumnNormalization(
            mean: mean.map { Float($0) },
            standardDeviation: standardDeviation.map { value in
                let narrowed = Float(value)
                return narrowed > 0 && narrowed.isFinite ? narrowed : 1
            })
    }
}
