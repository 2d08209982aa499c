import Foundation
import NeuralNetwork
import TensorCore
import SplatIO

// What the training commands (train, train-inpaint) share: the output-folder check, the config source.

/// Checks the run folder (NeuralNetwork/RunFolder.swift) and says what a killed run left that
/// was removed. In a job of several processes only rank 0 touches the folder.
func checkRunFolder(_ output: String, resuming: Bool) throws {
    guard ProcessJob.communicator.isRoot else { return }
    let removed = try RunFolder.prepare(output, resuming: resuming)
    if !removed.isEmpty {
        print("\(output) held only what a run killed before its first checkpoint wrote (\(removed.joined(separator: ", "))); "
              + "removed, starting afresh")
    }
}

/// The config's YAML text and its name for messages: `config`, else `checkpoint`'s own.
func trainingConfigSource(config: String?, checkpoint: String?) throws -> (text: String, name: String) {
    if let config {
        guard FileManager.default.fileExists(atPath: config) else { throw FileError(config, "no such config file") }
        return (try String(contentsOfFile: config, encoding: .utf8), config)
    }
    guard let checkpoint else { throw FileError("-", "give --config (or a checkpoint whose config to use)") }
    guard FileManager.default.fileExists(atPath: checkpoint) else { throw FileError(checkpoint, "no such checkpoint") }
    return (try Checkpoint.readTrainingState(from: checkpoint).config, "\(checkpoint) (saved config)")
}

/// The job's processes as a trainer's data parallelism, announced when there are several.
func dataParallelTraining(batchSize: Int, output: String) -> DataParallel {
    let job = ProcessJob.communicator
    if job.size > 1 {
        print("data parallel: \(job.size) processes share each batch of \(batchSize) (batch norm per process; rank 0 writes \(output))")
    }
    return DataParallel(communicator: job)
}
