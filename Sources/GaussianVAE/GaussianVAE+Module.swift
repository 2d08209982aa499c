// GaussianVAE: the VAEs over Gaussian sets — Morton-ordered Conv1D and ResNet Conv1D models
// (GaussVAE's architectures, configured from YAML), their set representations, objective,
// training, checkpoints and inference (encode / decode / evaluate).
//
// Module dependencies: NeuralNetwork (layers, losses, optimizers, checkpoints), GaussianRasterizer
// (rendering inside the render loss), GaussianData (datasets, normalisation), SplatIO (configs,
// files). It does not import Inpainting.
