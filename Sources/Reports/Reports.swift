// Reports: self-contained static HTML pages with inline SVG charts and embedded PNG figures,
// for datasets, training runs, reconstructions and inpainting (`splatkit report`).
//
// Module dependencies: SplatIO (PNG, files), GaussianRasterizer (renders), GaussianData (datasets).
