import Foundation
import TensorCore

// How a process learns whether it is one rank of an MPI job. MPI is initialised only when the
// launcher's environment says so (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers
// such as Slurm's srun --mpi=pmix set PMIX_RANK), so a command run without mpirun never touches
// MPI and behaves exactly as before.

/// The job this process belongs to.
public enum MPIJob {
    /// Whether the environment is that of a process started by an MPI launcher.
    public static func launchedByMPI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// The processes started on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE), 1 if unknown.
    public static func localSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.map { Swift.max(1, $0) } ?? 1
    }

    /// The job's communicator: MPI's when launched by mpirun (MPI is initialised here), else
    /// a `SingleProcess`. When several ranks share this machine and SPLATKIT_THREADS is not
    /// set, it is set to the cores divided among them, so ranks do not oversubscribe the cores
    /// (an explicit --threads still wins).
    public static func start() -> any Communicator {
        let environment = ProcessInfo.processInfo.environment
        guard launchedByMPI(environment: environment) else { return SingleProcess() }
        let local = localSize(environment: environment)
        if local > 1 && environment["SPLATKIT_THREADS"] == nil {
            setenv("SPLATKIT_THREADS", String(Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / local)), 1)
        }
        return MPICommunicator()
    }
}
