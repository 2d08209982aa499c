import ArgumentParser
import TensorCore

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the end-to-end demo.")
    func run() throws {}
}
