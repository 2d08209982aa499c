"""A bound for issue 7's image-space goal: a rank-r PCA of a Gaussian dataset's *renders*.

Run from the repository root:

    python3 scripts/reference/image_pca_bound.py runs/study/grid_mixed96_xl.h5 --ranks 256 512 2048 \
        --cache runs/study/grid_mixed96_xl_renders.npy --json runs/study/image_pca_grid_mixed96_xl.json

Needs numpy, h5py and torch (`scripts/install-deps --python --torch`).

What it measures: every set of the dataset is rendered with the top-K rasterizer (the PyTorch
reference, torch_rasterizer.py) at the dataset's image size and clamped to [0, 1], as `splatkit
evaluate` renders the fitted sets. The training split's renders, flattened to H*W*3 vectors, give
the principal axes; a test render is reconstructed from its first r coordinates and compared with
itself: mean PSNR over the test split (per image, then the mean, as `splatkit evaluate`).

This is the best any linear r-number code *of the image* does in squared error on the training
renders. The VAE's code is also r numbers, but it must decode them to Gaussians and is trained on
their parameters, so a VAE render below this figure has room to improve, and a goal above it asks
the code for more than a linear code of that size holds on these images.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pca_baseline import cached_renders, load_dataset, mean_image_psnr, write_results  # noqa: E402


def principal_axes(train):
    """(T, D) training vectors -> (centre (D,), axes (T, D) ordered by variance), via the T x T Gram matrix."""
    centre = train.mean(axis=0)
    centred = (train - centre).astype(np.float64)
    gram = centred @ centred.T
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0, None), vectors[:, order]
    keep = values > values[0] * 1e-12
    axes = (vectors[:, keep].T @ centred) / np.sqrt(values[keep])[:, None]
    return centre, axes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", help="a finished SplatKit Gaussian dataset (.h5)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[512])
    parser.add_argument("--cache", help="keep the renders here (.npy) and reuse them")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()

    sets, train, test, size = load_dataset(args.data)

    renders = cached_renders(sets, size, args.cache, source=args.data)

    centre, axes = principal_axes(renders[train])
    results = []
    for rank in args.ranks:
        if rank > len(axes):
            print(f"rank {rank}: more than the {len(axes)} axes the training split spans; skipped")
            continue
        basis = axes[:rank]
        def reconstruct(vectors):
            return ((vectors - centre) @ basis.T) @ basis + centre
        result = {"rank": rank,
                  "test_psnr_vs_fitted": mean_image_psnr(np.clip(reconstruct(renders[test]), 0, 1), renders[test]),
                  "train_psnr_vs_fitted": mean_image_psnr(np.clip(reconstruct(renders[train]), 0, 1), renders[train])}
        results.append(result)
        print(f"rank {rank:5d}  test {result['test_psnr_vs_fitted']:.2f} dB  train {result['train_psnr_vs_fitted']:.2f} dB",
              flush=True)
    if args.json:
        write_results(args.json, args.data, train, test, results, image_size=size)


if __name__ == "__main__":
    main()
