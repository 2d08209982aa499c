import Foundation

// Ctrl-C for long commands (train, train-inpaint, dataset build, evaluate-codec): the first asks
// the work to stop at its next safe point (after a training step, a dataset window, a codec
// row), where it saves what resuming needs; a second exits at once.

/// Set by SIGINT.
nonisolated(unsafe) private var interruptRequested: Int32 = 0

enum Interrupt {
    /// Installs the handler. In a job of several processes SIGUSR1 asks the same: mpirun ends
    /// the job on Ctrl-C, but forwards SIGUSR1 to every rank (`kill -USR1 <mpirun's pid>`), and
    /// the ranks agree on the step at which they stop.
    static func install() {
        signal(SIGINT) { _ in
            if interruptRequested != 0 { _exit(130) }
            interruptRequested = 1
        }
        if ProcessJob.communicator.size > 1 {
            signal(SIGUSR1) { _ in interruptRequested = 1 }
        }
    }

    /// Whether Ctrl-C has been pressed since `install()`.
    static var requested: Bool { interruptRequested != 0 }
}
