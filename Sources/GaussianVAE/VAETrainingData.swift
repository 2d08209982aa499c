import Foundation
import GaussianData
import GaussianFitting
import SplatIO
import TensorCore

// The data side of VAE training: which dataset, its train and validation splits, the column
// normalisation in the config's representation, and how a batch of Image-GS rows becomes the
// model's input.
//
// Normalisation: the rows of every train set are converted to the representation
// (`SetRepresentation.encode`) and their per-column mean and population std accumulated in
// Double, chunk by chunk, merged with Chan et al.'s update (GaussianData's `ColumnStatistics`,
// as for a dataset's 8 Image-GS columns), so no split needs to fit in memory. A std of 0 becomes 1.
// For the plain representation this is the dataset's own `/statistics` up to rounding.

/// The train and validation sets of a VAE run.
public struct VAETrainingData {
    public let train: any GaussianSetSource
    public let validation: any GaussianSetSource
    /// Where the sets came from, for messages (the dataset path).
    public let name: String
    /// How to mirror its sets (`training.augment_flips`); nil when their order does not follow
    /// position (or for sets from elsewhere than a dataset file).
    public var flips: SetFlips?
    /// The side in pixels of the images the sets were fitted to (the render loss shows them at
    /// that footprint); nil when unknown (imported sets), taken as the render loss's own size.
    public var fittedImageSize: Int?
    /// The spatial order of the sets' Gaussians and the recipe that fitted them, when known
    /// (recorded in checkpoints, so inference orders and renders single sets as trained).
    public var order: SpatialOrder?
    public var recipe: SetRecipe?

    public init(train: any GaussianSetSource, validation: any GaussianSetSource, name: String) {
        self.train = train
        self.validation = validation
        self.name = name
    }

    /// The Gaussians per set.
    public var setSize: Int { train.setSize }

    /// The train and validation splits of a complete SplatKit dataset (`splatkit dataset build`
    /// or `import-npz`), with errors that say what to do.
    public static func open(dataset path: String) throws -> VAETrainingData {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError(path, "no such dataset; build one with `splatkit dataset build` (or import GaussVAE's "
                            + "npz folders with `splatkit dataset import-npz`)")
        }
        let file = try GaussianDatasetFile(opening: path)
        guard file.isComplete else {
            throw FileError(path, "the dataset is incomplete (\(try file.itemCount()) sets so far; its build was interrupted "
                            + "or is still running): rerun the same `splatkit dataset build` command to finish it")
        }
        var data = VAETrainingData(train: try DatasetSplit(file, split: "train"),
                                   validation: try DatasetSplit(file, split: "validation"), name: path)
        data.flips = SetFlips(settings: file.settings)
        data.fittedImageSize = file.settings.imageSize > 0 ? file.settings.imageSize : nil
        data.order = file.settings.order
        data.recipe = file.settings.recipe
        try data.checkNotEmpty()
        return data
    }

    /// Throws unless the train split holds a batch (two sets) and the validation split a set.
    func checkNotEmpty() throws {
        guard train.count > 1 else {
            throw FileError(name, (train.count == 0 ? "the train split is empty" : "the train split holds a single set")
                            + "; batch norm trains on batches of at least 2 sets")
        }
        guard validation.count > 0 else {
            throw FileError(name, "the validation split is empty; training monitors the validation loss (plateau, early "
                            + "stopping, best.h5), so rebuild the dataset with --splits giving validation a share, "
                            + "e.g. 0.9,0.05,0.05")
        }
    }

    /// Throws unless the sets have the size the configured model takes.
    public func checkSetSize(against config: VAEConfig) throws {
        let expected = config.model.numGaussians
        guard setSize == expected else {
            throw FileError(name, "holds sets of \(setSize) Gaussians but the config's model.num_gaussians is \(expected); "
                            + "use a dataset built with --gaussians \(expected), or a config for \(setSize) Gaussians "
                            + "(num_gaussians: \(setSize), with a decoder that upsamples to \(setSize))")
        }
    }

    /// The dataset a run reads: `--data` when given, else the config's `data.train_dir` when it
    /// names an `.h5` file.
    public static func datasetPath(commandLine: String?, config: VAEConfig) throws -> String {
        if let commandLine { return commandLine }
        guard let trainDir = config.data.trainDir else {
            throw FileError("--data", "no dataset given: pass --data DATASET.h5 (or set data.train_dir to an .h5 dataset in the config)")
        }
        guard trainDir.hasSuffix(".h5") else {
            throw FileError(trainDir, "the config's data.train_dir is not a SplatKit dataset (.h5); for a folder of GaussVAE .npz "
                            + "sets run `splatkit dataset import-npz \(trainDir) --output data.h5`, then pass --data data.h5")
        }
        return trainDir
    }

    /// The column normalisation of the train split in `representation`.
    public func fittedNormalization(representation: SetRepresentation, chunk: Int = 64) throws -> ColumnNormalization {
        var statistics = ColumnStatistics(columns: representation.columns)
        try forEachTrainChunk(representation: representation, chunk: chunk) { statistics.add(rows: $0) }
        return statistics.normalization
    }

    /// The train split's mean set, Gaussian by Gaussian, in `representation` normalised by
    /// `normalization`: (N·C) values, row-major (the decoder's output layout for one set).
    public func meanSet(representation: SetRepresentation, normalization: ColumnNormalization, chunk: Int = 64) throws -> [Float] {
        let C = representation.columns
        var sums = [Double](repeating: 0, count: setSize * C)
        try forEachTrainChunk(representation: representation, chunk: chunk) { rows in
            for (offset, value) in rows.enumerated() { sums[offset % sums.count] += Double(value) }
        }
        return sums.enumerated().map { offset, sum in
            let column = offset % C
            return Float((sum / Double(train.count) - Double(normalization.mean[column]))
                         / Double(normalization.standardDeviation[column]))
        }
    }

    /// Calls `body` with the train split's sets in `representation`, `chunk` sets at a time:
    /// (sets·N·C) values.
    private func forEachTrainChunk(representation: SetRepresentation, chunk: Int, _ body: ([Float]) -> Void) throws {
        var start = 0
        while start < train.count {
            let indices = Array(start..<Swift.min(start + chunk, train.count))
            body(representation.encode(try train.read(indices: indices)))
            start += chunk
        }
    }
}

