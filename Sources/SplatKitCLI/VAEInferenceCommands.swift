import ArgumentParser
import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import GaussianVAE
import SplatIO
import TensorCore

// The inference side of the Gaussian-set VAE: `splatkit encode`, `decode`, `reconstruct` and
// `evaluate`, over checkpoints written by `splatkit train` (VAECheckpoint.swift) and the
// functions of Models/VAEInference.swift.
//
// Image sizes: a dataset records the size its images were fitted at (`image_size`); sets
// imported from GaussVAE record none, and are then taken to have been fitted at 256 × 256
// (`defaultFittedImageSize`, `GaussianDatasetFile.fittedImageSize` in Models).

/// `splatkit encode`: Gaussian sets → latent codes.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode", abstract: "Encode Gaussian sets into VAE latents (HDF5).",
        discussion: """
            The input is one fitted set (`splatkit fit`, put in --order first) or a dataset (its sets are \
            stored in the dataset's order, which the model trained on). The output holds μ of each set, or \
            with --sample a draw z = μ + σ·ε seeded by --seed. Layout: docs/FORMATS.md, "Latents".
            """)

    @Option(help: "The VAE checkpoint (best.h5 or last.h5 of `splatkit train`).")
    var model: String

    @Option(help: "A Gaussian set (gaussians.h5) or a dataset (data.h5).")
    var input: String

    @Option(help: "For a dataset: the split to encode (train, validation, test or all).")
    var split: String = "all"

    @Option(help: "Output latents file (HDF5, written atomically).")
    var output: String

    @Flag(help: "Write a sample z = μ + σ·ε instead of the mean μ.")
    var sample = false

    @Option(help: "Seed of ε for --sample.")
    var seed: UInt64 = 0

    @Option(help: "For a single set: the spatial order to put it in (default: the order the model was trained in, as its checkpoint records; morton when it records none).")
    var order: SpatialOrder?

    @Option(help: "Sets per forward pass.")
    var batchSize: Int = 64

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([output], notAmong: [model, input])
        let vae = try VAEInference(checkpoint: model, batchSize: batchSize)
        let latents: LatentsFile
        switch try gaussianFileFormat(input) {
        case GaussianSet.format:
            let name = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
            latents = try vae.latentsFile(of: try GaussianSet(contentsOf: input), name: name, order: order,
                                          sampleSeed: sample ? seed : nil, checkpoint: model, source: input)
        case GaussianDatasetFile.format:
            guard order == nil else {
                throw ValidationError("--order applies to a single set; a dataset's sets are already in its order")
            }
            latents = try vae.latentsFile(ofDataset: input, split: split, sampleSeed: sample ? seed : nil, checkpoint: model) {
                print("  \($0)/\($1) sets")
            }
        case let other:
            let hint = other == LatentsFile.format ? "; it holds latents already: decode them with `splatkit decode`" : ""
            throw FileError(input, "not a Gaussian set or dataset (format attribute is '\(other)', expected "
                            + "'\(GaussianSet.format)' or '\(GaussianDatasetFile.format)')\(hint)")
        }
        try latents.write(to: output)
        print("encoded \(latents.count) set\(latents.count == 1 ? "" : "s") → \(latents.count) × \(latents.latentDimensions) "
              + "\(sample ? "samples z (seed \(seed))" : "means μ") → \(output)")
    }
}

