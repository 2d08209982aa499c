import ArgumentParser
import Foundation
import MessagePassing
import TensorCore

// The command line as one rank of an MPI job (`mpirun -np N splatkit …`). Without mpirun the
// job is a `SingleProcess` and `SplatKit.main()` runs exactly as it always has. Under mpirun
// every rank parses the same command line and runs the same command; rank 0 prints (the other
// ranks' standard output goes to /dev/null; their errors still reach standard error) and
// writes files. A command that fails on any rank aborts the whole job with its message
// (MPI_Abort), so no rank waits forever in a collective for one that gave up; one that ends
// with an exit code every rank agreed on (Ctrl-C's 130) leaves MPI cleanly.

/// The job this process belongs to.
enum ProcessJob {
    /// Set once, first thing in `main`.
    nonisolated(unsafe) static var communicator: any Communicator = SingleProcess()

    /// The commands that run as a job of several processes.
    static let multiRankCommands: [ParsableCommand.Type] = [DatasetBuildCommand.self, TrainCommand.self, TrainInpaintCommand.self,
                                                           InfoCommand.self]

    /// Starts the job (MPI when launched by mpirun), runs the command line and exits.
    static func main() -> Never {
        let communicator = MPIJob.start()
        Self.communicator = communicator
        guard let mpi = communicator as? MPICommunicator else {
            SplatKit.main()
            exit(0)
        }
        if mpi.rank != 0 { _ = freopen("/dev/null", "w", stdout) }
        do {
            var command = try SplatKit.parseAsRoot()
            // ArgumentParser's own commands (help) run as they are.
            let isOurs = String(reflecting: type(of: command)).hasPrefix("SplatKitCLI.")
            guard !isOurs || multiRankCommands.contains(where: { $0 == type(of: command) }) else {
                throw ValidationError("this command runs in one process; under mpirun only `dataset build`, `train`, "
                                      + "`train-inpaint` and `info` run (every rank would do the same work and write the same files)")
            }
            try command.run()
        } catch let code as ExitCode {
            mpi.finalize()
            exit(code.rawValue)
        } catch {
            let code = SplatKit.exitCode(for: error)
            if code == .success {  // --help, --version
                if mpi.rank == 0 { print(SplatKit.fullMessage(for: error)) }
                mpi.finalize()
                exit(0)
            }
            mpi.abort(SplatKit.fullMessage(for: error), exitCode: code.rawValue)
        }
        mpi.finalize()
        exit(0)
    }
}