extension ColumnNormalization {
    /// The model's input for a batch of Image-GS sets (B, N, 8): each row converted to
    /// `representation` and normalised, (B, N, C), no gradient.
    public func modelInput(_ sets: Tensor, representation: SetRepresentation) -> Tensor {
        precondition(sets.rank == 3 && sets.shape[2] == 8, "modelInput: sets \(sets.shape) must be (B, N, 8)")
        precondition(mean.count == representation.columns,
                     "modelInput: \(mean.count)-column normalisation for the \(representation.rawValue) representation")
        let rows = normalize(rows: representation.encode(sets.scalars))
        return Tensor(shape: [sets.shape[0], sets.shape[1], representation.columns], scalars: rows)
    }
}

// MARK: - Command-line overrides of a config

extension VAEConfig {
    /// The YAML text of a config with `seed` and/or `training.epochs` replaced, and its decoded
    /// value. The lines that set them are edited (comments and layout are kept), or added; if
    /// the result does not decode to exactly the config with those overrides (a flow-style
    /// `training: {…}`, say) the config is written out in full as JSON (which is YAML) instead.
    public static func overriding(yaml: String, sourceName: String, seed: Int? = nil, epochs: Int? = nil) throws
        -> (text: String, config: VAEConfig) {
        let original = try decode(yaml: yaml, sourceName: sourceName)
        guard seed != nil || epochs != nil else { return (yaml, original) }
        var expected = original
        if let seed { expected.seed = seed }
        if let epochs {
            guard epochs >= 1 else { throw FileError("--epochs", "must be at least 1, got \(epochs)") }
            expected.training.epochs = epochs
        }
        var lines = yaml.components(separatedBy: "\n")
        if let seed { setTopLevel("seed", to: "\(seed)", in: &lines) }
        if let epochs { setNested("epochs", under: "training", to: "\(epochs)", in: &lines) }
        let edited = lines.joined(separator: "\n")
        if let decoded = try? decode(yaml: edited, sourceName: sourceName), decoded == expected { return (edited, expected) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = "# \(sourceName) with command-line overrides, written out in full (JSON is YAML)\n"
            + String(decoding: try encoder.encode(expected), as: UTF8.self) + "\n"
        return (json, try decode(yaml: json, sourceName: sourceName))
    }

    /// The indentation and key of a `key: …` line, or nil for other lines.
    private static func mappingKey(_ line: String) -> (indent: Int, key: String)? {
        let indent = line.prefix { $0 == " " }.count
        let rest = line.dropFirst(indent)
        let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !key.isEmpty, rest.dropFirst(key.count).drop(while: { $0 == " " }).first == ":" else { return nil }
        return (indent, String(key))
    }

    private static func setTopLevel(_ key: String, to value: String, in lines: inout [String]) {
        if let index = lines.firstIndex(where: { mappingKey($0).map { $0.indent == 0 && $0.key == key } ?? false }) {
            lines[index] = "\(key): \(value)"
        } else {
            if lines.last == "" { lines.removeLast() }
            lines += ["\(key): \(value)", ""]
        }
    }

    private static func setNested(_ key: String, under parent: String, to value: String, in lines: inout [String]) {
        guard let parentIndex = lines.firstIndex(where: { mappingKey($0).map { $0.indent == 0 && $0.key == parent } ?? false })
        else {
            if lines.last == "" { lines.removeLast() }
            lines += ["\(parent):", "  \(key): \(value)", ""]
            return
        }
        var childIndent: Int?
        var index = parentIndex + 1
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                index += 1
                continue
            }
            guard line.hasPrefix(" ") else { break }  // the next top-level key
            if let found = mappingKey(line) {
                childIndent = childIndent ?? found.indent
                if found.key == key && found.indent == childIndent {
                    lines[index] = String(repeating: " ", count: found.indent) + "\(key): \(value)"
                    return
                }
            }
            index += 1
        }
        lines.insert(String(repeating: " ", count: childIndent ?? 2) + "\(key): \(value)", at: parentIndex + 1)
    }
}
