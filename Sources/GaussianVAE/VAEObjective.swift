import Foundation
import GaussianData
import NeuralNetwork
import TensorCore

// The VAE objective over Gaussian sets (its inputs normalised per column: GaussianData's
// ColumnNormalization).
//
// Objective (per batch): Σ_g w_g · MSE_g + β · KL, where MSE_g is the mean squared error over
// the columns of parameter group g of the normalised sets (`SetRepresentation.groups`; plain:
// xy = 0–1, scale = 2–3, rotation = 4, colour = 5–7), KL = mean over batch and latent dimensions of
// −½(1 + log σ² − μ² − σ²), and β_e = β_max · min(1, (e + 1)/W) over the first W epochs.
//
// The representations the VAE sees (`SetRepresentation`) are in SetRepresentation.swift.

/// The loss terms of one batch (all scalar tensors; `total` carries the gradient).
public struct VAELoss {
    public let total: Tensor
    public let reconstruction: Tensor
    public let kl: Tensor
    /// Normalised MSE of each group (xy, scale, rotation, colour), in the representation's order.
    public let groups: [(name: String, value: Tensor)]
}

/// Σ_g w_g·MSE_g + β·KL for reconstructions and targets (B, N, C) in normalised units and the
/// encoder's (B, L) mean and log-variance.
public func vaeLoss(reconstruction: Tensor, target: Tensor, mean: Tensor, logVariance: Tensor,
                    representation: SetRepresentation, groupWeights: [Float], beta: Float) -> VAELoss {
    precondition(reconstruction.shape == target.shape && target.shape.last == representation.columns,
                 "vaeLoss: reconstruction \(reconstruction.shape) and target \(target.shape) must be (B, N, \(representation.columns))")
    precondition(groupWeights.count == representation.groups.count, "vaeLoss: \(groupWeights.count) group weights for 4 groups")
    let groups = representation.groups.map { group in
        (name: group.name, value: meanSquaredError(reconstruction.sliced(group.columns, alongAxis: -1),
                                                   target.sliced(group.columns, alongAxis: -1)))
    }
    var weighted = groups[0].value * groupWeights[0]
    for (group, weight) in zip(groups.dropFirst(), groupWeights.dropFirst()) { weighted = weighted + group.value * weight }
    let kl = gaussianKLDivergence(mean: mean, logVariance: logVariance)
    return VAELoss(total: weighted + kl * beta, reconstruction: weighted, kl: kl, groups: groups)
}

/// β for epoch `epoch` (0-based) with linear warm-up over `warmupEpochs`.
public func klWeight(epoch: Int, maximum: Float, warmupEpochs: Int) -> Float {
    guard warmupEpochs > 0 else { return maximum }
    return maximum * Swift.min(1, Float(epoch + 1) / Float(warmupEpochs))
}
