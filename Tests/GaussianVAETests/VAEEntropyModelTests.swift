import Foundation
import GaussianData
import LatentCoding
import NeuralNetwork
import SplatIO
import GaussianFitting
import GaussianRasterizer
import TensorCore
import XCTest
@testable import GaussianVAE

/// A VAE with an entropy model (issue 21): trained for rate + λ·distortion on quantised latents,
/// it logs bits per set, trades rate for distortion with λ, resumes bit for bit, and its point
/// latents are integers that the latent stream codes exactly.
final class VAEEntropyModelTests: VAETrainerTestCase {
    func testRateDistortionTrainingLogsBitsAndItsLatentsCode() throws {
        let dataset = try makeDataset()
        let output = path("run")
        let result = try makeTrainer(yaml: tinyYAML(epochs: 6, entropyModel: "factorized"), dataset: dataset, output: output).run()
        XCTAssertTrue(result.finished)
        let first = result.history[0], last = result.history[5]
        XCTAssertLessThan(last.train.total, first.train.total, "\(result.history.map(\.train.total))")
        XCTAssertTrue(result.history.allSatisfy { $0.validation.bitsPerSet > 0 && $0.validation.bitsPerSet.isFinite })
        XCTAssertTrue(result.history.allSatisfy { $0.validation.kl >= 0 })

        let csv = try String(contentsOfFile: (output as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("epoch,train_total,train_reconstruction,train_kl,train_xy,train_scale,train_rotation,"
                                    + "train_colour,train_bits_per_set,val_total"), csv)

        let vae = try loadVAE(from: (output as NSString).appendingPathComponent("best.h5"))
        guard case .factorized(let prior) = vae.model.entropyModel else { return XCTFail("a factorised prior") }
        let inference = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization,
                                     representation: vae.representation)
        let file = try GaussianDatasetFile(opening: dataset)
        let count = try file.itemCount(), setSize = file.settings.setSize
        let sets = Tensor(shape: [count, setSize, 8], scalars: try file.gaussians(0..<count))
        let latents = inference.latents(of: sets, order: .none)  // (k, 4), round(μ)
        XCTAssertTrue(latents.scalars.allSatisfy { $0 == $0.rounded() }, "point latents are integers")
        let values = try XCTUnwrap(quantizedLatents(latents))
        guard case .factorized(let tables) = vae.codeTables else { return XCTFail("the checkpoint carries the prior's code tables") }
        XCTAssertEqual(tables, FactorizedCodeTables(prior: prior), "made from the saved prior")
        let bytes = LatentStream.encode(values, tables: tables)
        XCTAssertEqual(try LatentStream.decode(bytes, items: sets.shape[0], tables: tables), values)

        // The set codec: a set → .sgi (learned kind) → the set the decoder makes of round(μ).
        let codec = try VAESetCodec(checkpoint: (output as NSString).appendingPathComponent("best.h5"))
        // A set of another size is coded at the model's (its σ rescaled to 64 × 64, the dataset's
        // image size) and decoded back to its own.
        let rows = sets.sliced(0..<1, alongAxis: 0).squeezed(0)
        let set = GaussianSet(gaussians: scaledForOutput(rows, fittedWidth: 64, fittedHeight: 64, width: 128, height: 96),
                              width: 128, height: 96, recipe: .gaussVAEImport)
        let code = try codec.compress(set, source: "set0.h5")
        let codePath = path("set0.sgi")
        try code.write(to: codePath)
        let decoded = try codec.decompress(try LatentCodeFile(contentsOf: codePath), source: codePath)
        let expected = scaledForOutput(inference.reconstruct(rows.unsqueezed(0)).squeezed(0), fittedWidth: 64, fittedHeight: 64,
                                       width: 128, height: 96)
        for (mine, theirs) in zip(decoded.gaussians.scalars, expected.scalars) { XCTAssertEqual(mine, theirs, accuracy: 1e-6 * max(1, abs(theirs))) }
        XCTAssertEqual([decoded.width, decoded.height], [128, 96])
        XCTAssertEqual(decoded.recipe, .gaussVAEImport, "the model's training recipe")
        // Another model (the same run two epochs in) refuses the code; a plain VAE is no codec.
        let other = try VAESetCodec(checkpoint: (output as NSString).appendingPathComponent("epoch_0002.h5"))
        XCTAssertThrowsError(try other.decompress(code, source: codePath)) { error in
            XCTAssertTrue("\(error)".contains("another model") && "\(error)".contains(codePath), "\(error)")
        }
        // The exported model (no training state) is the same codec: same fingerprint, same bytes.
        let exported = path("exported.h5")
        try exportVAE(from: (output as NSString).appendingPathComponent("best.h5"), to: exported)
        let shipped = try VAESetCodec(checkpoint: exported)
        XCTAssertEqual(shipped.fingerprint, codec.fingerprint)
        XCTAssertEqual(try shipped.compress(set, source: "set0.h5").bytes, code.bytes)
        let state = try Checkpoint.readTrainingState(from: exported)
        XCTAssertFalse(state.extras.keys.contains { $0.hasPrefix(VAECheckpoint.bestParametersPrefix) }, "\(state.extras.keys)")
        XCTAssertNotNil(state.extras[VAECheckpoint.normalizationMean])
        let fresh = try VAEConfig.decode(yaml: tinyYAML(epochs: 6, entropyModel: "factorized"), sourceName: "tiny.yaml").makeModel()
        XCTAssertThrowsError(try Checkpoint.load(from: exported, into: fresh.store, optimizer: Optimizer(Adam(), learningRate: 1e-3),
                                                 model: VAECheckpoint.modelKind),
                             "no optimizer state: the export cannot resume training")

        let plain = path("plain")
        _ = try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: plain).run()
        XCTAssertThrowsError(try VAESetCodec(checkpoint: (plain as NSString).appendingPathComponent("best.h5"))) { error in
            XCTAssertTrue("\(error)".contains("no entropy model"), "\(error)")
        }
    }

    /// `evaluate-codec --model`: photos prepared at the model's size (the dataset's 64 px), fitted
    /// with its recipe, coded, decoded from the file and scored; the rows match the files.
    func testLearnedCodecEvaluationScoresPhotosAtTheModelSize() throws {
        let dataset = try makeDataset(recipe: .fit(.imagegsGridLayoutRidge))
        let output = path("run")
        _ = try makeTrainer(yaml: tinyYAML(epochs: 2, entropyModel: "factorized"), dataset: dataset, output: output).run()
        let exported = path("exported.h5")
        try exportVAE(from: (output as NSString).appendingPathComponent("best.h5"), to: exported)
        let shipped = try VAESetCodec(checkpoint: exported)
        let photos = path("photos")
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        var photoPaths: [String] = []
        for index in 0..<2 {
            let photo = ProceduralArt.image(index: index, size: 80, seed: 40).resized(width: 80, height: 100)
            photoPaths.append((photos as NSString).appendingPathComponent("p\(index).png"))
            try photo.writePNG(to: photoPaths[index])
        }
        let evaluation = path("evaluation")
        let rows = try evaluateLearnedCodec(shipped, model: exported, images: photoPaths, folder: evaluation, fitSteps: 20) { _, _, _ in }
        XCTAssertEqual(rows.map(\.image), ["p0", "p1"])
        for row in rows {
            let source = try RGBImage(contentsOfPNG: (evaluation as NSString).appendingPathComponent("sources/\(row.image).png"))
            XCTAssertEqual([source.width, source.height], [64, 64], "the model's image size")
            let stored = try LatentCodeFile(contentsOf: (evaluation as NSString).appendingPathComponent("\(row.image).sgi"))
            XCTAssertEqual(row.bytes, stored.bytes.count)
            XCTAssertEqual(row.bpp, Double(row.bytes * 8) / (64 * 64), accuracy: 1e-12)
            let decoded = try RGBImage(contentsOfPNG: (evaluation as NSString).appendingPathComponent("\(row.image).png"))
            XCTAssertEqual(row.psnr, Double(psnr(decoded.tensor(), source.tensor())), accuracy: 1e-4)
            XCTAssertTrue(row.ssim > -1 && row.ssim <= 1 && row.msSSIM.isNaN, "SSIM \(row.ssim), MS-SSIM \(row.msSSIM) at 64 px")
        }
        // Refinement against the image: never a worse loss than round(μ) (its step 0), deterministic.
        let picture = try RGBImage(contentsOfPNG: (evaluation as NSString).appendingPathComponent("sources/p0.png"))
        let set = try shipped.compress(image: picture, fitSteps: 20, seed: 0, source: "p0").fitted
        let mean = try shipped.posteriorMean(of: set, source: "p0")
        let unrefined = shipped.refinedLatent(from: mean, image: picture.tensor(), settings: LatentRefinement(steps: 0))
        let refined = shipped.refinedLatent(from: mean, image: picture.tensor(), settings: LatentRefinement(steps: 8, learningRate: 0.2))
        XCTAssertEqual(unrefined.latent.scalars, mean.roundedToIntegers().scalars)
        XCTAssertLessThanOrEqual(refined.loss, unrefined.loss)
        XCTAssertTrue(refined.latent.scalars.allSatisfy { $0 == $0.rounded() })
        let again = shipped.refinedLatent(from: mean, image: picture.tensor(), settings: LatentRefinement(steps: 8, learningRate: 0.2))
        XCTAssertEqual(again.latent.scalars, refined.latent.scalars)
        XCTAssertEqual(again.loss, refined.loss)
        let coded = try shipped.compress(image: picture, fitSteps: 20, seed: 0, source: "p0", refinement: LatentRefinement(steps: 8)).code
        XCTAssertEqual(try shipped.compress(image: picture, fitSteps: 20, seed: 0, source: "p0", refinement: LatentRefinement(steps: 8)).code.bytes,
                       coded.bytes, "same image and settings, same bytes")

        // Its own sources as inputs would be overwritten: refused.
        XCTAssertThrowsError(try evaluateLearnedCodec(shipped, model: exported, images: [(evaluation as NSString).appendingPathComponent("sources/p0.png")],
                                                      folder: evaluation, fitSteps: 20) { _, _, _ in }) { error in
            XCTAssertTrue("\(error)".contains("another --output"), "\(error)")
        }

        let csv = try String(contentsOfFile: (evaluation as NSString).appendingPathComponent("results.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3)
        XCTAssertTrue(csv.hasPrefix(LearnedCodecEvaluationRow.header))

    }

    /// `entropy_model: hyperprior`: training logs bits (latent and side), the checkpoint carries
    /// the side and scale tables, and a set's code decodes to the set the decoder makes of
    /// round(μ), through an exported model too.
    func testHyperpriorTrainsResumesAndCodesSets() throws {
        let hyperprior = "hyperprior\n  hyperprior_side_dim: 2\n  hyperprior_hidden_units: 6"
        let dataset = try makeDataset()
        let output = path("run")
        let result = try makeTrainer(yaml: tinyYAML(epochs: 4, entropyModel: hyperprior), dataset: dataset, output: output).run()
        XCTAssertLessThan(result.history.last!.train.total, result.history[0].train.total, "\(result.history.map(\.train.total))")
        XCTAssertTrue(result.history.allSatisfy { $0.validation.bitsPerSet > 0 && $0.validation.bitsPerSet.isFinite })

        let best = (output as NSString).appendingPathComponent("best.h5")
        let vae = try loadVAE(from: best)
        guard case .hyperprior(let model) = vae.model.entropyModel, case .hyperprior(let tables) = vae.codeTables else {
            return XCTFail("a hyperprior and its tables")
        }
        XCTAssertEqual(tables, HyperpriorCodeTables(hyperprior: model), "made from the saved hyperprior")
        XCTAssertEqual([model.sideDimensions, model.hiddenWidth], [2, 6])

        let file = try GaussianDatasetFile(opening: dataset)
        let rows = Tensor(shape: [1, 16, 8], scalars: try file.gaussians(0..<1)).squeezed(0)
        let set = GaussianSet(gaussians: rows, width: 64, height: 64, recipe: .gaussVAEImport)
        let codec = try VAESetCodec(checkpoint: best)
        let code = try codec.compress(set, source: "set0.h5")
        let codePath = path("set0.sgi")
        try code.write(to: codePath)
        let decoded = try codec.decompress(try LatentCodeFile(contentsOf: codePath), source: codePath)
        let inference = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization, representation: vae.representation)
        let expected = inference.reconstruct(rows.unsqueezed(0)).squeezed(0)
        for (mine, theirs) in zip(decoded.gaussians.scalars, expected.scalars) { XCTAssertEqual(mine, theirs, accuracy: 1e-6 * max(1, abs(theirs))) }
        let exported = path("exported.h5")
        try exportVAE(from: best, to: exported)
        XCTAssertEqual(try VAESetCodec(checkpoint: exported).compress(set, source: "set0.h5").bytes, code.bytes)
        // A damaged stream is a clear error naming the file.
        var damaged = code.bytes
        damaged[LatentCodeFile.headerSize] ^= 0x5a
        XCTAssertThrowsError(try LatentCodeFile(bytes: damaged, readFrom: codePath)) { XCTAssertTrue("\($0)".contains(codePath), "\($0)") }
    }

    func testHyperpriorRunResumesBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(entropyModel: "hyperprior\n  hyperprior_side_dim: 2\n  hyperprior_hidden_units: 6"),
                                stop: { $0.epoch == 1 && $0.batch == 2 }, expectedPosition: (1, 2))
    }

    /// `straight_through_rounding`: in training the decoder sees round(μ) (integers) while the
    /// gradient still reaches the encoder; the rate is still taken of μ + u; a run trains.
    func testStraightThroughRoundingFeedsTheDecoderIntegers() throws {
        let yaml = tinyYAML(epochs: 2, entropyModel: "factorized\n  straight_through_rounding: true")
        let config = try VAEConfig.decode(yaml: yaml, sourceName: "tiny.yaml")
        XCTAssertTrue(config.model.straightThroughRounding)
        let model = config.makeModel()
        var generator = RandomGenerator(seed: 2)
        let input = Tensor(shape: [3, 16, 8], scalars: (0..<(3 * 16 * 8)).map { _ in generator.nextNormal() })
        let output = model(input, training: true)
        XCTAssertTrue(output.latent.scalars.allSatisfy { $0 == $0.rounded() }, "the decoder's input is round(μ)")
        XCTAssertFalse(output.bits!.item.isNaN)
        (output.reconstruction * output.reconstruction).sum().backward()
        let encoderGradients = model.store.parameters.filter { $0.name.hasPrefix("encoder.") }.compactMap(\.tensor.grad)
        XCTAssertTrue(encoderGradients.contains { $0.scalars.contains { $0 != 0 } }, "the reconstruction's gradient reaches the encoder")
        let result = try makeTrainer(yaml: yaml, dataset: try makeDataset(), output: path("ste")).run()
        XCTAssertTrue(result.finished && result.history.allSatisfy { $0.train.total.isFinite })
    }

    /// A smaller λ buys fewer bits with more distortion (same data, seed and epochs).
    func testLambdaTradesRateForDistortion() throws {
        let dataset = try makeDataset()
        func run(_ lambda: Double) throws -> VAELossValues {
            let yaml = tinyYAML(epochs: 8, entropyModel: "factorized", rateLambda: lambda)
            return try makeTrainer(yaml: yaml, dataset: dataset, output: path("lambda-\(lambda)")).run().history.last!.validation
        }
        let cheap = try run(0.5), dear = try run(2000)
        XCTAssertLessThan(cheap.bitsPerSet, dear.bitsPerSet, "bits per set: λ 0.5 \(cheap.bitsPerSet), λ 2000 \(dear.bitsPerSet)")
        XCTAssertGreaterThan(cheap.reconstruction, dear.reconstruction)
    }

    func testEntropyModelRunResumesBitExact() throws {
        try assertResumeIsExact(yaml: tinyYAML(entropyModel: "factorized"), stop: { $0.epoch == 1 && $0.batch == 2 },
                                expectedPosition: (1, 2))
    }

    func testUnknownEntropyModelIsAClearError() {
        XCTAssertThrowsError(try VAEConfig.decode(yaml: tinyYAML(entropyModel: "hyperfancy"), sourceName: "tiny.yaml")) { error in
            XCTAssertTrue("\(error)".contains("entropy_model") && "\(error)".contains("factorized")
                          && "\(error)".contains("hyperprior"), "\(error)")
        }
    }
}
