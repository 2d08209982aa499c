import Foundation
import NeuralNetwork
import SplatIO

// What the training commands (train, train-inpaint) share: the output-folder check.

/// Refuses to train into a folder that holds files, unless resuming; `output` may be absent.
func checkRunFolder(_ output: String, resuming: Bool) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
    guard isDirectory.boolValue else { throw FileError(output, "exists and is not a folder") }
    let contents = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
    if !resuming && !contents.isEmpty {
        throw FileError(output, "is not empty (\(contents.count) entries); refusing to overwrite an earlier run: choose another "
                        + "--output, delete it, or continue it with --resume \((output as NSString).appendingPathComponent("last.h5"))")
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
