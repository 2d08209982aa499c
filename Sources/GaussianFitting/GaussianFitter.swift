import Foundation
import NeuralNetwork
import GaussianRasterizer
import TensorCore

// Image → Gaussians fitting with the two published recipes.
//
// imagegs (Image-GS): top-K normalised rasterizer; start with half the Gaussians at pixels
//   drawn 30% uniformly and 70% ∝ (normalised Sobel magnitude)², σ = 5 px, θ = 0, colour from
//   the image; every 500 steps add a quarter of the rest at pixels drawn ∝ squared error
//   (colour: the residual there) and reset Adam; Adam per group (xy 5e-4, scale 2e-3,
//   rotation 2e-3, colour 5e-3); loss L1 + 0.1·(1 − SSIM); learning rates ÷10 after 1000 steps
//   without improvement, stop at the second such stall (never before 5000 steps when growing).
// gaussianimage (GaussianImage, Cholesky): additive rasterizer, random init, MSE loss, Adam
//   lr 1e-3 halved every 20,000 steps.
// imagegs-grid (SplatKit): imagegs with every Gaussian placed at the start on a regular grid
//   (no growth), for datasets whose sets should be alike where their images are alike.
// imagegs-grid-fixed (SplatKit): imagegs-grid with every centre held at its cell's centre;
//   only shape and colour are fitted, so positions carry no image detail.
// imagegs-grid-layout (SplatKit): a fixed layout: every Gaussian round, at its cell's centre,
//   with σ = 0.6 × the grid spacing; only colours are fitted, so a set is its colours and sets
//   differ only where their images do (the easiest sets to code; issue 7's study).
// imagegs-grid-layout-ridge (SplatKit): the same layout with the colours solved in closed form,
//   ridge least squares on the render (LayoutColourSolver.swift): no steps, smoother colours.
// All are deterministic for a seed.

/// Fits Gaussians to one image.
public final class GaussianFitter {
    public let target: Tensor  // (3, H, W) in [0, 1]
    public let options: FitOptions
    private var generator: RandomGenerator
    private var width: Int { target.shape[2] }
    private var height: Int { target.shape[1] }

    /// `image` is (3, H, W) with values in [0, 1].
    public init(image: Tensor, options: FitOptions) {
        precondition(image.rank == 3 && image.shape[0] == 3, "GaussianFitter: image must be (3, H, W), got \(image.shape)")
        precondition(options.gaussians >= 1 && options.steps >= 0, "GaussianFitter: needs ≥ 1 Gaussian and ≥ 0 steps")
        if let selection = options.selection {
            precondition(selection.startingCount > options.gaussians && options.recipe == .imagegs,
                         "GaussianFitter: natural selection starts with more than \(options.gaussians) Gaussians "
                         + "(got \(selection.startingCount)) and needs the imagegs recipe")
        }
        target = image.detached()
        self.options = options
        generator = RandomGenerator(seed: options.seed)
    }

    /// Runs the fit, calling `progress` every `progressInterval` steps (and after the last). An
    /// Image-GS fit applies `revision` once, after its step (see `FitRevision`).
    public func run(progressInterval: Int = 100, revision: FitRevision? = nil, progress: (FitProgress) -> Void = { _ in }) -> FitResult {
        switch options.recipe {
        case .imagegs, .imagegsGrid, .imagegsGridFixed, .imagegsGridLayout:
            return runImageGS(progressInterval: progressInterval, revision: revision, progress: progress)
        case .imagegsGridLayoutRidge: return runLayoutSolve(progressInterval: progressInterval, progress: progress)
        case .gaussianimage: return runGaussianImage(progressInterval: progressInterval, progress: progress)
        }
    }

    // MARK: - Image-GS

    /// The four trainable groups of Image-GS parameters, each (n, k).
    private struct ImageGSGroups {
        var xy: Tensor, scale: Tensor, rotation: Tensor, colour: Tensor
        var all: [Tensor] { [xy, scale, rotation, colour] }
        var parameters: Tensor { Tensor.concatenated(all, alongAxis: 1) }
        var count: Int { xy.shape[0] }

        /// Keeps rows `rows` (ascending) of every group, each kept colour times its factor in
        /// `colourFactors` when given (a selection's opacities, folded in).
        mutating func keep(_ rows: [Int], colourFactors: [Float]? = nil) {
            func kept(_ old: Tensor, times factors: [Float]? = nil) -> Tensor {
                let width = old.shape[1]
                var values = rows.flatMap { old.scalars[($0 * width)..<(($0 + 1) * width)] }
                if let factors { for i in values.indices { values[i] *= factors[i / width] } }
                let result = Tensor(shape: [rows.count, width], scalars: values)
                result.requiresGrad = old.requiresGrad
                return result
            }
            (xy, scale, rotation) = (kept(xy), kept(scale), kept(rotation))
            colour = kept(colour, times: colourFactors)
        }

