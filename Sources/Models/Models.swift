// Models: the networks SplatKit trains — Morton-ordered Conv1D and ResNet Conv1D VAEs over
// Gaussian sets (GaussVAE's architectures, configured from YAML), and the U-Net that predicts
// Gaussians from a masked image for inpainting.
//
// Module dependencies: NeuralNetwork (layers, losses, optimizers, checkpoints), GaussianRasterizer
// (rendering inside losses), GaussianData (datasets, normalisation), SplatIO (configs, files).
