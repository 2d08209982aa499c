import Foundation
import TensorCore

// Timing for `splatkit bench`: warm-up runs, then the median of timed runs. Benchmarks run
// in release builds only; unit tests never time anything.

/// One benchmark figure, in the JSON layout shared with scripts/reference/bench_*.py.
struct BenchmarkResult: Codable {
    let name: String
    let shape: String
    let medianMilliseconds: Double
    let gflops: Double?

    enum CodingKeys: String, CodingKey {
        case name, shape, gflops
        case medianMilliseconds = "median_ms"
    }
}

/// A benchmark run's results, written with `--json`.
struct BenchmarkReport: Codable {
    let implementation: String
    let threads: Int
    var cases: [BenchmarkResult]
}


/// Runs `body` `warmup` times untimed, then `repeats` times timed (each after an untimed
/// `prepare`), and returns the median milliseconds.
func medianMilliseconds(warmup: Int = 3, repeats: Int, prepare: () -> Void = {}, _ body: () -> Void) -> Double {
    for _ in 0..<warmup {
        prepare()
        body()
    }
    var times: [Double] = []
    for _ in 0..<repeats {
        prepare()
        let start = monotonicSeconds()
        body()
        times.append((monotonicSeconds() - start) * 1000)
    }
    times.sort()
    return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
}

/// Times a case, prints one readable line and returns its result.
func runBenchmark(_ name: String, shape: String, flops: Double? = nil, warmup: Int = 3, repeats: Int,
                  prepare: () -> Void = {}, _ body: () -> Void) -> BenchmarkResult {
    let ms = medianMilliseconds(warmup: warmup, repeats: repeats, prepare: prepare, body)
    let gflops = flops.map { $0 / (ms * 1e-3) / 1e9 }
    let rate = gflops.map { String(format: "%9.2f GFLOP/s", $0) } ?? ""
    print(String(format: "  %-18@ %10.3f ms %@  [%@]", name as NSString, ms, rate as NSString, shape as NSString))
    return BenchmarkResult(name: name, shape: shape, medianMilliseconds: ms, gflops: gflops)
}

/// Writes `report` as pretty JSON to `path`, atomically (temporary file, then rename).
func writeReport(_ report: BenchmarkReport, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data = try encoder.encode(report)
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
}
