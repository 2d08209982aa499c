import SplatIO

// What a dataset file must hold before anything is read from it. Every count and shape read from
// the file is checked against the others (docs/FORMATS.md, "Gaussian datasets"), so a damaged or
// forged file is a `FileError` naming it and what is wrong, never a trap, a hang or an allocation
// of a size nobody wrote:
//   - on open: the settings (set_size, image_size, crops, split_fractions) lie in their ranges,
//     and every per-item dataset has its element type and row shape (`gaussians` (M, set_size,
//     8), `names` (M, 256), `psnr`/`ssim` (M), `source_size` (M, 2));
//   - on reading the splits: each is a list of item indices below the item count;
//   - on reading the statistics: 8 finite means and 8 finite, positive deviations.

extension GaussianDatasetFile {
    /// The largest set a dataset may hold, in Gaussians.
    public static let maximumSetSize = 1 << 20
    /// The largest fitted image side a dataset may record.
    public static let maximumImageSize = 65_536

    /// Checks the settings, and the element type and row shape of every per-item dataset.
    func validateLayout() throws {
        let s = settings
        guard (1...Self.maximumSetSize).contains(s.setSize) else {
            throw FileError(path, "set_size \(s.setSize) is invalid (a set holds 1...\(Self.maximumSetSize) Gaussians)")
        }
        guard (0...Self.maximumImageSize).contains(s.imageSize) else {
            throw FileError(path, "image_size \(s.imageSize) is invalid (0, or sides up to \(Self.maximumImageSize))")
        }
        guard s.crops >= 1 else { throw FileError(path, "crops \(s.crops) is invalid (at least 1 per photo)") }
        guard s.splits.count == 3, s.splits.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw FileError(path, "split_fractions \(s.splits) must be three non-negative fractions (train, validation, test)")
        }
        try requireRows("gaussians", of: .float32, shape: [s.setSize, 8])
        try requireRows("names", of: .uint8, shape: [Self.nameLength])
        try requireRows("psnr", of: .float32, shape: [])
        try requireRows("ssim", of: .float32, shape: [])
        try requireRows("source_size", of: .int32, shape: [2])
    }

    /// Throws unless `dataset` holds `type` elements in rows of `shape` (any number of rows).
    private func requireRows(_ dataset: String, of type: HDF5ElementType, shape: [Int]) throws {
        let info = try file.datasetInfo(dataset)
        guard info.elementType == type else {
            throw FileError(path, "dataset '\(dataset)' holds \(info.elementType) elements, expected \(type)")
        }
        guard info.shape.count == shape.count + 1, Array(info.shape.dropFirst()) == shape else {
            let expected = "(M" + shape.map { ", \($0)" }.joined() + ")"
            throw FileError(path, "dataset '\(dataset)' has shape \(info.shape), expected \(expected)"
                            + (dataset == "gaussians" ? " for set_size \(settings.setSize)" : ""))
        }
    }

    /// `indices` of split `name` as item numbers, each checked to lie below the item count.
    func checkedSplit(_ indices: [Int64], name: String, itemCount: Int) throws -> [Int] {
        if let wrong = indices.first(where: { $0 < 0 || $0 >= Int64(itemCount) }) {
            throw FileError(path, "split '\(name)' holds item index \(wrong), but the dataset has \(itemCount) items")
        }
        return indices.map { Int($0) }
    }

    /// The statistics as read, checked: 8 finite means, 8 finite positive deviations.
    func checkedStatistics(mean: [Float], std: [Float]) throws -> (mean: [Float], std: [Float]) {
        for (name, values) in [("mean", mean), ("std", std)] {
            guard values.count == 8 else {
                throw FileError(path, "dataset 'statistics/\(name)' holds \(values.count) values, expected 8 (one per parameter)")
            }
            guard values.allSatisfy({ $0.isFinite }) else {
                throw FileError(path, "dataset 'statistics/\(name)' holds NaN or infinite values")
            }
        }
        guard std.allSatisfy({ $0 > 0 }) else {
            throw FileError(path, "dataset 'statistics/std' holds \(std): every deviation must be positive")
        }
        return (mean, std)
    }
}
