import Foundation
import GaussianRasterizer
import SplatIO
import TensorCore

// Per-parameter normalisation of Gaussian sets: z = (p − mean) / std for each of the 8
// Image-GS columns, with the mean and std taken over every Gaussian of every training set.
//
// Statistics are accumulated in Double: each added chunk's mean and sum of squared deviations
// (two passes over the chunk), merged into the running totals with Chan et al.'s parallel
// update, so accuracy does not degrade with the number of Gaussians. The std is the population
// std (divide by the count, as `np.std` does); a column whose std is 0 (constant, or no data)
// gets std 1, so normalising it only subtracts the mean instead of dividing by zero.
//
// GaussVAE's `normalization_stats.npz` groups the columns: xy = 0–1, scale = 2–3, rot = 4,
// feat = 5–7, with arrays xy_mean, xy_std, scale_mean, scale_std, rot_mean, rot_std, feat_mean,
// feat_std. Reading accepts any numeric dtype and, for every group, a 1-D array of the group's
// width or a scalar (broadcast to the group); writing uses float32 1-D arrays (rot as (1,)).

/// Per-column mean and standard deviation of Gaussian sets, and the maps to and from
/// normalised parameters.
public struct GaussianNormalization: Equatable, Sendable {
    /// The mean of each Image-GS column (8).
    public let mean: [Float]
    /// The standard deviation of each column (8), all positive and finite.
    public let standardDeviation: [Float]

    public init(mean: [Float], standardDeviation: [Float]) {
        precondition(mean.count == ImageGSColumn.count && standardDeviation.count == ImageGSColumn.count,
                     "GaussianNormalization: expected \(ImageGSColumn.count) means and stds, got \(mean.count) and \(standardDeviation.count)")
        precondition(standardDeviation.allSatisfy { $0 > 0 && $0.isFinite },
                     "GaussianNormalization: standard deviations must be positive and finite, got \(standardDeviation)")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Mean 0 and std 1: normalising changes nothing.
    public static let identity = GaussianNormalization(
        mean: [Float](repeating: 0, count: ImageGSColumn.count),
        standardDeviation: [Float](repeating: 1, count: ImageGSColumn.count))

    /// The statistics of every row of every set in `sets` (each (…, 8) values, flattened).
    public static func fitted<Sets: Sequence>(to sets: Sets) -> GaussianNormalization where Sets.Element == [Float] {
        var accumulator = GaussianStatisticsAccumulator()
        for set in sets { accumulator.add(rows: set) }
        return accumulator.normalization
    }

    // MARK: Applying

    /// (p − mean) / std per column of `rows`, flattened (…, 8) values.
    public func normalize(rows: [Float]) -> [Float] {
        apply(to: rows) { value, column in (value - mean[column]) / standardDeviation[column] }
    }

    /// z · std + mean per column: the inverse of `normalize(rows:)`.
    public func denormalize(rows: [Float]) -> [Float] {
        apply(to: rows) { value, column in value * standardDeviation[column] + mean[column] }
    }

    /// `normalize(rows:)` of a (…, G, 8) tensor, as a new tensor without gradient history.
    public func normalize(_ sets: Tensor) -> Tensor {
        precondition(sets.shape.last == ImageGSColumn.count, "normalize: expected (…, G, 8), got \(sets.shape)")
        return Tensor(shape: sets.shape, scalars: normalize(rows: sets.scalars))
    }

    /// `denormalize(rows:)` of a (…, G, 8) tensor, as a new tensor without gradient history.
    public func denormalize(_ sets: Tensor) -> Tensor {
        precondition(sets.shape.last == ImageGSColumn.count, "denormalize: expected (…, G, 8), got \(sets.shape)")
        return Tensor(shape: sets.shape, scalars: denormalize(rows: sets.scalars))
    }

    private func apply(to rows: [Float], _ transform: (Float, Int) -> Float) -> [Float] {
        let columns = ImageGSColumn.count
        precondition(rows.count % columns == 0, "GaussianNormalization: \(rows.count) values are not rows of \(columns)")
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
    public static func read(gaussVAEStatisticsAt path: String) throws -> GaussianNormalization {
        try GaussianNormalization(gaussVAEStatistics: try NPZ.read(path), path: path)
    }

    /// The names GaussVAE's statistics file holds, in the order they are written.
    public static var gaussVAEArrayNames: [String] {
        gaussVAEGroups.flatMap { ["\($0.name)_mean", "\($0.name)_std"] }
    }

    /// These statistics in GaussVAE's layout: float32 1-D arrays, in `gaussVAEArrayNames` order.
    public var gaussVAEStatistics: [(name: String, array: NPYArray)] {
        Self.gaussVAEGroups.flatMap { group, columns in
            [(name: "\(group)_mean", array: NPYArray(shape: [columns.count], floats: Array(mean[columns]))),
             (name: "\(group)_std", array: NPYArray(shape: [columns.count], floats: Array(standardDeviation[columns])))]
        }
    }

    /// Writes these statistics as a GaussVAE `normalization_stats.npz` (deflated, atomic).
    public func write(gaussVAEStatisticsTo path: String) throws {
        try NPZ.write(gaussVAEStatistics, to: path)
    }
}

/// Streaming per-column mean and population variance of Gaussian rows, in Double.
public struct GaussianStatisticsAccumulator: Equatable, Sendable {
    /// The number of rows (Gaussians) added.
    public private(set) var count: Int = 0
    /// The running mean of each column.
    public private(set) var mean = [Double](repeating: 0, count: ImageGSColumn.count)
    /// The running sum of squared deviations from the mean of each column.
    public private(set) var sumOfSquaredDeviations = [Double](repeating: 0, count: ImageGSColumn.count)

    public init() {}

    /// Adds rows (…, 8) given as flattened values.
    public mutating func add(rows: [Float]) {
        let columns = ImageGSColumn.count
        precondition(rows.count % columns == 0, "GaussianStatisticsAccumulator.add: \(rows.count) values are not rows of \(columns)")
        let chunkCount = rows.count / columns
        guard chunkCount > 0 else { return }
        var chunk = GaussianStatisticsAccumulator()
        chunk.count = chunkCount
        for index in rows.indices { chunk.mean[index % columns] += Double(rows[index]) }
        for column in 0..<columns { chunk.mean[column] /= Double(chunkCount) }
        for index in rows.indices {
            let deviation = Double(rows[index]) - chunk.mean[index % columns]
            chunk.sumOfSquaredDeviations[index % columns] += deviation * deviation
        }
        merge(chunk)
    }

    /// Adds the rows of a (…, G, 8) tensor.
    public mutating func add(_ sets: Tensor) {
        precondition(sets.shape.last == ImageGSColumn.count, "GaussianStatisticsAccumulator.add: expected (…, G, 8), got \(sets.shape)")
        add(rows: sets.scalars)
    }

    /// Combines statistics accumulated separately (Chan et al.): the result equals adding both
    /// row collections to one accumulator, up to rounding.
    public mutating func merge(_ other: GaussianStatisticsAccumulator) {
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
    public var normalization: GaussianNormalization {
        GaussianNormalization(
            mean: mean.map { Float($0) },
            standardDeviation: standardDeviation.map { value in
                let narrowed = Float(value)
                return narrowed > 0 && narrowed.isFinite ? narrowed : 1
            })
    }
}
