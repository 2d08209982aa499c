"""How well a fixed layout of Gaussians renders a dataset's fitted sets, colours solved per set.

Run from the repository root:

    python3 scripts/reference/fixed_layout_bound.py runs/study/grid_mixed96_xl.h5 \
        --scale-shifts 0 -0.2 --ranks 256 512 --cache runs/study/grid_mixed96_xl_renders.npy \
        --json runs/study/fixed_layout_grid_mixed96_xl.json

Needs numpy, h5py and torch (`scripts/install-deps --python`): the top-K rasterizer's PyTorch
reference (torch_rasterizer.py) renders, as `splatkit evaluate` does.

What it measures (issue 7: can a decoder that ignores the fitter's geometry render the images?):
  1. The layout: the training split's mean set in the log_covariance representation (per index:
     mean x, y and mean log standard deviation m), made round (the traceless part set to 0),
     and m shifted by each --scale-shifts value (log units: +0.35 is 1.4 times wider).
  2. For a fixed geometry the top-K render is linear in the colours: image = A · colours with
     A (H*W, N) the same for every set and channel. A is built from N one-hot renders; each
     test set's colours are the least-squares fit of its fitted render, c = pinv(A) · render,
     or with --ridge a Tikhonov-regularised fit (smaller colours, easier to code).
  3. PSNR of the clamped A · c against the fitted render, mean over test sets (as `splatkit
     evaluate`'s "VAE vs fitted").
  4. With --ranks: the same, with each test set's colours (N * 3 numbers) reduced to a rank-r
     PCA whose axes come from the training sets' least-squares colours: the render of a linear
     r-number code of this layout, to set beside a VAE with latent r.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pca_baseline import (cached_renders, image_gs_from_log_covariance, load_dataset, log_covariance,  # noqa: E402
                          mean_image_psnr, write_results)


def layout_matrix(rows, size):
    """(N, 8) Image-GS rows (colours ignored) -> A (size*size, N): pixel value of channel 0 per unit
    colour of each Gaussian."""
    import torch
    from torch_rasterizer import render_topk

    columns = []
    with torch.no_grad():
        for index in range(len(rows)):
            one_hot = rows.astype(np.float32).copy()
            one_hot[:, 5:8] = 0
            one_hot[index, 5] = 1
            columns.append(render_topk(torch.from_numpy(one_hot), size, size)[0].numpy().reshape(-1))
    return np.stack(columns, axis=1).astype(np.float64)


def ridge_inverse(layout, ridge):
    """(D, N) layout -> (N, D) map from a render to colours: the pseudo-inverse for ridge = 0, else
    (A^T A + lambda I)^-1 A^T with lambda = ridge * mean(diag(A^T A)), which keeps overlapping
    Gaussians from cancelling each other with large colours of opposite signs."""
    if ridge == 0:
        return np.linalg.pinv(layout)
    gram = layout.T @ layout
    penalty = ridge * np.mean(np.diag(gram))
    return np.linalg.solve(gram + penalty * np.eye(len(gram)), layout.T)


def least_squares_colours(pseudo_inverse, renders, size):
    """(S, 3*size*size) channel-first renders -> (S, N, 3) colours, c = pinv(A) . render per channel."""
    channels = renders.reshape(len(renders), 3, size * size).astype(np.float64)
    return np.einsum("nd,scd->snc", pseudo_inverse, channels)


def rendered(layout, colours, size):
    """(D, N) layout and (S, N, 3) colours -> (S, 3*D) channel-first renders clamped to [0, 1]."""
    images = np.einsum("dn,snc->scd", layout, colours)
    return np.clip(images, 0, 1).reshape(len(colours), -1)


def write_relayout_dataset(source, destination, rows, inverse, renders, size, layout):
    """Copies `source` to `destination` with /gaussians replaced: every set is `rows` (N, 8) with
    the colours fitted to its render (clamped to [0, 1]); the train-split statistics are
    recomputed. Written to a temporary file and renamed."""
    import shutil

    import h5py

    colours = np.clip(least_squares_colours(inverse, renders, size), 0, 1)  # (S, N, 3)
    sets = np.repeat(rows[None].astype(np.float32), len(renders), axis=0)
    sets[:, :, 5:8] = colours
    temporary = destination + ".tmp"
    shutil.copyfile(source, temporary)
    with h5py.File(temporary, "r+") as f:
        f["gaussians"][...] = sets
        train = np.sort(f["splits/train"][:])
        flat = sets[train].reshape(-1, 8).astype(np.float64)
        f["statistics/mean"][...] = flat.mean(axis=0).astype(np.float32)
        f["statistics/std"][...] = flat.std(axis=0).astype(np.float32)
        f.attrs["relayout_of"] = source
    os.replace(temporary, destination)
    psnr = mean_image_psnr(rendered(layout, colours, size), renders)
    print(f"wrote {destination}: {len(sets)} sets of the fixed layout, colours clamped to [0, 1] "
          f"({psnr:.2f} dB vs the fitted sets)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="a finished SplatKit Gaussian dataset (.h5)")
    parser.add_argument("--scale-shifts", type=float, nargs="+", default=[0.0],
                        help="added to the mean log standard deviation of the layout (default 0)")
    parser.add_argument("--ridge", type=float, default=0.0,
                        help="Tikhonov weight of the colours, relative to the mean diagonal of A^T A (default 0)")
    parser.add_argument("--ranks", type=int, nargs="*", default=[], help="PCA ranks of the colour code")
    parser.add_argument("--cache", help="keep the fitted sets' renders here (.npy) and reuse them (image_pca_bound.py's)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--write-dataset", metavar="OUT.h5",
                        help="copy the dataset with every set replaced by the (first) layout and its fitted colours, "
                             "clamped to [0, 1]: for training a VAE on sets whose geometry is constant (an experiment)")
    args = parser.parse_args()

    sets, train, test, size = load_dataset(args.dataset)
    mean_set = log_covariance(sets[train]).mean(axis=0)  # (N, 8)
    print(f"{args.dataset}: {len(train)} train, {len(test)} test sets of {sets.shape[1]} Gaussians, {size}x{size}", flush=True)
    renders = cached_renders(sets, size, args.cache, source=args.dataset)
    test_renders, train_renders = renders[test], renders[train]

    results = []
    for index, shift in enumerate(args.scale_shifts):
        geometry = mean_set.copy()
        geometry[:, 2] += shift
        geometry[:, 3:5] = 0
        layout = layout_matrix(image_gs_from_log_covariance(geometry), size)
        pseudo_inverse = ridge_inverse(layout, args.ridge)  # (N, D)
        colours = least_squares_colours(pseudo_inverse, test_renders, size)
        entry = {"scale_shift": shift, "ridge": args.ridge, "psnr_vs_fitted": mean_image_psnr(rendered(layout, colours, size), test_renders)}
        print(f"scale shift {shift:+.2f}: fixed layout, colours by least squares: {entry['psnr_vs_fitted']:.2f} dB vs fitted",
              flush=True)
        if args.ranks:
            train_colours = least_squares_colours(pseudo_inverse, train_renders, size).reshape(len(train), -1)
            centre = train_colours.mean(axis=0)
            _, _, axes = np.linalg.svd(train_colours - centre, full_matrices=False)
            flat = colours.reshape(len(test), -1) - centre
            for rank in args.ranks:
                code = flat @ axes[:rank].T
                reduced = (code @ axes[:rank] + centre).reshape(colours.shape)
                psnr = mean_image_psnr(rendered(layout, reduced, size), test_renders)
                entry[f"psnr_vs_fitted_rank{rank}"] = psnr
                print(f"  colours as a rank-{rank} PCA code: {psnr:.2f} dB vs fitted", flush=True)
        results.append(entry)
        if args.write_dataset and index == 0:
            rows = image_gs_from_log_covariance(geometry)
            write_relayout_dataset(args.dataset, args.write_dataset, rows, pseudo_inverse, renders, size, layout)

    if args.json:
        write_results(args.json, args.dataset, train, test, results, image_size=size)


if __name__ == "__main__":
    main()
