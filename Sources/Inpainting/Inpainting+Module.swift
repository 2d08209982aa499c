// Inpainting: the U-Net that predicts patch Gaussians from a masked image ("2D Gaussian Splatting
// with Semantic Alignment for Image Inpainting"), its masks, training, inference, evaluation and
// the classical fills it is compared against.
//
// Module dependencies: NeuralNetwork (layers, losses, optimizers, checkpoints), GaussianRasterizer
// (the patch rasterizer), SplatIO (images, configs, files). It does not import GaussianVAE.
