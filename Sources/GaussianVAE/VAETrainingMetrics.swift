import Foundation
import NeuralNetwork
import SplatIO

// What VAE training reports: loss values per batch and per epoch, progress lines, and the
// `metrics.csv` log.
//
// Epoch values are means over samples (each batch weighted by its size), accumulated in
// Double. The accumulator's sums go into mid-epoch checkpoints, so an epoch interrupted and
// resumed reports the same training means as one run straight through.
//
// metrics.csv: one row per epoch, epochs counted from 1, columns
//   epoch, train_total, train_reconstruction, train_kl, train_<group>… [, train_render],
//   val_total, val_reconstruction, val_kl, val_<group>… [, val_render], beta, learning_rate, seconds
// where <group> is xy, scale, rotation, colour and the render columns appear when
// loss_weights.render_loss_weight > 0; learning_rate is the rate the epoch trained with.

/// The loss terms of a batch or the means of an epoch.
public struct VAELossValues: Equatable {
    /// Σ_g w_g·MSE_g + β·KL (+ the render term).
    public var total: Double
    /// Σ_g w_g·MSE_g.
    public var reconstruction: Double
    public var kl: Double
    /// Normalised MSE per group, in `SetRepresentation.groups` order (xy, scale, rotation, colour).
    public var groups: [Double]
    /// The weighted render term (0 when disabled).
    public var render: Double
    /// With an entropy model: the quantised latent's rate, bits per set (0 without one).
    public var bitsPerSet: Double

    public init(total: Double, reconstruction: Double, kl: Double, groups: [Double], render: Double, bitsPerSet: Double = 0) {
        self.total = total
        self.reconstruction = reconstruction
        self.kl = kl
        self.groups = groups
        self.render = render
        self.bitsPerSet = bitsPerSet
    }
}

/// Which loss values a run logs (metrics.csv, TensorBoard): always the total, reconstruction,
/// KL and groups; the render term when it is on; bits per set with an entropy model.
struct VAELossColumns {
    let render: Bool
    let bits: Bool

    /// The column names, groups named by `groupNames`.
    func names(groupNames: [String]) -> [String] {
        ["total", "reconstruction", "kl"] + groupNames + (render ? ["render"] : []) + (bits ? ["bits_per_set"] : [])
    }

    /// The values in the order of `names`.
    func row(_ values: VAELossValues) -> [Double] {
        [values.total, values.reconstruction, values.kl] + values.groups + (render ? [values.render] : [])
            + (bits ? [values.bitsPerSet] : [])
    }
}

/// Sample-weighted sums of loss values over part of an epoch.
struct VAELossAccumulator {
    private(set) var samples = 0
    private var sums = [Double](repeating: 0, count: 9)  // total, reconstruction, kl, render, 4 groups, bits per set
    /// Seconds spent in this epoch by earlier (interrupted) segments.
    var seconds = 0.0

    mutating func add(_ values: VAELossValues, count: Int) {
        precondition(values.groups.count == 4, "VAELossAccumulator: expected 4 groups, got \(values.groups.count)")
        let weight = Double(count)
        let terms = [values.total, values.reconstruction, values.kl, values.render] + values.groups + [values.bitsPerSet]
        for (index, term) in terms.enumerated() { sums[index] += weight * term }
        samples += count
    }

    /// The means so far (zeros before the first batch).
    var mean: VAELossValues {
        let n = Double(Swift.max(samples, 1))
        return VAELossValues(total: sums[0] / n, reconstruction: sums[1] / n, kl: sums[2] / n,
                             groups: sums[4..<8].map { $0 / n }, render: sums[3] / n, bitsPerSet: sums[8] / n)
    }

    /// For a checkpoint's schedule group (Doubles are stored exactly).
    var stateValues: [String: Double] {
        var values = ["samples": Double(samples), "seconds": seconds]
        for (index, sum) in sums.enumerated() { values["sum\(index)"] = sum }
        return values
    }

    init() {}