        /// Appends rows (k, 8) of Image-GS parameters to every group.
        mutating func append(_ rows: Tensor) {
            let parts = rows.split(sizes: [2, 2, 1, 3], alongAxis: 1)
            func joined(_ old: Tensor, _ new: Tensor) -> Tensor {
                let result = withoutGradients { Tensor.concatenated([old, new], alongAxis: 0) }
                result.requiresGrad = old.requiresGrad  // a held group stays held
                return result
            }
            xy = joined(xy, parts[0])
            scale = joined(scale, parts[1])
            rotation = joined(rotation, parts[2])
            colour = joined(colour, parts[3])
        }
    }

    /// The initial inverse standard deviation (1/px): the options' value, or for the fixed
    /// layout 1/(`layoutSigmaPerSpacing` · grid spacing).
    private var initialScale: Float {
        guard options.recipe.usesFixedLayout else { return options.initialScale }
        let spacing = (Float(width * height) / Float(options.gaussians)).squareRoot()
        return 1 / (FitRecipe.layoutSigmaPerSpacing * spacing)
    }

    /// Image-GS rows (k, 8) at `pixels` with the initial shape and the given colours.
    /// With a structure-guided start, shapes follow the local structure.
    private func newGaussians(at pixels: [Int], shapes: StructureGuidedStart? = nil, colours: (Int) -> (Float, Float, Float)) -> Tensor {
        var rows: [Float] = []
        let scale = initialScale
        for p in pixels {
            let (r, g, b) = colours(p)
            let shape: (scaleX: Float, scaleY: Float, rotation: Float) = shapes?.shape(at: p, total: options.gaussians) ?? (scale, scale, 0)
            rows += [(Float(p % width) + 0.5) / Float(width), (Float(p / width) + 0.5) / Float(height),
                     shape.scaleX, shape.scaleY, shape.rotation, r, g, b]
        }
        return Tensor(shape: [pixels.count, 8], scalars: rows)
    }

    private func targetColour(_ p: Int) -> (Float, Float, Float) {
        let P = width * height
        return (target.scalars[p], target.scalars[P + p], target.scalars[2 * P + p])
    }

