import NeuralNetwork
import TensorCore

// Encoder-side refinement of a learned code against its image (Campos et al. 2019, "Content
// adaptive optimization for neural image compression"): the encoder's latent μ is a one-shot
// guess, trained for the parameter loss on average; for one image the encoder can do better by
// descending, over the latent alone (the model stays as it is), the objective the code is judged by:
//
//   ŷ = y + (round(y) − y), constant in the brackets  (straight-through rounding: the forward
//                                                      pass sees the integers the file will hold)
//   loss(y) = MSE(render(decode(ŷ)), image) + rateWeight · bits(ŷ) / (S·S)
//
// with the render the differentiable top-K render of the decoded set at the image's S × S
// (`renderNormalizedSets`) and bits the entropy model's (side information included), so
// rateWeight is in squared error per bit per pixel. Adam from y = μ for `steps` steps; the
// integers kept are those of the step with the least loss, round(μ) itself among them, so
// refinement never returns a worse code by this objective. The decoder needs nothing new: the
// file is an ordinary code of the model. Deterministic: no randomness, a fixed order of steps.

/// Settings of the encoder's latent refinement (see the file's comment).
public struct LatentRefinement: Equatable, Sendable {
    /// Adam steps; 0 turns refinement off.
    public var steps: Int
    public var learningRate: Float
    /// The price of a bit per pixel, in squared error (0: the rate may grow freely).
    public var rateWeight: Float

    public init(steps: Int = 50, learningRate: Float = 0.05, rateWeight: Float = 0.02) {
        precondition(steps >= 0 && learningRate > 0 && learningRate.isFinite && rateWeight >= 0 && rateWeight.isFinite,
                     "LatentRefinement: steps \(steps), learning rate \(learningRate), rate weight \(rateWeight)")
        (self.steps, self.learningRate, self.rateWeight) = (steps, learningRate, rateWeight)
    }
}

extension VAESetCodec {
    /// The integer latent (1, L) refined from the posterior mean `mean` (1, L) against `image`
    /// (3, S, S) at the model's image size S (see the file's comment), and the loss it has.
    func refinedLatent(from mean: Tensor, image: Tensor, settings: LatentRefinement) -> (latent: Tensor, loss: Float) {
        let side = image.shape[2]
        precondition(mean.rank == 2 && mean.shape[0] == 1 && image.rank == 3 && image.shape[0] == 3 && image.shape[1] == side,
                     "refinedLatent: mean \(mean.shape) must be (1, L) and the image (3, S, S), got \(image.shape)")
        let model = inference.model, store = model.store
        // Only the latent is optimised: the model's parameters take no gradient meanwhile.
        let parameters = store.parameters.map(\.tensor)
        let trainable = parameters.map(\.requiresGrad)
        for parameter in parameters { parameter.requiresGrad = false }
        defer { for (parameter, flag) in zip(parameters, trainable) { parameter.requiresGrad = flag } }

        let latent = Tensor(shape: mean.shape, scalars: mean.scalars, requiresGrad: true)  // y
        let optimizer = Optimizer(Adam(), learningRate: settings.learningRate)
        var generator = RandomGenerator(seed: 0)  // unused at inference (no noise), required by the signature
        let pixels = Float(side * side)
        var best = (latent: mean.roundedToIntegers(), loss: Float.infinity)
        for step in 0...settings.steps {
            let rounded = latent.roundedToIntegers()
            let quantized = latent + (rounded - latent.detached())  // straight-through
            let decoded = model.decode(quantized, training: false)
            let render = renderNormalizedSets(decoded, representation: inference.representation,
                                              normalization: inference.normalization, fittedSize: side, size: side)
            var loss = meanSquaredError(render.squeezed(0), image)
            if settings.rateWeight > 0 {
                loss = loss + entropyModel.bits(quantized, training: false, generator: &generator) * (settings.rateWeight / pixels)
            }
            if loss.item < best.loss { best = (rounded, loss.item) }
            if step == settings.steps { break }
            latent.zeroGrad()
            loss.backward()
            optimizer.update([(name: "latent", tensor: latent)])
        }
        return best
    }
}
