// VAE inference (VAEInference.swift, LatentsFile.swift) with a tiny untrained model: shapes,
// batching, the de-normalisation round trip, R² at its two anchors, the latents file, a tiny
// dataset evaluated end to end, and a checkpoint saved as `splatkit train` does, then loaded.

import Foundation
import GaussianFitting
@testable import GaussianData
import GaussianRasterizer
@testable import GaussianVAE
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest

/// 16 Gaussians, latent 4: encoder 16 → pool 2 → 8 → global pool; decoder reshape (8, 4) → ×2.
private let tinyYAML = """
    model:
      name: conv1d_tiny
      architecture: conv1d
      latent_dim: 4
      num_gaussians: 16
      encoder_filters: [4, 8]
      encoder_kernel_sizes: [3, 3]
      encoder_pool_sizes: [2, null]
      encoder_dropout_rates: [0.1, 0.1]
      encoder_dense_units: 8
      encoder_dense_dropout: 0.1
      decoder_dense_units: [8, 32]
      decoder_reshape_target: [8, 4]
      decoder_filters: [4]
      decoder_kernel_sizes: [3]
      decoder_upsample_sizes: [2]
      decoder_dropout_rates: [0.0]
    data:
      representation: %@
    seed: 3
    """

/// The tiny config; `globalPool` nil leaves `encoder_global_pool` out, as configs written
/// before the key existed do.
private func tinyConfigText(_ representation: SetRepresentation = .plain, globalPool: VAEEncoderGlobalPool? = nil)
    -> String {
    let pools = "  encoder_pool_sizes: [2, null]\n"
    return tinyYAML.replacingOccurrences(of: "%@", with: representation.rawValue)
        .replacingOccurrences(of: pools, with: pools + (globalPool.map { "  encoder_global_pool: \($0.rawValue)\n" } ?? ""))
}

/// k plausible Image-GS sets (k, N, 8), each in Morton order: positions in [0, 1], σ of 1–5
/// pixels, any rotation, colours in [0, 1].
private func syntheticSets(count: Int, gaussians: Int = 16, seed: UInt64 = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    var values: [Float] = []
    for _ in 0..<(count * gaussians) {
        values += [generator.nextUniform(), generator.nextUniform(),
                   0.2 + 0.8 * generator.nextUniform(), 0.2 + 0.8 * generator.nextUniform(),
                   (generator.nextUniform() * 2 - 1) * .pi,
                   generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
    }
    return SpatialOrder.morton.ordered(Tensor(shape: [count, gaussians, 8], scalars: values))
}

/// A tiny untrained VAE with the normalisation of `sets` in its representation.
private func tinyVAE(_ representation: SetRepresentation = .plain, globalPool: VAEEncoderGlobalPool? = nil,
                     fittedTo sets: Tensor, batchSize: Int = 64) throws -> VAEInference {
    let config = try VAEConfig.decode(yaml: tinyConfigText(representation, globalPool: globalPool), sourceName: "tiny")
    let normalization = ColumnNormalization.fitted(to: [representation.encode(sets.scalars)], columns: representation.columns)
    return VAEInference(model: config.makeModel(), config: config, normalization: normalization,
                        representation: representation, batchSize: batchSize)
}

private func assertClose(_ a: [Float], _ b: [Float], accuracy: Float, _ message: String = "", line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, accuracy, "largest difference \(worst). \(message)", line: line)
}