    private func runImageGS(progressInterval: Int, revision: FitRevision?, progress: (FitProgress) -> Void) -> FitResult {
        let start = monotonicSeconds()
        let P = width * height
        // Growth needs a step per batch; a shorter fit (or the grid variant) starts with every Gaussian.
        let onGrid = options.recipe.placesOnGrid
        let selector = options.selection.map { NaturalSelector(settings: $0, budget: options.gaussians, steps: options.steps) }
        let growing = !onGrid && selector == nil && options.initialFraction < 1 && options.growthBatches > 0 && options.steps > options.growthBatches
        let initialCount = growing ? Swift.max(1, Int((Float(options.gaussians) * options.initialFraction).rounded()))
            : selector?.settings.startingCount ?? options.gaussians
        let pixels: [Int]
        let structure = !onGrid && options.start == .structure
            ? StructureGuidedStart(image: target, uniformFraction: options.uniformFraction) : nil
        if onGrid {
            pixels = gridPixels(count: initialCount, width: width, height: height)
        } else if let structure {
            pixels = structure.samplePixels(count: initialCount, using: &generator)
        } else {
            let uniformCount = Int((Float(initialCount) * options.uniformFraction).rounded())
            let gradientWeights = normalizedSobelMagnitude(target).map { $0 * $0 }
            pixels = (0..<uniformCount).map { _ in generator.nextInt(below: P) }
                + samplePixels(count: initialCount - uniformCount, weights: gradientWeights, using: &generator)
        }
        let initial = newGaussians(at: pixels, shapes: structure, colours: targetColour).split(sizes: [2, 2, 1, 3], alongAxis: 1)
        // Every group is fitted, except those a recipe holds (no gradient, no update): centres (0), shapes (1, 2).
        let fitted = [options.recipe.fitsPositions, options.recipe.fitsShapes, options.recipe.fitsShapes, true]
        for (part, isFitted) in zip(initial, fitted) { part.requiresGrad = isFitted }
        var groups = ImageGSGroups(xy: initial[0], scale: initial[1], rotation: initial[2], colour: initial[3])
        let rates = [options.learningRateXY, options.learningRateScale, options.learningRateRotation, options.learningRateColour]
        var optimizers = rates.map { Optimizer(Adam(), learningRate: $0) }
        let names = ["xy", "scale", "rotation", "colour"]  // the optimisers' parameter names, group by group
        let batchSize = growing ? (options.gaussians - initialCount + options.growthBatches - 1) / options.growthBatches : 0
        // Short fits compress the growth schedule so every Gaussian joins before the end.
        let growthInterval = Swift.max(1, Swift.min(options.growthInterval, options.steps / (options.growthBatches + 1)))
        let growthEnd = growing ? options.growthBatches * growthInterval : 0

        let targetMoments = SSIMTargetMoments(target: target)  // the loss's target-only SSIM maps, once
        let geometry = options.geometryWeight > 0 && options.recipe.fitsShapes
            ? GeometryRegularizer(target: target, weight: options.geometryWeight) : nil
        var bestLoss = Float.infinity, stepsSinceImprovement = 0, stalls = 0
        var lastRender = target, lastSSIM: Float = 0, lastLoss: Float = 0
        var step = 0
        while step < options.steps {
            // Growth: add a batch at pixels drawn ∝ squared error of the last render.
            if growing && step > 0 && step % growthInterval == 0 && step <= growthEnd && groups.count < options.gaussians {
                let count = Swift.min(batchSize, options.gaussians - groups.count)
                let squaredError = (0..<P).map { p in
                    (0..<3).reduce(Float(0)) { $0 + Foundation.pow(lastRender.scalars[$1 * P + p] - target.scalars[$1 * P + p], 2) }
                }
                let chosen = samplePixels(count: count, weights: squaredError, using: &generator)
                groups.append(newGaussians(at: chosen, shapes: structure) { p in
                    let t = self.targetColour(p)
                    if self.options.growthColour == .target { return t }
                    return (t.0 - lastRender.scalars[p], t.1 - lastRender.scalars[P + p], t.2 - lastRender.scalars[2 * P + p])
                })
                for optimizer in optimizers { optimizer.resetState() }
                bestLoss = .infinity
                stepsSinceImprovement = 0
            }
            let parameters = groups.parameters
            let render = renderImageGS(selector?.withOpacity(parameters) ?? parameters, width: width, height: height, options: options.topK)
            var (loss, similarity) = l1SSIMLoss(render, target, ssimWeight: options.ssimWeight, squaredErrorWeight: options.mseWeight,
                                                targetMoments: targetMoments)
            if let geometry { loss = loss + geometry.loss(parameters) }
            lastLoss = loss.item  // the fit's loss, without the selection's pressure
            if let pressure = selector?.pressure(at: step) { loss = loss + pressure }
            loss.backward()
            for (optimizer, (name, tensor)) in zip(optimizers, zip(names, groups.all)) {
                if tensor.requiresGrad { optimizer.update([(name, tensor)]) }
                tensor.zeroGrad()
            }
            selector?.update(step: step)
            lastRender = render.detached()
            lastSSIM = similarity
            // Selection: drop the faded, or cut to the budget (the optimisers forget those rows).
            if let survivors = selector?.survivors(after: step, using: &generator) {
                groups.keep(survivors.rows, colourFactors: survivors.foldedOpacities)
                for (optimizer, name) in zip(optimizers, names) { optimizer.keepRows(survivors.rows, ofParameter: name) }
                if survivors.foldedOpacities != nil {
                    bestLoss = .infinity
                    stepsSinceImprovement = 0
                }
            }
            step += 1
            // A caller's cut (the codec's rate probe): the optimisers forget the dropped rows.
            if let revision, step == revision.step, let kept = revision.keep(withoutGradients { groups.parameters }) {
                groups.keep(kept)
                for (optimizer, name) in zip(optimizers, names) { optimizer.keepRows(kept, ofParameter: name) }
                bestLoss = .infinity
                stepsSinceImprovement = 0
            }

            // Plateau: ÷10 at the first stall, stop at the second (not before the minimum).
            if lastLoss < bestLoss {
                bestLoss = lastLoss
                stepsSinceImprovement = 0
            } else {
                stepsSinceImprovement += 1
            }
            if stepsSinceImprovement >= options.plateauPatience && step > growthEnd {
                if stalls == 0 {
                    for optimizer in optimizers { optimizer.learningRate /= 10 }
                    stalls = 1
                    stepsSinceImprovement = 0
                } else if !growing || step >= options.minimumStepsWhenGrowing {
                    break
                }
            }
            if step % progressInterval == 0 || step == options.steps {
                progress(report(step: step, total: options.steps, count: groups.count, render: lastRender,
                                 ssim: lastSSIM, loss: lastLoss, since: start))
            }
        }
        optimizers.removeAll()
        if let survivors = selector?.cut(using: &generator) {  // a fit that stopped inside the window
            groups.keep(survivors.rows, colourFactors: survivors.foldedOpacities)
        }
        let final = withoutGradients { groups.parameters }
        return finish(parameters: final, render: renderImageGS(final, width: width, height: height, options: options.topK),
                      steps: step, start: start, progressInterval: progressInterval, progress: progress)
    }

