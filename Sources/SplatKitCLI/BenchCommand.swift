import ArgumentParser
import Foundation
import TensorCore

/// `splatkit bench …`: release-build benchmarks (see BENCHMARKS.md for recorded figures).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed in a release build (compare with scripts/reference/).",
        subcommands: [TensorBench.self, RasterBench.self, FitBench.self, SelectionBench.self, VAEBench.self, InpaintBench.self]
    )
}

/// Matrix multiply and convolution throughput, as a fraction of this machine's SGEMM peak.
struct TensorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor",
        abstract: "GFLOP/s of matmul 1024³ and conv1d forward/backward at GaussVAE's shape."
    )

    @OptionGroup var compute: ComputeOptions

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Timed repetitions per case (after 3 warm-up runs).")
    var repeats: Int = 10

    @Option(help: "Run only the cases whose names contain this text (e.g. conv1d).")
    var only: String?

    private func wanted(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }

    func run() throws {
        try compute.apply()
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        print("splatkit \(SplatKit.version) tensor benchmarks, \(ComputeThreads.count) threads, float32")
        var generator = RandomGenerator(seed: 0)
        var cases: [BenchmarkResult] = []

        // SGEMM peak: the largest square product, as the yardstick for the others.
        for (name, n, count) in [("sgemm_peak", 2048, Swift.max(3, repeats / 2)), ("matmul_1024", 1024, repeats)] where wanted(name) {
            let a = Tensor.normal([n, n], using: &generator), b = Tensor.normal([n, n], using: &generator)
            cases.append(runBenchmark(name, shape: "\(n)x\(n) @ \(n)x\(n)", flops: 2 * pow(Double(n), 3), repeats: count) {
                _ = a.matmul(b)
            })
        }

        // GaussVAE's first encoder convolution: batch 32, length 512, 32 → 64 channels, kernel 5, 'same'.
        let (batch, inputChannels, length, outputChannels, kernel) = (32, 32, 512, 64, 5)
        let forwardFlops = 2.0 * Double(batch * outputChannels * length * inputChannels * kernel)
        let shape = "x(\(batch),\(inputChannels),\(length)) w(\(outputChannels),\(inputChannels),\(kernel)) b(\(outputChannels)) pad=2"
        let x = Tensor.normal([batch, inputChannels, length], using: &generator, requiresGrad: true)
        let w = Tensor.normal([outputChannels, inputChannels, kernel], using: &generator, requiresGrad: true)
        let b = Tensor.normal([outputChannels], using: &generator, requiresGrad: true)
        let upstream = Tensor.normal([batch, outputChannels, length], using: &generator)
        if wanted("conv1d_fwd") {
            cases.append(runBenchmark("conv1d_fwd", shape: shape, flops: forwardFlops, repeats: repeats * 2) {
                withoutGradients { _ = x.conv1d(weight: w, bias: b, padding: 2) }
            })
        }
        if wanted("conv1d_fwd_bwd") { cases.append(runBenchmark(
            "conv1d_fwd_bwd", shape: shape, flops: 3 * forwardFlops, repeats: repeats * 2,
            prepare: { x.zeroGrad(); w.zeroGrad(); b.zeroGrad() }
        ) {
            (x.conv1d(weight: w, bias: b, padding: 2) * upstream).sum().backward()
        }) }

        if let peak = cases.first(where: { $0.name == "sgemm_peak" })?.gflops {
            print("  fraction of SGEMM peak (\(String(format: "%.1f", peak)) GFLOP/s):")
            for result in cases where result.name != "sgemm_peak" {
                print(String(format: "    %-16@ %5.1f%%", result.name as NSString, 100 * (result.gflops ?? 0) / peak))
            }
        }
        if let json {
            try writeReport(BenchmarkReport(implementation: "splatkit \(SplatKit.version)", threads: ComputeThreads.count,
                                            cases: cases), to: json)
        }
    }
}