/// `splatkit decode`: latent codes → Gaussian sets.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Decode VAE latents into Gaussian sets (HDF5).",
        discussion: """
            One latent (or --index I) is written as a Gaussian set file at --output. Several are written \
            into the folder --output, one `<name>.h5` per latent (names from the latents file, made safe \
            as file names, unique). Sets are de-normalised, in the Image-GS convention, in the model's \
            spatial order; their width and height are the size the encoded sets were fitted at (from the \
            latents file, else the model's training data, else 256), and they record the recipe of the \
            model's training sets. Render them with `splatkit render`.
            """)

    @Option(help: "The VAE checkpoint that encoded the latents.")
    var model: String

    @Option(help: "Latents file (`splatkit encode`).")
    var input: String

    @Option(help: "Output: a Gaussian set file for one latent, a folder for several.")
    var output: String

    @Option(help: "Decode only the latent at this index (0-based).")
    var index: Int?

    @Option(help: "Sets per forward pass.")
    var batchSize: Int = 64

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let index, index < 0 { throw ValidationError("--index must not be negative, got \(index)") }
    }

    func run() throws {
        try compute.apply()
        var isFolder: ObjCBool = false
        let outputIsFolder = FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue
        try requireOutputs(outputIsFolder ? [] : [output], notAmong: [model, input])  // a folder takes several sets
        let vae = try VAEInference(checkpoint: model, batchSize: batchSize)
        let file = try LatentsFile(contentsOf: input)
        try file.checkCompatible(with: vae, checkpoint: model, latentsPath: input)
        var latents = file.latents, names = file.names
        if let index {
            guard index < file.count else {
                throw FileError(input, "holds \(file.count) latents; --index \(index) is out of range")
            }
            latents = latents.sliced(index..<(index + 1), alongAxis: 0)
            names = [names[index]]
        }
        let trainedSize = vae.trainedOn.fittedImageSize ?? defaultFittedImageSize
        let width = file.width ?? trainedSize, height = file.height ?? trainedSize
        let sets = vae.decode(latents)  // (k, N, 8)
        // The recipe the training sets were fitted with, so `render` picks their rasterizer.
        func set(_ i: Int) -> GaussianSet {
            GaussianSet(gaussians: sets.sliced(i..<(i + 1), alongAxis: 0).squeezed(0), width: width, height: height,
                        recipe: vae.trainedOn.recipe)
        }
        if names.count == 1 {
            try set(0).write(to: output)
            print("decoded 1 set of \(vae.setSize) Gaussians (\(width)×\(height)) → \(output)")
            return
        }
        guard !output.lowercased().hasSuffix(".h5") else {
            throw FileError(output, "\(input) holds \(names.count) latents: give a folder as --output (one <name>.h5 "
                            + "per set), or --index I to decode one")
        }
        try createOutputFolder(output)
        for (i, name) in uniqueFileNames(names).enumerated() {
            try set(i).write(to: (output as NSString).appendingPathComponent(name + ".h5"))
        }
        print("decoded \(names.count) sets of \(vae.setSize) Gaussians (\(width)×\(height)) → \(output)/")
    }
}

/// `splatkit reconstruct`: source | fitted | VAE images side by side.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct", abstract: "Render source | fitted Gaussians | VAE reconstruction side by side (PNG).",
        discussion: """
            Writes DIR/<name>.png for the first --count sets of the split: the source image (regenerated \
            for procedural items, read from --images and prepared as the build did for photos and their \
            crops, also in merged datasets), the dataset's fitted set and the VAE's reconstruction \
            (decoded μ), each --size pixels square, 4 white pixels apart. Without a source the image \
            holds the last two panels.
            """)

    @Option(help: "The VAE checkpoint.")
    var model: String

    @Option(help: "The dataset (HDF5).")
    var data: String

    @Option(help: "Split: train, validation, test or all.")
    var split: String = "test"

    @Option(help: "Number of sets (the first of the split).")
    var count: Int = 8

    @Option(help: "Output folder for the PNGs (created if needed).")
    var render: String

    @Option(help: "Side of each panel in pixels.")
    var size: Int = 256

    @Option(help: "Folder of the source PNGs of a dataset built with --images (of one input of a merged dataset).")
    var images: String?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard (16...4096).contains(size) else { throw ValidationError("--size must be in 16…4096, got \(size)") }
    }

    func run() throws {
        try compute.apply()
        try requireOutputs([render], notAmong: [model, data])
        let vae = try VAEInference(checkpoint: model)
        let dataset = try GaussianDatasetFile(opening: data)
        defer { try? dataset.close() }
        let source = try DatasetSplit(dataset, split: split)
        try vae.checkSetSize(source.setSize, in: data)
        let indices = Array(0..<Swift.min(count, source.count))
        guard !indices.isEmpty else { throw FileError(data, "the '\(split)' split holds no sets") }
        let names = try indices.map { try dataset.names(source.items[$0]..<(source.items[$0] + 1))[0] }
        let sources = try SourceImages(dataset: dataset, folder: images)
        let renderer = SetRenderer(recipe: dataset.settings.recipe)
        let fittedSize = dataset.fittedImageSize

        let sets = Tensor(shape: [indices.count, vae.setSize, 8], scalars: try source.read(indices: indices))
        let decoded = vae.reconstruct(sets)
        try createOutputFolder(render)
        print("reconstructing \(indices.count) \(split) sets of \(data) with \(model) at \(size)×\(size) (\(renderer.rawValue))")
        var missing: [MissingSource] = []
        for (offset, fileName) in uniqueFileNames(names).enumerated() {
            func draw(_ sets: Tensor) -> Tensor {
                renderer.render(sets.sliced(offset..<(offset + 1), alongAxis: 0).squeezed(0),
                                fittedWidth: fittedSize, fittedHeight: fittedSize, width: size, height: size)
            }
            let fitted = draw(sets), reconstruction = draw(decoded)
            var comparison = ImageComparison()
            comparison.add(reconstruction, reference: fitted)
            var panels = [RGBImage(tensor: fitted), RGBImage(tensor: reconstruction)]
            var line = String(format: "  %@  VAE vs fitted %.2f dB / SSIM %.4f", names[offset] as NSString,
                              comparison.meanPSNR ?? .nan, comparison.meanSSIM ?? .nan)
            switch try sources.image(item: source.items[indices[offset]], size: size) {
            case .found(let original, _):
                var versusSource = ImageComparison()
                versusSource.add(reconstruction, reference: original.tensor())
                line += String(format: ", vs source %.2f dB / SSIM %.4f", versusSource.meanPSNR ?? .nan,
                               versusSource.meanSSIM ?? .nan)
                panels.insert(original, at: 0)
            case .notFound(let reason):
                missing.append(MissingSource(name: names[offset], reason: reason))
            }
            let path = (render as NSString).appendingPathComponent(fileName + ".png")
            try writeAtomically(to: path) { temporary in try sideBySide(panels, gap: 4).writePNG(to: temporary) }
            print(line + " → \(path)")
        }
        if let summary = MissingSource.summary(missing, of: indices.count) { print(summary) }
    }
}