    // MARK: - Fixed layout, colours solved

    private func runLayoutSolve(progressInterval: Int, progress: (FitProgress) -> Void) -> FitResult {
        let start = monotonicSeconds()
        let layout = newGaussians(at: gridPixels(count: options.gaussians, width: width, height: height)) { _ in (0, 0, 0) }
        let solver = LayoutColourSolver.shared(layout: layout, width: width, height: height,
                                               ridge: FitRecipe.layoutRidge, topK: options.topK)
        let colours = solver.colours(for: target)  // (N, 3)
        let parts = layout.split(sizes: [5, 3], alongAxis: 1)
        let parameters = Tensor.concatenated([parts[0], colours], alongAxis: 1)
        return finish(parameters: parameters, render: renderImageGS(parameters, width: width, height: height, options: options.topK),
                      steps: 0, start: start, progressInterval: progressInterval, progress: progress)
    }

    // MARK: - GaussianImage

    private func runGaussianImage(progressInterval: Int, progress: (FitProgress) -> Void) -> FitResult {
        let start = monotonicSeconds()
        let N = options.gaussians
        // GaussianImage's initialisation: positions atanh(U(−1, 1)), Cholesky and colour U(0, 1).
        var values: [Float] = []
        for _ in 0..<N {
            let u = 2 * (generator.nextUniform() - 0.5) * 0.999_999, v = 2 * (generator.nextUniform() - 0.5) * 0.999_999
            values += [Foundation.atanh(u), Foundation.atanh(v),
                       generator.nextUniform(), generator.nextUniform(), generator.nextUniform(),
                       generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        let raw = Tensor(shape: [N, 8], scalars: values, requiresGrad: true)
        let optimizer = Optimizer(Adam(), learningRate: options.gaussianImageLearningRate)
        var lastRender = target, lastLoss: Float = 0
        var step = 0
        while step < options.steps {
            if step > 0 && step % options.gaussianImageHalvingInterval == 0 { optimizer.learningRate /= 2 }
            let render = rasterizeAdditive(gaussianImageScreenFeatures(raw, width: width, height: height), width: width, height: height)
            let loss = meanSquaredError(render, target)
            loss.backward()
            optimizer.update([("gaussians", raw)])
            raw.zeroGrad()
            lastRender = render.detached()
            lastLoss = loss.item
            step += 1
            if step % progressInterval == 0 || step == options.steps {
                let similarity = withoutGradients { ssim(lastRender.unsqueezed(0), target.unsqueezed(0)).item }
                progress(report(step: step, total: options.steps, count: N, render: lastRender, ssim: similarity, loss: lastLoss, since: start))
            }
        }
        let converted = imageGSParameters(fromGaussianImage: raw.detached(), width: width, height: height)
        let render = rasterizeAdditive(gaussianImageScreenFeatures(raw.detached(), width: width, height: height), width: width, height: height)
        return finish(parameters: converted, render: render, steps: step, start: start, progressInterval: progressInterval, progress: progress)
    }

    // MARK: - Shared

    private func report(step: Int, total: Int, count: Int, render: Tensor, ssim: Float, loss: Float, since start: Double) -> FitProgress {
        let elapsed = Swift.max(monotonicSeconds() - start, 1e-9)
        return FitProgress(step: step, totalSteps: total, gaussians: count, psnr: psnr(render.clamped(min: 0, max: 1), target),
                           ssim: ssim, loss: loss, stepsPerSecond: Double(step) / elapsed)
    }

    private func finish(parameters: Tensor, render: Tensor, steps: Int, start: Double, progressInterval: Int,
                        progress: (FitProgress) -> Void) -> FitResult {
        let display = render.clamped(min: 0, max: 1)
        let finalPSNR = psnr(display, target)
        let finalSSIM = withoutGradients { ssim(display.unsqueezed(0), target.unsqueezed(0)).item }
        return FitResult(gaussians: parameters, psnr: finalPSNR, ssim: finalSSIM, steps: steps,
                         seconds: monotonicSeconds() - start, recipe: options.recipe)
    }
}