final class VAEInferenceTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vae-inference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A complete dataset of `count` synthetic sets named art_00000… (procedural names), images
    /// of 32 pixels, seed 9.
    private func writeDataset(count: Int, at file: String, names: [String]? = nil) throws -> Tensor {
        let sets = syntheticSets(count: count, seed: 4)
        let settings = DatasetSettings(setSize: 16, imageSize: 32, steps: 1, recipe: .fit(.imagegs), order: .morton, seed: 9,
                                       splits: [0.5, 0.25, 0.25])
        let dataset = try GaussianDatasetFile(creating: file, settings: settings)
        for index in 0..<count {
            let rows = Array(sets.scalars[(index * 128)..<((index + 1) * 128)])
            try dataset.append(DatasetItem(name: names?[index] ?? String(format: "art_%05d", index), gaussians: rows, psnr: 30,
                                           ssim: 0.9, sourceWidth: 32, sourceHeight: 32), at: index)
        }
        try dataset.finish()
        try dataset.close()
        return sets
    }

    // MARK: Encode and decode

    func testEncodeDecodeShapesAndBatchIndependence() throws {
        let sets = syntheticSets(count: 5)
        for representation in SetRepresentation.allCases {
            let vae = try tinyVAE(representation, fittedTo: sets)
            let latents = vae.latents(of: sets)
            XCTAssertEqual(latents.shape, [5, 4], representation.rawValue)
            let decoded = vae.decode(latents)
            XCTAssertEqual(decoded.shape, [5, 16, 8], "Image-GS columns whatever the representation")
            XCTAssertTrue(decoded.scalars.allSatisfy(\.isFinite))
            XCTAssertEqual(vae.decodeNormalized(latents).shape, [5, 16, representation.columns])

            var small = vae
            small.batchSize = 2  // batches of 2, 2, 1
            assertClose(small.latents(of: sets).scalars, latents.scalars, accuracy: 1e-5, "batch size does not matter")
            assertClose(small.decode(latents).scalars, decoded.scalars, accuracy: 1e-4, "batch size does not matter")
        }
    }

    func testInferenceIsDeterministicAndSamplingIsSeeded() throws {
        let sets = syntheticSets(count: 3)
        let vae = try tinyVAE(fittedTo: sets)
        XCTAssertEqual(vae.latents(of: sets).scalars, vae.latents(of: sets).scalars, "training = false: no dropout")
        let first = vae.latents(of: sets, sampleSeed: 7), again = vae.latents(of: sets, sampleSeed: 7)
        XCTAssertEqual(first.scalars, again.scalars)
        XCTAssertNotEqual(first.scalars, vae.latents(of: sets, sampleSeed: 8).scalars)
        XCTAssertNotEqual(first.scalars, vae.latents(of: sets).scalars, "a sample is not the mean")
        // Sets already in Morton order: ordering them again changes nothing.
        XCTAssertEqual(vae.latents(of: sets, order: .none).scalars, vae.latents(of: sets).scalars)
    }

    /// The library's encoding of a dataset split (the `encode` command's) equals encoding the
    /// same sets directly, chunk size aside, with names, order and size from the dataset; a
    /// single set goes in the model's training order unless told otherwise.
    func testLatentsFilesOfADatasetAndOfOneSet() throws {
        let file = path("data.h5")
        let sets = try writeDataset(count: 8, at: file)
        let vae = try tinyVAE(fittedTo: sets)
        var reports: [Int] = []
        let all = try vae.latentsFile(ofDataset: file, split: "all", checkpoint: "model.h5", chunk: 3) { done, total in
            XCTAssertEqual(total, 8)
            reports.append(done)
        }
        XCTAssertEqual(reports, [3, 6, 8])
        assertClose(all.latents.scalars, vae.latents(of: sets, order: .none).scalars, accuracy: 1e-5)
        XCTAssertEqual(all.names, (0..<8).map { String(format: "art_%05d", $0) })
        XCTAssertEqual(all.order, .morton)
        XCTAssertEqual([all.width, all.height], [32, 32])
        XCTAssertEqual(all.split, "all")
        XCTAssertThrowsError(try vae.latentsFile(ofDataset: path("missing.h5"), split: "all", checkpoint: "model.h5"))

        let set = GaussianSet(gaussians: sets.sliced(0..<1, alongAxis: 0).squeezed(0), width: 32, height: 32)
        let hilbertTrained = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization,
                                          representation: vae.representation,
                                          trainedOn: VAETrainedOn(order: .hilbert, fittedImageSize: 32, recipe: .fit(.imagegs)))
        XCTAssertEqual(try hilbertTrained.latentsFile(of: set, name: "one", checkpoint: "m.h5", source: "one.h5").order, .hilbert)
        XCTAssertEqual(try vae.latentsFile(of: set, name: "one", checkpoint: "m.h5", source: "one.h5").order, .morton)
        XCTAssertEqual(try vae.latentsFile(of: set, name: "one", order: SpatialOrder.none, checkpoint: "m.h5", source: "one.h5").latents.scalars,
                       vae.latents(of: set.gaussians.unsqueezed(0), order: .none).scalars)
    }

    /// normalised → Image-GS (de-normalise, representation decode) → normalised is the identity.
    func testDenormalizationRoundTrip() throws {
        let sets = syntheticSets(count: 4)
        // Plain: any normalised rows.
        let plain = try tinyVAE(.plain, fittedTo: sets)
        var generator = RandomGenerator(seed: 5)
        let normalized = Tensor.normal([4, 16, 8], using: &generator)
        assertClose(plain.normalizedInput(plain.imageGSSets(normalized: normalized)).scalars, normalized.scalars,
                    accuracy: 1e-4)
        // Canonical: rows the representation can produce (σ_major ≥ σ_minor, unit (cos 2θ, sin 2θ),
        // colours in [0, 1]).
        let canonical = try tinyVAE(.canonical, fittedTo: sets)
        let input = canonical.normalizedInput(sets)
        XCTAssertEqual(input.shape, [4, 16, 9])
        assertClose(canonical.normalizedInput(canonical.imageGSSets(normalized: input)).scalars, input.scalars,
                    accuracy: 1e-4)
        // And the Image-GS rows come back as the same Gaussians (θ up to π, scales up to the swap).
        let back = canonical.imageGSSets(normalized: input)
        assertClose(renderImageGS(back, width: 16, height: 16).scalars, renderImageGS(sets, width: 16, height: 16).scalars,
                    accuracy: 1e-3, "same ellipses")
    }

    // MARK: Metrics

    func testRSquaredOfPerfectAndMeanPredictions() throws {
        var generator = RandomGenerator(seed: 6)
        let batches = [Tensor.normal([3, 16, 8], using: &generator), Tensor.normal([2, 16, 8], using: &generator) * 3 + 1]
        var perfect = ReconstructionMetrics(representation: .plain)
        for batch in batches { perfect.add(reconstruction: batch, target: batch) }
        XCTAssertEqual(perfect.count, 5 * 16)
        XCTAssertEqual(perfect.groups.map(\.name), ["xy", "scale", "rotation", "colour", "all"])
        for group in perfect.groups {
            XCTAssertEqual(group.meanSquaredError, 0, group.name)
            XCTAssertEqual(try XCTUnwrap(group.rSquared), 1, group.name)
        }
        // Predict every column's mean over both batches: SSE = SST, so R² = 0.
        let all = batches.flatMap(\.scalars)
        let means = (0..<8).map { c in stride(from: c, to: all.count, by: 8).map { Double(all[$0]) }.reduce(0, +) / 80 }
        var meanPrediction = ReconstructionMetrics(representation: .plain)
        for batch in batches {
            let prediction = Tensor(shape: batch.shape, scalars: batch.scalars.indices.map { Float(means[$0 % 8]) })
            meanPrediction.add(reconstruction: prediction, target: batch)
        }
        for group in meanPrediction.groups {
            XCTAssertEqual(try XCTUnwrap(group.rSquared), 0, accuracy: 1e-6, group.name)
            XCTAssertGreaterThan(group.meanSquaredError, 0.5, group.name)
        }
    }

    /// By hand: the rotation column holds targets 1, 2, 3 (mean 2, SST = 2) and predictions
    /// 1, 2, 4 (SSE = 1): MSE = 1/3, R² = 1 − 1/2. Other columns are constant: R² undefined.
    func testRSquaredByHand() {
        var target = [Float](repeating: 0, count: 3 * 8), prediction = target
        for (row, (t, p)) in zip([Float(1), 2, 3], [Float(1), 2, 4]).enumerated() {
            target[row * 8 + 4] = t
            prediction[row * 8 + 4] = p
        }
        var metrics = ReconstructionMetrics(representation: .plain)
        metrics.add(reconstruction: Tensor(shape: [1, 3, 8], scalars: prediction), target: Tensor(shape: [1, 3, 8], scalars: target))
        let rotation = metrics.groups[2]
        XCTAssertEqual(rotation.name, "rotation")
        XCTAssertEqual(rotation.meanSquaredError, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(rotation.rSquared ?? .nan, 0.5, accuracy: 1e-12)
        XCTAssertNil(metrics.groups[0].rSquared, "constant targets")
        XCTAssertTrue(metrics.groups[0].isConstant, "xy does not vary: constant, not learned")
        XCTAssertFalse(rotation.isConstant)
        XCTAssertFalse(metrics.groups[4].isConstant)
        XCTAssertEqual(metrics.groups[4].rSquared ?? .nan, 0.5, accuracy: 1e-12, "all: the same SSE over the same SST")
    }

    func testImageComparison() {
        var generator = RandomGenerator(seed: 2)
        let image = Tensor.uniform([3, 16, 16], using: &generator)
        var comparison = ImageComparison()
        comparison.add(image, reference: image)
        XCTAssertEqual(comparison.meanPSNR, .infinity)
        XCTAssertEqual(comparison.meanSSIM ?? 0, 1, accuracy: 1e-5)
        comparison.add((image + 0.1).clamped(min: 0, max: 1), reference: image)
        XCTAssertEqual(comparison.count, 2)
        XCTAssertNil(ImageComparison().meanPSNR)
    }

    // MARK: Latents file

    func testLatentsFileRoundTripAndChecks() throws {
        let sets = syntheticSets(count: 3)
        let vae = try tinyVAE(fittedTo: sets)
        let latents = LatentsFile(latents: vae.latents(of: sets, sampleSeed: 12), names: ["a", "é/b", ""],
                                  checkpoint: "runs/x/best.h5", representation: .plain, sampled: true, seed: 12,
                                  setSize: 16, order: .morton, width: 64, height: 48, source: "data.h5", split: "test")
        let file = path("latents.h5")
        try latents.write(to: file)
        let read = try LatentsFile(contentsOf: file)
        XCTAssertEqual(read.latents.shape, [3, 4])
        XCTAssertEqual(read.latents.scalars, latents.latents.scalars)
        XCTAssertEqual(read.names, ["a", "é/b", ""])
        XCTAssertEqual(read.checkpoint, "runs/x/best.h5")
        XCTAssertEqual(read.representation, .plain)
        XCTAssertTrue(read.sampled)
        XCTAssertEqual(read.seed, 12)
        XCTAssertEqual(read.setSize, 16)
        XCTAssertEqual(read.order, .morton)
        XCTAssertEqual(read.width, 64)
        XCTAssertEqual(read.height, 48)
        XCTAssertEqual(read.source, "data.h5")
        XCTAssertEqual(read.split, "test")
        XCTAssertNoThrow(try read.checkCompatible(with: vae, checkpoint: "best.h5", latentsPath: file))

        let minimalFile = path("minimal.h5")
        let unsampled = LatentsFile(latents: Tensor.zeros([1, 4]), names: ["one"], checkpoint: "c.h5",
                                    representation: .plain, sampled: false, setSize: 16, order: .none)
        try unsampled.write(to: minimalFile)
        let minimal = try LatentsFile(contentsOf: minimalFile)
        XCTAssertFalse(minimal.sampled)
        XCTAssertNil(minimal.seed)
        XCTAssertNil(minimal.width)
        XCTAssertNil(minimal.split)

        // Forged sizes (issue 23): a set size or image side no set can have is refused on read.
        for (name, value, reason) in [("set_size", 0, "set_size 0 is invalid (a set holds 1...1048576 Gaussians)"),
                                      ("set_size", 1 << 62, "set_size \(1 << 62) is invalid (a set holds 1...1048576 Gaussians)"),
                                      ("width", 1 << 62, "image size \(1 << 62)×48 is invalid (sides must be 1...65536)")] {
            let forged = path("forged.h5")
            try latents.write(to: forged)
            let raw = try HDF5File(opening: forged, mode: .readWrite)
            try raw.setAttribute(name, to: value)
            try raw.close()
            XCTAssertThrowsError(try LatentsFile(contentsOf: forged)) { XCTAssertEqual($0 as? FileError, FileError(forged, reason)) }
        }

        // A model with another latent size, another representation, another set size.
        var config = try VAEConfig.decode(yaml: tinyConfigText(), sourceName: "tiny")
        config.model.latentDim = 6
        let wider = VAEInference(model: config.makeModel(), config: config, normalization: vae.normalization,
                                 representation: .plain)
        XCTAssertThrowsError(try read.checkCompatible(with: wider, checkpoint: "other.h5", latentsPath: file)) { error in
            XCTAssertTrue("\(error)".contains("4-dimensional latents"), "\(error)")
        }
        let canonical = try tinyVAE(.canonical, fittedTo: sets)
        XCTAssertThrowsError(try read.checkCompatible(with: canonical, checkpoint: "other.h5", latentsPath: file)) { error in
            XCTAssertTrue("\(error)".contains("plain representation"), "\(error)")
        }
        var mismatched = read
        mismatched.setSize = 32
        XCTAssertThrowsError(try mismatched.checkCompatible(with: vae, checkpoint: "other.h5", latentsPath: file)) { error in
            XCTAssertTrue("\(error)".contains("32 Gaussians"), "\(error)")
        }
    }

    func testReadingOtherFilesFailsClearly() throws {
        let setFile = path("set.h5")
        try GaussianSet(gaussians: Tensor.zeros([16, 8]), width: 8, height: 8).write(to: setFile)
        XCTAssertThrowsError(try LatentsFile(contentsOf: setFile)) { error in
            XCTAssertTrue("\(error)".contains("not a SplatKit latents file"), "\(error)")
            XCTAssertTrue("\(error)".contains("splatkit encode"), "\(error)")
        }
        XCTAssertThrowsError(try LatentsFile(contentsOf: path("missing.h5"))) { error in
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
        let vae = try tinyVAE(fittedTo: syntheticSets(count: 2))
        XCTAssertThrowsError(try vae.checkSetSize(512, in: "big.h5")) { error in
            XCTAssertTrue("\(error)".contains("512 Gaussians but the model takes 16"), "\(error)")
        }
    }

    // MARK: A dataset end to end

    func testEvaluateTinyDataset() throws {
        let file = path("data.h5")
        let sets = try writeDataset(count: 8, at: file)
        let dataset = try GaussianDatasetFile(opening: file)
        defer { try? dataset.close() }
        let all = try DatasetSplit(dataset, split: "all")
        XCTAssertEqual(try all.read(indices: Array(0..<8)), sets.scalars)
        let sources = try SourceImages(dataset: dataset, folder: nil)
        XCTAssertEqual(try sources.image(item: 3, size: 32).image, ProceduralArt.image(index: 3, size: 32, seed: 9))

        var vae = try tinyVAE(fittedTo: sets)
        vae.batchSize = 3
        let result = try evaluateVAE(vae, split: all, sources: sources, fittedSize: 32, imageSize: 32, renderer: .topK)
        XCTAssertEqual(result.count, 8)
        XCTAssertEqual(result.groups.count, 5)
        XCTAssertEqual(result.vaeVersusFitted.count, 8)
        XCTAssertEqual(result.vaeVersusSource.count, 8)
        XCTAssertEqual(result.fittedVersusSource.count, 8)
        XCTAssertEqual(result.missingSources, [])
        XCTAssertTrue(result.groups.allSatisfy { $0.meanSquaredError.isFinite && $0.meanSquaredError > 0 })

        // The metrics are those of the reconstruction computed directly.
        var direct = ReconstructionMetrics(representation: .plain)
        let input = vae.normalizedInput(sets)
        direct.add(reconstruction: vae.reconstructNormalized(input), target: input)
        for (a, b) in zip(result.groups, direct.groups) {
            XCTAssertEqual(a.meanSquaredError, b.meanSquaredError, accuracy: 1e-6 * b.meanSquaredError, a.name)
        }

        // Plain sets decode to themselves, so the decoded sets score the same.
        for (a, b) in zip(result.decodedGroups, result.groups) {
            XCTAssertEqual(a.meanSquaredError, b.meanSquaredError, accuracy: 1e-6 * b.meanSquaredError, a.name)
        }

        let limited = try evaluateVAE(vae, split: try DatasetSplit(dataset, split: "test"), sources: nil,
                                      fittedSize: 32, imageSize: 32, renderer: .topK, limit: 1)
        XCTAssertEqual(limited.count, 1)
        XCTAssertEqual(limited.vaeVersusSource.count, 0)
    }

    /// Canonical decoded sets are scored after decoding: the model's rows taken to the Gaussians
    /// they stand for (unit-circle orientation, ordered scales, clamped colour) and back. An
    /// untrained model's (cos 2θ, sin 2θ) are far from the unit circle, so the two differ there.
    func testEvaluateScoresCanonicalDecodedSets() throws {
        let file = path("canonical.h5")
        let sets = try writeDataset(count: 4, at: file)
        let dataset = try GaussianDatasetFile(opening: file)
        defer { try? dataset.close() }
        let vae = try tinyVAE(.canonical, fittedTo: sets)
        let result = try evaluateVAE(vae, split: try DatasetSplit(dataset, split: "all"), sources: nil,
                                     fittedSize: 32, imageSize: 32, renderer: .topK)
        let input = vae.normalizedInput(sets)
        var direct = ReconstructionMetrics(representation: .canonical)
        direct.add(reconstruction: vae.normalizedInput(vae.reconstruct(sets)), target: input)
        XCTAssertEqual(result.decodedGroups.map(\.name), ["xy", "scale", "rotation", "colour", "all"])
        for (a, b) in zip(result.decodedGroups, direct.groups) {
            XCTAssertEqual(a.meanSquaredError, b.meanSquaredError, accuracy: 1e-6 * b.meanSquaredError, a.name)
        }
        let rotation = { (groups: [GroupReconstructionMetric]) in groups.first { $0.name == "rotation" }!.meanSquaredError }
        XCTAssertNotEqual(rotation(result.decodedGroups), rotation(result.groups), accuracy: 1e-3)
    }

    /// Sets whose source is not found are left out of the source comparisons and listed with the
    /// reason; the evaluation goes on.
    func testEvaluationLeavesOutSetsWithoutASource() throws {
        let file = path("mixed.h5"), images = path("images")
        let sets = try writeDataset(count: 3, at: file, names: ["art_00000", "photo.png", "other.png"])
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try ProceduralArt.image(index: 5, size: 40, seed: 1).writePNG(to: (images as NSString).appendingPathComponent("photo.png"))
        let dataset = try GaussianDatasetFile(opening: file)
        defer { try? dataset.close() }
        let result = try evaluateVAE(try tinyVAE(fittedTo: sets), split: try DatasetSplit(dataset, split: "all"),
                                     sources: try SourceImages(dataset: dataset, folder: images), fittedSize: 32, imageSize: 32,
                                     renderer: .topK)
        XCTAssertEqual(result.vaeVersusFitted.count, 3)
        XCTAssertEqual(result.vaeVersusSource.count, 2)
        XCTAssertEqual(result.fittedVersusSource.count, 2)
        XCTAssertEqual(result.missingSources, [MissingSource(name: "other.png", reason: "no such PNG in \(images)")])
    }

    /// Rendering at another size keeps the picture: a 2× render, averaged 2 × 2, is close to
    /// the 1× render.
    func testRenderingAtAnotherSizeScalesTheGaussians() {
        let set = syntheticSets(count: 1).squeezed(0)
        let small = SetRenderer.topK.render(set, fittedWidth: 16, fittedHeight: 16, width: 16, height: 16)
        let large = SetRenderer.topK.render(set, fittedWidth: 16, fittedHeight: 16, width: 32, height: 32)
        XCTAssertEqual(large.shape, [3, 32, 32])
        var pooled = [Float](repeating: 0, count: 3 * 16 * 16)
        for c in 0..<3 {
            for y in 0..<16 {
                for x in 0..<16 {
                    pooled[(c * 16 + y) * 16 + x] = (large[c, 2 * y, 2 * x] + large[c, 2 * y + 1, 2 * x]
                                                     + large[c, 2 * y, 2 * x + 1] + large[c, 2 * y + 1, 2 * x + 1]) / 4
                }
            }
        }
        XCTAssertGreaterThan(psnr(Tensor(shape: [3, 16, 16], scalars: pooled), small), 25)
    }

    /// The render loss shows a set as it looks: fitted to a 96-pixel image and rendered at 64,
    /// it matches `SetRenderer` (evaluate's renders) at that magnification, in both
    /// representations; at its own size it is not magnified.
    func testRenderLossMagnifiesSetsFittedAtAnotherSize() {
        let set = syntheticSets(count: 1, gaussians: 24, seed: 5).squeezed(0)  // (24, 8) Image-GS rows
        for representation in SetRepresentation.allCases {
            let rows = representation.encode(set.scalars)
            let sets = Tensor(shape: [1, 24, representation.columns], scalars: rows)
            let decoded = Tensor(shape: [24, 8], scalars: representation.decode(rows))
            let identity = ColumnNormalization(mean: Array(repeating: 0, count: representation.columns),
                                               standardDeviation: Array(repeating: 1, count: representation.columns))
            for fittedSize in [96, 64] {
                let rendered = renderNormalizedSets(sets, representation: representation, normalization: identity,
                                                    fittedSize: fittedSize).clamped(min: 0, max: 1)
                XCTAssertEqual(rendered.shape, [1, 3, 64, 64])
                let reference = SetRenderer.topK.render(decoded, fittedWidth: fittedSize, fittedHeight: fittedSize,
                                                        width: 64, height: 64)
                for (a, b) in zip(rendered.scalars, reference.scalars) {
                    XCTAssertEqual(a, b, accuracy: 1e-4, "\(representation), fitted at \(fittedSize)")
                }
            }
        }
    }

    // MARK: Checkpoints

    /// Saved as VAETrainer does (model "gaussvae", the config text, the normalisation extras),
    /// loaded with `loadVAE`: the same μ. A config without `encoder_global_pool` (written before
    /// the key existed) loads as average; a flatten model's saved config rebuilds its wider bridge.
    func testCheckpointRoundTripGivesSameLatents() throws {
        let sets = syntheticSets(count: 4)
        let cases = SetRepresentation.allCases.map { ($0, VAEEncoderGlobalPool?.none) } + [(.canonical, .flatten)]
        for (representation, globalPool) in cases {
            let vae = try tinyVAE(representation, globalPool: globalPool, fittedTo: sets)
            // Move the batch-norm statistics off their initial values so loading them matters.
            for (_, buffer) in vae.model.store.buffers { buffer.scalars = buffer.scalars.map { $0 * 1.5 + 0.25 } }
            let file = path("\(representation.rawValue)-\(globalPool?.rawValue ?? "absent").h5")
            try Checkpoint.save(to: file, store: vae.model.store, optimizer: nil, state: TrainingState(
                model: VAECheckpoint.modelKind, config: tinyConfigText(representation, globalPool: globalPool),
                step: 10, epoch: 1, extras: VAECheckpoint.extras(for: vae.normalization)))
            let loaded = try VAEInference(checkpoint: file)
            XCTAssertEqual(loaded.representation, representation)
            XCTAssertEqual(loaded.config.model.encoderGlobalPool, globalPool ?? .average)
            XCTAssertEqual(loaded.model.store.parameter(named: "encoder.dense.linear.weight")?.shape,
                           [globalPool == .flatten ? 8 * 8 : 8, 8], "8 channels, × 8 steps when flattened")
            XCTAssertEqual(loaded.normalization, vae.normalization)
            XCTAssertEqual(loaded.latents(of: sets).scalars, vae.latents(of: sets).scalars, representation.rawValue)
            let latents = vae.latents(of: sets)
            XCTAssertEqual(loaded.decode(latents).scalars, vae.decode(latents).scalars, representation.rawValue)
        }
    }

    func testNonVAECheckpointIsRejected() throws {
        let vae = try tinyVAE(fittedTo: syntheticSets(count: 2))
        let file = path("other.h5")
        try Checkpoint.save(to: file, store: vae.model.store, optimizer: nil,
                            state: TrainingState(model: "inpainting", config: tinyConfigText()))
        XCTAssertThrowsError(try VAEInference(checkpoint: file)) { error in
            XCTAssertTrue("\(error)".contains("not a Gaussian-set VAE"), "\(error)")
        }
        let noExtras = path("no-extras.h5")
        try Checkpoint.save(to: noExtras, store: vae.model.store, optimizer: nil,
                            state: TrainingState(model: VAECheckpoint.modelKind, config: tinyConfigText()))
        XCTAssertThrowsError(try VAEInference(checkpoint: noExtras)) { error in
            XCTAssertTrue("\(error)".contains("normalization"), "\(error)")
        }
    }
}
