// GaussianData: datasets of fitted Gaussian sets — procedural source images, batch fitting
// into streaming HDF5 files, spatial (Morton / Hilbert) ordering, normalisation statistics,
// GaussVAE .npz interop and the training data loader.
//
// Module dependencies: TensorCore (tensors, random numbers), SplatIO (HDF5, PNG, zip/npz),
// GaussianRasterizer (fitting).
