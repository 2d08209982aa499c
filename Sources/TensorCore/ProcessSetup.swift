import CBLAS
import CSystem
import Foundation

// Process-wide settings that must be made before the first tensor operation.
//
// 1. BLAS kernels. Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels when it is
//    loaded and falls back to its SSE3 "Prescott" kernels on CPUs newer than it knows, such as
//    this project's AVX-512 Xeons: SGEMM runs 4–5× slower there (see BENCHMARKS.md). OpenBLAS
//    only reads OPENBLAS_CORETYPE at load time, so the command line re-executes itself once
//    with the best kernel family the CPU supports. A user's own OPENBLAS_CORETYPE always wins.
// 2. Allocator. Tensors of a few MiB are allocated and freed every step; glibc would hand
//    them back to the kernel each time (mmap/trim), paying page faults and zeroing on the next
//    step. Raising its thresholds keeps them in the heap for reuse.

public enum ProcessSetup {
    /// OpenBLAS kernel families older than the CPU may be (SSE-era fallbacks).
    private static let fallbackKernels: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias",
    ]

    /// The kernel family OpenBLAS is using now (e.g. "SkylakeX").
    public static var blasKernel: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The OPENBLAS_CORETYPE to run with, or nil when OpenBLAS's own choice is already right
    /// (or the user has set one).
    public static func preferredBLASKernel() -> String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              fallbackKernels.contains(blasKernel.lowercased()),
              let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Re-executes this program with the preferred BLAS kernels if OpenBLAS chose a fallback,
    /// then tunes the allocator. Call first thing in `main`; returns normally when no re-exec
    /// is needed or possible.
    public static func configure() {
        if let kernel = preferredBLASKernel(), ProcessInfo.processInfo.environment["SPLATKIT_REEXECUTED"] == nil {
            setenv("OPENBLAS_CORETYPE", kernel, 1)
            setenv("SPLATKIT_REEXECUTED", "1", 1)  // never loop, even if OpenBLAS ignores the setting
            let arguments = CommandLine.arguments
            var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
            cArguments.append(nil)
            execv("/proc/self/exe", &cArguments)
            // execv returned: it failed; carry on with the current kernels.
            for pointer in cArguments { free(pointer) }
        }
        splatkit_tune_allocator(256 << 20, 1 << 30, 64 << 20)
    }
}
