import Foundation
import TestSupport
import XCTest

// Runs the debug `splatkit` binary as a job of several processes, as users do:
// `mpirun --oversubscribe [--allow-run-as-root] -np N .build/debug/splatkit …`. The binary is
// the one `swift build --build-tests` (make test) builds beside the tests. Skipped only when
// mpirun is not installed (scripts/install-deps installs it, so CI runs these).

class MPIRunTestCase: TemporaryDirectoryTestCase {
    /// The package's root folder (this file is Tests/ScalingTests/…).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func path(_ name: String) -> String { temporaryPath(name) }

    /// The built splatkit executable.
    var splatkit: String {
        get throws {
            let binary = Self.repositoryRoot.appendingPathComponent(".build/debug/splatkit").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw XCTSkip("no \(binary): run `swift build --build-tests` (make test) first")
            }
            return binary
        }
    }

    /// mpirun, or a skip when Open MPI is not installed.
    var mpirun: String {
        get throws {
            for candidate in ["/usr/bin/mpirun", "/usr/local/bin/mpirun"] where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            throw XCTSkip("mpirun is not installed (scripts/install-deps installs openmpi-bin)")
        }
    }

    /// `mpirun`'s arguments for `ranks` processes on this machine.
    func mpirunArguments(ranks: Int) -> [String] {
        ["--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["-np", String(ranks)]
    }

    struct Outcome {
        let status: Int32
        let output: String
    }

    /// Runs `splatkit arguments` as `ranks` MPI processes (or, with `ranks` nil, plainly),
    /// in the test folder; `onOutput` sees the standard output and error as they come, with
    /// the launched process.
    @discardableResult
    func run(ranks: Int?, _ arguments: [String], onOutput: ((String, Process) -> Void)? = nil) throws -> Outcome {
        let process = Process()
        if let ranks {
            process.executableURL = URL(fileURLWithPath: try mpirun)
            process.arguments = mpirunArguments(ranks: ranks) + [try splatkit] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: try splatkit)
            process.arguments = arguments
        }
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let collected = OutputCollector()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            guard !text.isEmpty else { return }
            let all = collected.append(text)
            onOutput?(all, process)
        }
        try process.run()
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, output: collected.append(rest))
    }

    /// The pids of the processes whose parent is `parent` and whose environment names MPI rank `rank`.
    func rankProcesses(of parent: Int32, rank: Int) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }
        }
    }
}

/// Output gathered from a pipe's handler thread.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    /// Appends `more`; returns everything so far.
    func append(_ more: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        text += more
        return text
    }
}