    /// Restores `stateValues`; throws a message when a value is missing.
    init(stateValues values: [String: Double]) throws {
        guard let samples = values["samples"], samples >= 0, samples == samples.rounded() else {
            throw VAETrainingError.invalidCheckpoint("epoch sums lack a sample count")
        }
        self.samples = Int(samples)
        seconds = values["seconds"] ?? 0
        for index in sums.indices {
            // Checkpoints from before bits per set was recorded have 8 sums (their runs had no rate).
            guard let sum = values["sum\(index)"] ?? (index == 8 ? 0 : nil) else {
                throw VAETrainingError.invalidCheckpoint("epoch sum \(index) is missing")
            }
            sums[index] = sum
        }
    }
}

/// One epoch's results.
public struct VAEEpochMetrics {
    /// From 1.
    public let epoch: Int
    public let train: VAELossValues
    public let validation: VAELossValues
    /// The KL weight β of the epoch.
    public let beta: Float
    /// The learning rate the epoch trained with (a plateau may lower it for the next).
    public let learningRate: Float
    /// Wall-clock seconds of the epoch (training and validation, all segments if resumed).
    public let seconds: Double
    /// Whether the validation total improved on every earlier epoch (best.h5 was written).
    public let improved: Bool
}

/// Progress within an epoch, reported every few batches.
public struct VAETrainingProgress {
    /// The epoch, from 1, and the number of epochs.
    public let epoch: Int
    public let epochs: Int
    /// Batches done in this epoch, and the number per epoch.
    public let batch: Int
    public let batchesPerEpoch: Int
    /// The mean training total loss of the epoch so far.
    public let loss: Double
    /// Training samples per second since the last report.
    public let samplesPerSecond: Double
    /// Estimated seconds until the last epoch's training ends (validation not counted).
    public let estimatedSecondsLeft: Double
}

/// Something a training run reports while it runs.
public enum VAETrainingEvent {
    case progress(VAETrainingProgress)
    case epochEnded(VAEEpochMetrics)
}

/// Problems a run finds itself in; user-facing messages.
public enum VAETrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, batch: Int, value: Double)
    /// The validation loss of `epoch` was NaN or infinite; `lastCheckpoint` is left as it was.
    case nonFiniteValidationLoss(epoch: Int, value: Double, lastCheckpoint: String)
    case invalidCheckpoint(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, batch, value):
            return "the training loss became \(value) at epoch \(epoch), batch \(batch); lower training.learning_rate or set "
                + "training.gradient_clip_norm, then start again or resume from an earlier checkpoint"
        case let .nonFiniteValidationLoss(epoch, value, lastCheckpoint):
            return "the validation loss became \(value) at epoch \(epoch) (a validation set holds NaN or infinite values, "
                + "or the model diverged); no checkpoint of epoch \(epoch) was written, \(lastCheckpoint) keeps the last finite one"
        case .invalidCheckpoint(let message):
            return "invalid VAE training checkpoint: \(message)"
        case .mismatch(let message):
            return message
        }
    }
}

/// `metrics.csv`: a header and one row per epoch, appended as epochs end.
struct MetricsLog {
    private let log: CSVLog

    /// Opens the log for a run that has completed `completedEpochs` epochs (see `CSVLog`).
    init(path: String, groupNames: [String], columns: VAELossColumns, completedEpochs: Int) throws {
        let losses = columns.names(groupNames: groupNames)
        let header = ["epoch"] + losses.map { "train_\($0)" } + losses.map { "val_\($0)" } + ["beta", "learning_rate", "seconds"]
        log = try CSVLog(path: path, header: header, keepingRowsThrough: completedEpochs)
    }

    /// Appends the row of `metrics`.
    func append(_ metrics: VAEEpochMetrics, columns: VAELossColumns) throws {
        try log.append([Double(metrics.epoch)] + columns.row(metrics.train) + columns.row(metrics.validation)
                       + [Double(metrics.beta), Double(metrics.learningRate), metrics.seconds])
    }
}
