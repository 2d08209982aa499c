import Foundation

// Ctrl-C for long commands (train, train-inpaint, dataset build, evaluate-codec): the first asks
// the work to stop at its next safe point (after a training step, a dataset window, a codec
// row), where it saves what resuming needs; a second exits at once.

/// Set by SIGINT.
nonisolated(unsafe) private var interruptRequested: Int32 = 0

enum Interrupt {
    /// Installs the handler.
    static func install() {
        signal(SIGINT) { _ in
            if interruptRequested != 0 { _exit(130) }
            interruptRequested = 1
        }
    }

    /// Whether Ctrl-C has been pressed since `install()`.
    static var requested: Bool { interruptRequested != 0 }
}
