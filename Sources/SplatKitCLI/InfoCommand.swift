import ArgumentParser
import Foundation
import TensorCore

/// `splatkit info`: the machine facts that figures in BENCHMARKS.md are recorded with.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show version, threads and the BLAS kernels in use.")

    @Flag(help: "Print only the OPENBLAS_CORETYPE this CPU should use (empty if OpenBLAS's own choice stands).")
    var blasKernelChoice = false

    func run() throws {
        if blasKernelChoice {
            // After ProcessSetup's re-exec the variable is set; report what is in force.
            print(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? ProcessSetup.preferredBLASKernel() ?? "")
            return
        }
        print("splatkit \(SplatKit.version)")
        print("threads: \(ComputeThreads.count) (cores: \(ProcessInfo.processInfo.activeProcessorCount))")
        print("BLAS kernels: OpenBLAS \(ProcessSetup.blasKernel)")
    }
}
