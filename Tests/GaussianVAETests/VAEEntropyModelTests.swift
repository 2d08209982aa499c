import Foundation
import GaussianData
import LatentCoding
import NeuralNetwork
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
        let prior = try XCTUnwrap(vae.model.latentPrior)
        let inference = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization,
                                     representation: vae.representation)
        let file = try GaussianDatasetFile(opening: dataset)
        let count = try file.itemCount(), setSize = file.settings.setSize
        let sets = Tensor(shape: [count, setSize, 8], scalars: try file.gaussians(0..<count))
        let latents = inference.latents(of: sets, order: .none)  // (k, 4), round(μ)
        XCTAssertTrue(latents.scalars.allSatisfy { $0 == $0.rounded() }, "point latents are integers")
        let values = try XCTUnwrap(quantizedLatents(latents))
        let tables = try XCTUnwrap(vae.codeTables, "the checkpoint carries the prior's code tables")
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
        let plain = path("plain")
        _ = try makeTrainer(yaml: tinyYAML(epochs: 1), dataset: dataset, output: plain).run()
        XCTAssertThrowsError(try VAESetCodec(checkpoint: (plain as NSString).appendingPathComponent("best.h5"))) { error in
            XCTAssertTrue("\(error)".contains("no entropy model"), "\(error)")
        }
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
            XCTAssertTrue("\(error)".contains("entropy_model") && "\(error)".contains("factorized"), "\(error)")
        }
    }
}
