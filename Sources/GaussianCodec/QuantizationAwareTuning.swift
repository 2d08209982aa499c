import Foundation
import GaussianRasterizer
import NeuralNetwork
import TensorCore

// Quantisation-aware fine-tuning: moving fitted Gaussians onto the codec's grids so that the
// quantised set renders as well as it can. Two methods (a switch, measured in BENCHMARKS.md):
//
// straightThrough   every step renders the rows projected onto the grids and passes the
//                   gradient straight through the rounding (rows + (projected − rows), the
//                   difference held constant). Adam moves each value by about its learning rate
//                   per step whatever its gradient, so values near a rounding boundary flip
//                   between two levels; the best step is kept.
// sequential        quantise one group at a time and let the groups still continuous make up
//                   for it: positions, then scales and rotations, then colours, each stage
//                   tuning the remaining groups with Adam (no rounding inside the loss, so no
//                   oscillation); the scale and colour grids take their ranges when their stage
//                   comes, from the values tuned by then.
//
// Both use the fitter's loss, L1 + m·MSE + 0.1·(1 − SSIM), at the image's full size.

/// Settings of a fine-tuning run.
public struct QuantizationAwareTuning: Sendable {
    public enum Method: String, CaseIterable, Sendable { case straightThrough = "straight-through", sequential }

    public var method = Method.sequential
    /// Steps in all (sequential: split between its two tuning stages, 2 : 1).
    public var steps: Int
    public var learningRateXY: Float = 2e-5
    public var learningRateScale: Float = 1e-3
    public var learningRateRotation: Float = 1e-3
    public var learningRateColour: Float = 2e-3
    public var ssimWeight: Float = 0.1
    /// Weight of the squared-error term of the loss (the fit's: FitOptions.mseWeight).
    public var mseWeight: Float = 0
    public var topK = TopKOptions()

    public init(steps: Int, method: Method = .sequential) {
        self.steps = steps
        self.method = method
    }

    /// Tunes rows (N, 8) fitted to `target` (3, H, W) for grids of `bits`; the grids' ranges are
    /// `ranges` when given, else chosen from the rows (see the top of the file). Returns the
    /// quantiser and rows it reproduces exactly (`quantizer.projected(rows) == rows`).
    public func run(rows: Tensor, target: Tensor, bits: QuantizationBits, ranges: QuantizationRanges? = nil,
                    progress: (_ stage: String, _ step: Int, _ total: Int, _ loss: Float) -> Void = { _, _, _, _ in })
        -> (rows: Tensor, quantizer: GaussianQuantizer) {
        precondition(rows.rank == 2 && rows.shape[1] == ImageGSColumn.count && target.rank == 3 && target.shape[0] == 3,
                     "QuantizationAwareTuning: rows \(rows.shape) must be (N, 8), target \(target.shape) (3, H, W)")
        let (height, width) = (target.shape[1], target.shape[2])
        func rangesOf(_ rows: Tensor) -> QuantizationRanges { ranges ?? QuantizationRanges(covering: rows, width: width, height: height) }
        let tuner = GroupTuner(settings: self, target: target)
        switch method {
        case .straightThrough:
            let quantizer = GaussianQuantizer(bits: bits, ranges: rangesOf(rows))
            let best = tuner.tune(rows, groups: [true, true, true, true], steps: steps, quantizer: quantizer) {
                progress("quantise", $0, steps, $1)
            }
            return (quantizer.projected(best), quantizer)
        case .sequential:
            // 1. positions on their grid (independent of ranges); tune shape and colour.
            var current = replacingColumns(rows, 0..<2, from: GaussianQuantizer(bits: bits, ranges: rangesOf(rows)).projected(rows))
            let shapeSteps = steps * 2 / 3, colourSteps = steps - shapeSteps
            current = tuner.tune(current, groups: [false, true, true, true], steps: shapeSteps, quantizer: nil) {
                progress("shape", $0, shapeSteps, $1)
            }
            // 2. scales and rotations on theirs; tune colour.
            let shapeRanges = rangesOf(current)
            current = replacingColumns(current, 2..<5, from: GaussianQuantizer(bits: bits, ranges: shapeRanges).projected(current))
            current = tuner.tune(current, groups: [false, false, false, true], steps: colourSteps, quantizer: nil) {
                progress("colour", $0, colourSteps, $1)
            }
            // 3. colours, on a grid whose ranges are the tuned colours'.
            let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(logScale: shapeRanges.logScale,
                                                                                     colour: rangesOf(current).colour))
            return (quantizer.projected(current), quantizer)
        }
    }
}

/// Rows with `columns` taken from `source` (both (N, 8)).
func replacingColumns(_ rows: Tensor, _ columns: Range<Int>, from source: Tensor) -> Tensor {
    var values = rows.scalars
    for g in 0..<rows.shape[0] {
        for c in columns { values[g * 8 + c] = source.scalars[g * 8 + c] }
    }
    return Tensor(shape: rows.shape, scalars: values)
}

/// Adam on chosen groups of rows (positions, scales, rotations, colours) under the fit's loss.
private struct GroupTuner {
    let settings: QuantizationAwareTuning
    let target: Tensor
    let moments: SSIMTargetMoments

    init(settings: QuantizationAwareTuning, target: Tensor) {
        self.settings = settings
        self.target = target
        moments = SSIMTargetMoments(target: target)
    }

    /// Tunes the groups flagged in `groups` for `steps` steps; with a quantiser, every step renders
    /// the projected rows with the straight-through gradient. Returns the rows of the best step.
    func tune(_ rows: Tensor, groups tuned: [Bool], steps: Int, quantizer: GaussianQuantizer?,
              progress: (Int, Float) -> Void) -> Tensor {
        let (height, width) = (target.shape[1], target.shape[2])
        let groups = rows.detached().split(sizes: [2, 2, 1, 3], alongAxis: 1)
        for (group, isTuned) in zip(groups, tuned) { group.requiresGrad = isTuned }
        let names = ["xy", "scale", "rotation", "colour"]
        let rates = [settings.learningRateXY, settings.learningRateScale, settings.learningRateRotation, settings.learningRateColour]
        let optimizers = rates.map { Optimizer(Adam(), learningRate: $0) }
        var best = (loss: Float.infinity, rows: rows.detached())
        for step in 0...steps {
            let current = Tensor.concatenated(groups, alongAxis: 1)
            let snapshot = current.detached()
            var drawn = current
            if let quantizer {
                let onGrid = quantizer.projected(snapshot)
                drawn = current + (onGrid - snapshot)  // value: onGrid; gradient: identity
            }
            let render = renderImageGS(drawn, width: width, height: height, options: settings.topK)
            let (loss, _) = l1SSIMLoss(render, target, ssimWeight: settings.ssimWeight, squaredErrorWeight: settings.mseWeight,
                                       targetMoments: moments)
            let value = loss.item
            if value < best.loss { best = (value, snapshot) }
            progress(step, value)
            guard step < steps else { break }
            loss.backward()
            for (optimizer, (name, group)) in zip(optimizers, zip(names, groups)) where group.requiresGrad {
                optimizer.update([(name, group)])
                group.zeroGrad()
            }
        }
        return best.rows
    }
}
