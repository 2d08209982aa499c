// GaussianFitting: image → Gaussians. The published fitting recipes (GaussianFitter.swift), where
// their Gaussians start (ImageSampling.swift, GridPlacement.swift) and the closed-form colour
// solve of a fixed layout (LayoutColourSolver.swift).
//
// Module dependencies: GaussianRasterizer (the differentiable renderers), NeuralNetwork (Adam,
// the L1 + SSIM loss), TensorCore, SplatIO (set files).
