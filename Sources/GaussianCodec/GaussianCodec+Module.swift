// GaussianCodec: images as files of quantised, entropy-coded 2-D Gaussians (`splatkit compress`
// / `decompress`). Quantisation grids (GaussianQuantization.swift), the canonical order and the
// symbol streams (GaussianSymbolCoding.swift), the container (GaussianBitstream.swift, byte
// layout in docs/FORMATS.md), quantisation-aware fine-tuning (QuantizationAwareTuning.swift)
// and the encoder with rate control (GaussianImageEncoder.swift).
//
// Module dependencies: TensorCore, NeuralNetwork (Adam, L1 + SSIM), GaussianRasterizer (the
// renderers), GaussianFitting (the fits it starts from), EntropyCoding (the range coder).