/// `splatkit evaluate`: reconstruction quality of a VAE on a dataset split.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Measure a VAE's reconstructions on a dataset split (table, optional JSON).",
        discussion: """
            Per loss group: MSE and R² = 1 − SSE/SST in normalised representation units (R² 1 is perfect, \
            0 is no better than predicting each column's mean). Images: mean per-set PSNR and SSIM of the \
            VAE's render against the fitted set's render and, over the sets whose source image is found, \
            against the source images; fitted vs source for reference. Procedural items are regenerated; \
            photos and their crops are read from --images DIR and prepared as the build did, in merged \
            datasets too (one folder: items of other photo folders are counted as not found and left out).
            """)

    @Option(help: "The VAE checkpoint.")
    var model: String

    @Option(help: "The dataset (HDF5).")
    var data: String

    @Option(help: "Split: train, validation, test or all.")
    var split: String = "test"

    @Option(help: "Also write the numbers as JSON to this file.")
    var json: String?

    @Option(help: "Folder of the source PNGs of a dataset built with --images (of one input of a merged dataset).")
    var images: String?

    @Option(help: "Side of the renders compared (default: the dataset's image size, else 256).")
    var size: Int?

    @Option(help: "Evaluate only the first this many sets of the split.")
    var limit: Int?

    @Option(help: "Sets per forward pass.")
    var batchSize: Int = 64

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let size, !(16...4096).contains(size) { throw ValidationError("--size must be in 16…4096, got \(size)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws { try evaluate() }

    /// Runs the evaluation, prints it (and writes --json), and returns it (the demo checks it).
    @discardableResult
    func evaluate() throws -> VAEEvaluation {
        try compute.apply()
        let vae = try VAEInference(checkpoint: model, batchSize: batchSize)
        let dataset = try GaussianDatasetFile(opening: data)
        defer { try? dataset.close() }
        let source = try DatasetSplit(dataset, split: split)
        try vae.checkSetSize(source.setSize, in: data)
        guard source.count > 0 else { throw FileError(data, "the '\(split)' split holds no sets") }
        let fittedSize = dataset.fittedImageSize
        let imageSize = size ?? fittedSize
        let total = Swift.min(source.count, limit ?? source.count)
        let sources = try SourceImages(dataset: dataset, folder: images)
        let renderer = SetRenderer(recipe: dataset.settings.recipe)
        print("evaluating \(model) on \(data), \(split) split: \(total) sets of \(vae.setSize) Gaussians "
              + "(\(vae.representation.rawValue) representation)")
        let result = try evaluateVAE(vae, split: source, sources: sources, fittedSize: fittedSize, imageSize: imageSize,
                                     renderer: renderer, limit: total) { done, total in print("  \(done)/\(total) sets") }
        print(evaluationTable(result))
        if let summary = MissingSource.summary(result.missingSources, of: result.count) { print(summary) }
        if let json {
            let report = EvaluationReport(result, checkpoint: model, dataset: data, split: split,
                                          representation: vae.representation.rawValue)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let data = try encoder.encode(report)
            try writeAtomically(to: json) { temporary in
                do { try data.write(to: URL(fileURLWithPath: temporary)) } catch {
                    throw FileError(json, "cannot write: \(error.localizedDescription)")
                }
            }
            print("wrote \(json)")
        }
        return result
    }
}

// MARK: - Shared helpers

/// The root `format` attribute of an HDF5 file ("" when it has none).
func gaussianFileFormat(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such file") }
    let file = try HDF5File(opening: path)
    defer { try? file.close() }
    return (try? file.stringAttribute("format")) ?? ""
}

/// File names (without extension) for item names: '/' and control characters replaced by '_',
/// a trailing .png/.npz/.h5 dropped, empty names numbered, repeats suffixed with their index.
func uniqueFileNames(_ names: [String]) -> [String] {
    var used = Set<String>()
    return names.enumerated().map { index, name in
        var base = String(name.map { $0 == "/" || $0 == "\\" || $0.isNewline || ($0.asciiValue ?? 32) < 32 ? "_" : $0 })
        for suffix in [".png", ".npz", ".h5"] where base.lowercased().hasSuffix(suffix) {
            base = String(base.dropLast(suffix.count))
        }
        if base.isEmpty || base == "." || base == ".." { base = String(format: "set_%05d", index) }
        var unique = base
        if used.contains(unique) { unique = "\(base)_\(index)" }
        used.insert(unique)
        return unique
    }
}

/// Images of one height side by side, `gap` white pixels apart.
func sideBySide(_ images: [RGBImage], gap: Int) -> RGBImage {
    precondition(!images.isEmpty && images.allSatisfy { $0.height == images[0].height },
                 "sideBySide: images must share one height, got \(images.map { "\($0.width)×\($0.height)" })")
    let height = images[0].height
    let width = images.reduce(0) { $0 + $1.width } + gap * (images.count - 1)
    var pixels = [Float](repeating: 1, count: width * height * 3)
    var left = 0
    for image in images {
        for y in 0..<height {
            let from = y * image.width * 3, to = (y * width + left) * 3
            pixels.replaceSubrange(to..<(to + image.width * 3), with: image.pixels[from..<(from + image.width * 3)])
        }
        left += image.width + gap
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// The table `splatkit evaluate` prints.
func evaluationTable(_ result: VAEEvaluation) -> String {
    /// `text` padded with spaces to `width` characters, on the right (left-aligned) or left.
    func column(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: Swift.max(0, width - text.count))
        return left ? text + padding : padding + text
    }
    func r2(_ group: GroupReconstructionMetric) -> String {
        group.isConstant ? "constant" : group.rSquared.map { String(format: "%.4f", $0) } ?? "n/a"
    }
    var lines = ["", "  " + column("", 10) + column("model output", 26) + column("decoded sets", 26),
                 "  " + column("group", 10, left: true) + column("normalised MSE", 16) + column("R²", 10)
                     + column("normalised MSE", 16) + column("R²", 10)]
    for (group, decoded) in zip(result.groups, result.decodedGroups) {
        lines.append("  " + column(group.name, 10, left: true) + column(String(format: "%.5f", group.meanSquaredError), 16)
                     + column(r2(group), 10) + column(String(format: "%.5f", decoded.meanSquaredError), 16)
                     + column(r2(decoded), 10))
    }
    let heading = "renders \(result.imageSize)×\(result.imageSize) (\(result.renderer.rawValue))"
    lines += ["", "  " + column(heading, 26, left: true) + column("PSNR (dB)", 11) + column("SSIM", 9)]
    for (label, comparison) in [("VAE vs fitted", result.vaeVersusFitted), ("VAE vs source", result.vaeVersusSource),
                                ("fitted vs source", result.fittedVersusSource)] {
        guard let psnr = comparison.meanPSNR, let ssim = comparison.meanSSIM else { continue }
        let label = comparison.count < result.count ? "\(label) (\(comparison.count) sets)" : label
        lines.append("  " + column(label, 26, left: true) + column(String(format: "%.2f", psnr), 11)
                     + column(String(format: "%.4f", ssim), 9))
    }
    if result.groups.contains(where: \.isConstant) {
        lines += ["", "  constant: the group's values do not vary across these sets (a fixed layout's positions or shapes),",
                  "  so its error measures nothing the model learned."]
    }
    return lines.joined(separator: "\n")
}

/// `splatkit evaluate --json`: the table's numbers (snake_case keys; non-finite values → null).
struct EvaluationReport: Encodable {
    struct Group: Encodable {
        let name: String
        let mse: Double?
        let r2: Double?
        /// The targets do not vary across the sets (GroupReconstructionMetric.isConstant).
        let constant: Bool

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(mse, forKey: .mse)
            try c.encode(r2, forKey: .r2)
            try c.encode(constant, forKey: .constant)
        }

        enum CodingKeys: String, CodingKey { case name, mse, r2, constant }
    }

    struct Images: Encodable {
        let count: Int
        let psnr: Double?
        let ssim: Double?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(count, forKey: .count)
            try c.encode(psnr, forKey: .psnr)
            try c.encode(ssim, forKey: .ssim)
        }

        enum CodingKeys: String, CodingKey { case count, psnr, ssim }
    }

    let checkpoint: String
    let dataset: String
    let split: String
    let sets: Int
    let representation: String
    let imageSize: Int
    let renderer: String
    let groups: [Group]
    /// The decoded sets' figures (`VAEEvaluation.decodedGroups`).
    let decodedGroups: [Group]
    let vaeVsFitted: Images?
    let vaeVsSource: Images?
    let fittedVsSource: Images?
    /// Sets whose source image was not found (left out of the two source comparisons).
    let sourcesNotFound: Int

    init(_ result: VAEEvaluation, checkpoint: String, dataset: String, split: String, representation: String) {
        func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
        func images(_ comparison: ImageComparison) -> Images? {
            comparison.count > 0 ? Images(count: comparison.count, psnr: finite(comparison.meanPSNR), ssim: finite(comparison.meanSSIM)) : nil
        }
        self.checkpoint = checkpoint
        self.dataset = dataset
        self.split = split
        self.sets = result.count
        self.representation = representation
        self.imageSize = result.imageSize
        self.renderer = result.renderer.rawValue
        func groups(_ metrics: [GroupReconstructionMetric]) -> [Group] {
            metrics.map { Group(name: $0.name, mse: finite($0.meanSquaredError), r2: finite($0.rSquared), constant: $0.isConstant) }
        }
        self.groups = groups(result.groups)
        self.decodedGroups = groups(result.decodedGroups)
        self.vaeVsFitted = images(result.vaeVersusFitted)
        self.vaeVsSource = images(result.vaeVersusSource)
        self.fittedVsSource = images(result.fittedVersusSource)
        self.sourcesNotFound = result.missingSources.count
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(split, forKey: .split)
        try c.encode(sets, forKey: .sets)
        try c.encode(representation, forKey: .representation)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(renderer, forKey: .renderer)
        try c.encode(groups, forKey: .groups)
        try c.encode(decodedGroups, forKey: .decodedGroups)
        try c.encode(vaeVsFitted, forKey: .vaeVsFitted)  // null when absent, not omitted
        try c.encode(vaeVsSource, forKey: .vaeVsSource)
        try c.encode(fittedVsSource, forKey: .fittedVsSource)
        try c.encode(sourcesNotFound, forKey: .sourcesNotFound)
    }

    enum CodingKeys: String, CodingKey {
        case checkpoint, dataset, split, sets, representation, imageSize, renderer, groups, decodedGroups
        case vaeVsFitted, vaeVsSource, fittedVsSource, sourcesNotFound
    }
}
