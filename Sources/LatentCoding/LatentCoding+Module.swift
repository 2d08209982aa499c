// LatentCoding: latents as bits. Learned entropy models over quantised latents (the factorised
// prior, FactorizedPrior.swift; the scale hyperprior's Gaussian conditional,
// GaussianConditional.swift), their integer code tables (FactorizedCodeTables.swift) and the
// range-coded stream of quantised latents (LatentStream.swift), for the learned codec over
// Gaussian sets (issue 21).
//
// Module dependencies: TensorCore (the models are autodiff ops), NeuralNetwork (named
// parameters), EntropyCoding (the range coder).
