import Foundation
import GaussianData
import LatentCoding
import NeuralNetwork
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
        let tables = FactorizedCodeTables(prior: prior)
        let bytes = LatentStream.encode(values, tables: tables)
        XCTAssertEqual(try LatentStream.decode(bytes, items: sets.shape[0], tables: tables), values)
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
