import Foundation
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// Quantisation-aware fine-tuning: the fitted Gaussians keep their continuous values, but every
// step renders them projected onto the codec's grids (GaussianQuantizer.projected) and passes the
// gradient straight through the rounding (rows + (projected − rows), the difference held
// constant), so the optimiser moves the continuous values to where their quantised versions
// render best. The loss is the fitter's L1 + 0.1·(1 − SSIM) at the image's full size; Adam with
// one learning rate per group (positions, scales, rotations, colours), lower than the fit's. The
// step whose quantised render had the lowest loss is kept.

/// Settings of a fine-tuning run.
public struct QuantizationAwareTuning: Sendable {
    public var steps: Int
    public var learningRateXY: Float = 1e-4
    public var learningRateScale: Float = 1e-3
    public var learningRateRotation: Float = 1e-3
    public var learningRateColour: Float = 2e-3
    public var ssimWeight: Float = 0.1
    public var topK = TopKOptions()

    public init(steps: Int) { self.steps = steps }

    /// Tunes rows (N, 8) fitted to `target` (3, H, W) for `quantizer`'s grids; returns the
    /// continuous rows whose projection rendered best (the input's when `steps` is 0).
    public func run(rows: Tensor, target: Tensor, quantizer: GaussianQuantizer,
                    progress: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) -> Tensor {
        precondition(rows.rank == 2 && rows.shape[1] == ImageGSColumn.count && target.rank == 3 && target.shape[0] == 3,
                     "QuantizationAwareTuning: rows \(rows.shape) must be (N, 8), target \(target.shape) (3, H, W)")
        let (height, width) = (target.shape[1], target.shape[2])
        let groups = rows.detached().split(sizes: [2, 2, 1, 3], alongAxis: 1)
        for group in groups { group.requiresGrad = true }
        let names = ["xy", "scale", "rotation", "colour"]
        let optimizers = [learningRateXY, learningRateScale, learningRateRotation, learningRateColour].map { Optimizer(Adam(), learningRate: $0) }
        let moments = SSIMTargetMoments(target: target)
        var best = (loss: Float.infinity, rows: rows.detached())
        for step in 0...steps {
            let current = Tensor.concatenated(groups, alongAxis: 1)
            let snapshot = current.detached()
            let onGrid = Tensor(shape: snapshot.shape, scalars: quantizer.projected(snapshot).scalars)
            let straightThrough = current + (onGrid - snapshot)  // value: onGrid; gradient: identity
            let render = renderImageGS(straightThrough, width: width, height: height, options: topK)
            let (loss, _) = l1SSIMLoss(render, target, ssimWeight: ssimWeight, targetMoments: moments)
            let value = loss.item
            if value < best.loss { best = (value, snapshot) }
            progress(step, value)
            guard step < steps else { break }
            loss.backward()
            for (optimizer, (name, group)) in zip(optimizers, zip(names, groups)) {
                optimizer.update([(name, group)])
                group.zeroGrad()
            }
        }
        return best.rows
    }
}
