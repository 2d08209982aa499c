import ArgumentParser
import Foundation
import TensorCore

/// Entry point: process-wide set-up (BLAS kernels, allocator), then the command line.
@main
enum Main {
    static func main() {
        ProcessSetup.configure()
        setvbuf(stdout, nil, _IOLBF, 0)  // progress lines appear as they happen, also in logs and pipes
        ProcessJob.main()  // SplatKit.main(), as one rank of an MPI job when mpirun launched it
    }
}

/// The `splatkit` command line.
struct SplatKit: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "splatkit",
        abstract: "Learned compression of images as 2D Gaussian splats.",
        version: version,
        subcommands: [CompressCommand.self, DecompressCommand.self, CompressSetCommand.self, DecompressSetCommand.self, EvaluateCodecCommand.self, FitCommand.self, RenderCommand.self, DatasetCommand.self, ReportCommand.self, TrainCommand.self, ExportModelCommand.self, SummaryCommand.self, EncodeCommand.self, DecodeCommand.self, ReconstructCommand.self, EvaluateCommand.self,
                      MasksCommand.self, TrainInpaintCommand.self, InpaintCommand.self, EvaluateInpaintCommand.self, DemoCommand.self, BenchCommand.self, InfoCommand.self]
    )
}

/// `--threads`, shared by every command that computes.
struct ComputeOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for BLAS and SplatKit's loops (default: SPLATKIT_THREADS, else all cores).")
    var threads: Int?

    func apply() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            if threads > ComputeThreads.maximum {
                print("note: --threads \(threads) is more than SplatKit uses; running \(ComputeThreads.maximum) threads")
            }
            ComputeThreads.set(threads)
        } else {
            ComputeThreads.set(ComputeThreads.defaultCount())
        }
    }
}
