import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

// Encoding Gaussian sets into a latents file (`splatkit encode`): one fitted set, put in the
// order the model was trained in, or every set of a dataset's split, already in the dataset's
// order, read a chunk at a time. The codes are the posterior means μ, or with a seed the draws
// z = μ + σ·ε.

extension VAEInference {
    /// The latents of one fitted set, in `order` (default: the model's training order, else
    /// Morton). `checkpoint` and `source` are recorded in the file.
    public func latentsFile(of set: GaussianSet, name: String, order: SpatialOrder? = nil, sampleSeed: UInt64? = nil,
                            checkpoint: String, source: String) throws -> LatentsFile {
        try checkSetSize(set.gaussians.shape[0], in: source)
        let setOrder = order ?? trainedOn.order ?? .morton
        let codes = latents(of: set.gaussians.unsqueezed(0), order: setOrder, sampleSeed: sampleSeed)
        return LatentsFile(latents: codes, names: [name], checkpoint: checkpoint, representation: representation,
                           sampled: sampleSeed != nil, seed: sampleSeed, setSize: setSize, order: setOrder,
                           width: set.width, height: set.height, source: source)
    }

    /// The latents of every set of `split` ("train", "validation", "test" or "all") of the
    /// dataset at `path`, `chunk` sets per read; `progress(done, total)` after each chunk.
    public func latentsFile(ofDataset path: String, split: String, sampleSeed: UInt64? = nil, checkpoint: String,
                            chunk: Int = 1024, progress: (Int, Int) -> Void = { _, _ in }) throws -> LatentsFile {
        precondition(chunk >= 1, "latentsFile: chunk \(chunk) must be positive")
        let dataset = try GaussianDatasetFile(opening: path)
        defer { try? dataset.close() }
        let source = try DatasetSplit(dataset, split: split)
        try checkSetSize(source.setSize, in: path)
        guard source.count > 0 else { throw FileError(path, "the '\(split)' split holds no sets") }
        let order = dataset.settings.order
        var means: [Tensor] = [], logVariances: [Tensor] = [], names: [String] = []
        var start = 0
        while start < source.count {
            let indices = Array(start..<Swift.min(start + chunk, source.count))
            let sets = Tensor(shape: [indices.count, setSize, ImageGSColumn.count], scalars: try source.read(indices: indices))
            let (mean, logVariance) = posterior(normalized: normalizedInput(sets))
            means.append(mean)
            logVariances.append(logVariance)
            names += try indices.map { try dataset.names(source.items[$0]..<(source.items[$0] + 1))[0] }
            start += indices.count
            progress(start, source.count)
        }
        let mean = Tensor.concatenated(means, alongAxis: 0), logVariance = Tensor.concatenated(logVariances, alongAxis: 0)
        let codes = sampleSeed.map { sample(mean: mean, logVariance: logVariance, seed: $0) } ?? model.pointLatent(mean)
        let size = dataset.settings.imageSize >= 1 ? dataset.settings.imageSize : nil
        return LatentsFile(latents: codes, names: names, checkpoint: checkpoint, representation: representation,
                           sampled: sampleSeed != nil, seed: sampleSeed, setSize: setSize, order: order,
                           width: size, height: size, source: path, split: split)
    }
}
