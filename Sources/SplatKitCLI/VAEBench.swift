import ArgumentParser
import Foundation
import GaussianVAE
import NeuralNetwork
import TensorCore

/// `splatkit bench vae`: median milliseconds of one VAE training step (forward, backward, Adam)
/// on random normalised sets; compare with scripts/reference/bench_vae.py.
struct VAEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Time a VAE training step (forward, backward, Adam) for a config on random data.")

    @Option(help: "The VAE config (YAML).")
    var config: String

    @Option(help: "Batch size (default: the config's training.batch_size).")
    var batch: Int?

    @Option(help: "Timed steps (after --warmup untimed ones).")
    var steps: Int = 10

    @Option(help: "Untimed warm-up steps.")
    var warmup: Int = 2

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be at least 1 and --warmup not negative") }
    }

    func run() throws {
        try compute.apply()
        let vaeConfig = try VAEConfig.load(from: config)
        let batchSize = batch ?? vaeConfig.training.batchSize
        let model = vaeConfig.makeModel()
        let representation = vaeConfig.data.representation
        let shape = [batchSize, vaeConfig.model.numGaussians, representation.columns]
        var generator = RandomGenerator(seed: 1)
        let input = Tensor.normal(shape, using: &generator)  // normalised sets are ~N(0, 1) per column
        let optimizer = Optimizer(Adam(epsilon: Adam.kerasEpsilon), learningRate: Float(vaeConfig.training.learningRate))
        let beta = Float(vaeConfig.training.maxBeta), weights = vaeConfig.lossWeights.groupWeights
        let summary = model.summary()
        let name = ((config as NSString).lastPathComponent as NSString).deletingPathExtension + "_b\(batchSize)"
        print("splatkit \(SplatKit.version) VAE training step: \(vaeConfig.model.name) (\(vaeConfig.model.architecture.rawValue)), "
              + "\(groupedDigits(summary.parameterCount)) parameters, input \(shape), \(ComputeThreads.count) threads")
        let result = runBenchmark(name, shape: "(\(shape.map(String.init).joined(separator: ",")))", warmup: warmup,
                                  repeats: steps) {
            let output = model(input, training: true)
            let loss = vaeLoss(reconstruction: output.reconstruction, target: input, mean: output.mean,
                               logVariance: output.logVariance, representation: representation, groupWeights: weights, beta: beta)
            loss.total.backward()
            optimizer.update(model.store)
            model.store.zeroGradients()
        }
        let samplesPerSecond = Double(batchSize) / (result.medianMilliseconds / 1000)
        let peak = peakResidentMegabytes()
        print(String(format: "  %.1f samples/s, peak resident memory %@", samplesPerSecond,
                     peak.map { String(format: "%.0f MB", $0) } ?? "unknown"))
        if let json {
            let report = VAEBenchReport(
                implementation: "splatkit \(SplatKit.version)", threads: ComputeThreads.count,
                cases: [VAEBenchCase(name: name, shape: result.shape, medianMilliseconds: result.medianMilliseconds,
                                     samplesPerSecond: samplesPerSecond, peakMemoryMegabytes: peak,
                                     parameters: summary.parameterCount)])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
        }
    }
}

/// The JSON of `bench vae`, the layout scripts/reference/bench_vae.py writes.
struct VAEBenchReport: Codable {
    let implementation: String
    let threads: Int
    let cases: [VAEBenchCase]
}

struct VAEBenchCase: Codable {
    let name: String
    let shape: String
    let medianMilliseconds: Double
    let samplesPerSecond: Double
    let peakMemoryMegabytes: Double?
    /// Keras-style total: trainable plus batch-norm moving statistics.
    let parameters: Int

    enum CodingKeys: String, CodingKey {
        case name, shape, parameters
        case medianMilliseconds = "median_ms", samplesPerSecond = "samples_per_s", peakMemoryMegabytes = "peak_memory_mb"
    }
}

/// The process's peak resident set size (VmHWM in /proc/self/status) in MB (10⁶ bytes), or nil
/// where /proc is unavailable.
func peakResidentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024 / 1e6
}
