// Reports: self-contained static HTML pages with inline SVG charts and embedded PNG figures,
// for datasets, training runs, reconstructions and inpainting (`splatkit report`), and
// diagnostic pictures of Gaussian sets (`splatkit render --visualize`).
//
// Module dependencies: SplatIO (PNG, files), GaussianRasterizer (renders), GaussianData
// (datasets), Models (run reports load the trained VAE and reuse its evaluation).
