import Foundation
import GaussianFitting
import SplatIO
import TensorCore

// GaussVAE interop: its data is a folder of `.npz` files, one per image, each holding
// `gaussians` (N, 8) float32 in the Image-GS convention (SplatKit's too) and optional scalar
// `psnr`, `ssim`, `lpips`, plus a `normalization_stats.npz` (xy/scale/rot/feat means and stds).
// Import turns such a folder into a SplatKit dataset; export writes a dataset back out.

public enum GaussVAEInterop {
    /// Imports every `*.npz` of `folder` except `normalization_stats.npz` (in name order) into a
    /// new dataset at `output`, ordering each set by `order`. GaussVAE's statistics, when given,
    /// are kept as `/imported_statistics/{mean,std}`; the dataset's own statistics are computed
    /// over its train split as for any build. Returns the number of sets imported.
    @discardableResult
    public static func importFolder(_ folder: String, statistics: String?, output: String, order: SpatialOrder,
                                    seed: UInt64, splits: [Double]) throws -> Int {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw FileError(folder, "cannot list the folder: \(error.localizedDescription)")
        }
        let files = entries.filter { $0.hasSuffix(".npz") && $0 != "normalization_stats.npz" }.sorted()
        guard let first = files.first else { throw FileError(folder, "no .npz files to import") }
        let imported = try statistics.map { try ColumnNormalization.read(gaussVAEStatisticsAt: $0) }

        func readSet(_ name: String) throws -> (rows: [Float], psnr: Float, ssim: Float) {
            let path = (folder as NSString).appendingPathComponent(name)
            let arrays = try NPZ.read(path)
            guard let gaussians = arrays["gaussians"] else { throw FileError(path, "no 'gaussians' array") }
            guard gaussians.shape.count == 2, gaussians.shape[1] == 8 else {
                throw FileError(path, "'gaussians' has shape \(gaussians.shape), expected (N, 8)")
            }
            guard (1...GaussianDatasetFile.maximumSetSize).contains(gaussians.shape[0]) else {
                throw FileError(path, "'gaussians' has shape \(gaussians.shape): a set holds 1...\(GaussianDatasetFile.maximumSetSize) Gaussians")
            }
            let rows: [Float]
            do { rows = try gaussians.floats() } catch { throw FileError(path, "'gaussians': \(error)") }
            guard rows.allSatisfy({ $0.isFinite }) else { throw FileError(path, "'gaussians' holds NaN or infinite values") }
            func scalar(_ key: String) -> Float { (try? arrays[key]?.floats().first) ?? .nan }
            return (rows, scalar("psnr"), scalar("ssim"))
        }

        let setSize = try readSet(first).rows.count / 8
        let settings = DatasetSettings(setSize: setSize, imageSize: 0, steps: 0, recipe: .gaussVAEImport,
                                       order: order, seed: seed, splits: splits)
        guard !FileManager.default.fileExists(atPath: output) else { throw FileError(output, "already exists") }
        // Written whole or not at all: a file that fails to import leaves no partial dataset.
        try writeAtomically(to: output) { temporary in
            let dataset = try GaussianDatasetFile(creating: temporary, settings: settings)
            defer { try? dataset.close() }
            for (index, name) in files.enumerated() {
                let set = try readSet(name)
                guard set.rows.count == setSize * 8 else {
                    throw FileError((folder as NSString).appendingPathComponent(name),
                                    "holds \(set.rows.count / 8) Gaussians; the first file (\(first)) holds \(setSize)")
                }
                let permutation = order.permutation(for: set.rows, count: setSize)
                let ordered = permutation.flatMap { set.rows[($0 * 8)..<($0 * 8 + 8)] }
                let item = DatasetItem(name: String(name.dropLast(4)), gaussians: ordered, psnr: set.psnr, ssim: set.ssim,
                                       sourceWidth: 0, sourceHeight: 0)
                try dataset.append(item, at: index)
            }
            if let imported {
                try dataset.file.write(imported.mean, shape: [8], to: "imported_statistics/mean")
                try dataset.file.write(imported.standardDeviation, shape: [8], to: "imported_statistics/std")
            }
            try dataset.finish()
            try dataset.close()
        }
        return files.count
    }

    /// Writes every set of a complete dataset to `folder/<name>.npz` (`gaussians`, `psnr`,
    /// `ssim`) and its train-split statistics to `folder/normalization_stats.npz`.
    @discardableResult
    public static func exportDataset(_ path: String, to folder: String) throws -> Int {
        let dataset = try GaussianDatasetFile(opening: path)
        defer { try? dataset.close() }
        guard dataset.isComplete else { throw FileError(path, "the dataset is incomplete; finish its build first") }
        try createOutputFolder(folder)
        let count = try dataset.itemCount(), N = dataset.settings.setSize
        let names = try dataset.names(0..<count)
        let psnr = try dataset.quality("psnr", 0..<count), ssim = try dataset.quality("ssim", 0..<count)
        for index in 0..<count {
            let rows = try dataset.gaussians(index..<(index + 1))
            let file = (folder as NSString).appendingPathComponent(names[index] + ".npz")
            try NPZ.write([("gaussians", NPYArray(shape: [N, 8], floats: rows)),
                           ("psnr", NPYArray(shape: [], floats: [psnr[index]])),
                           ("ssim", NPYArray(shape: [], floats: [ssim[index]]))], to: file)
        }
        let (mean, std) = try dataset.statistics()
        try ColumnNormalization(mean: mean, standardDeviation: std)
            .write(gaussVAEStatisticsTo: (folder as NSString).appendingPathComponent("normalization_stats.npz"))
        return count
    }
}
