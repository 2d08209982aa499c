import ArgumentParser
import GaussianVAE
import SplatIO

/// `splatkit summary`: the layer table and parameter totals of the VAE a config describes.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a VAE config's model summary: per-layer output shapes and parameters, and the totals.",
        discussion: "Counts follow Keras: batch-norm moving statistics are counted as non-trainable parameters.")

    @Option(help: "The VAE config (YAML).")
    var config: String

    func run() throws {
        let vaeConfig = try VAEConfig.load(from: config)
        let model = vaeConfig.makeModel(allocating: false)  // counts the parameters, allocates none
        print(model.summary())
        let representation = vaeConfig.data.representation
        print("Input and output: (B, \(vaeConfig.model.numGaussians), \(representation.columns)), "
              + "\(representation.rawValue) representation")
    }
}
