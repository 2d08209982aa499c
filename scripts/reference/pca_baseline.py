"""Linear baseline for issue 7's VAE study: a rank-r PCA of a Gaussian dataset's sets.

Run from the repository root:

    python3 scripts/reference/pca_baseline.py runs/study/grid_mixed96_xl.h5 --ranks 256 512 1024 \
        --json runs/study/pca_grid_mixed96_xl.json

Needs numpy and h5py (`scripts/install-deps --python`); with --render also torch
(`--torch`), for the PyTorch reference of the top-K rasterizer (torch_rasterizer.py).

What it measures, in the units `splatkit evaluate` reports (Sources/GaussianVAE/VAEInference.swift):
  1. Each set (N Gaussians x 8 Image-GS columns) is put in the VAE's representation (plain: the
     columns as stored; canonical: [x, y, log s_major, log s_minor, cos 2t, sin 2t, r, g, b] with
     colour clamped to [0, 1]; log_covariance: [x, y, m, d cos 2t, d sin 2t, r, g, b], half the
     matrix log of the covariance; both as Sources/GaussianVAE/SetRepresentation.swift) and z-scored
     per column with the training split's mean and population std.
  2. The training split's sets, flattened to N*C vectors, give the principal axes (SVD of the
     centred matrix). A test set is reconstructed from its first r coordinates: a linear
     encoder and decoder with an r-dimensional code, the best such pair in squared error on
     the training sets.
  3. Per loss group (xy, scale, rotation, colour): normalised MSE over every Gaussian of every
     test set, on the test split and on the training split; and on the test split once more for
     the decoded sets (reconstructions converted to Image-GS rows and back, as `splatkit
     evaluate`'s "decoded sets" column: orientation on the unit circle, scales ordered, colour
     clamped).
  4. With --render: the reconstructions, converted back to Image-GS rows, are rendered with the
     top-K rasterizer at the dataset's image size, clamped to [0, 1], and compared with the
     render of the fitted set: PSNR per set, then the mean (as `splatkit evaluate` does).
     With --render-groups also once per group, taking only that group's columns from the
     reconstruction and the others from the fitted set (in the representation's units): which
     group's error costs the render most.

A VAE with latent L that does worse than the rank-L PCA in some group is not using its code
well there; the PCA's own figures show how much of each group a linear code of that size holds.
"""

import argparse
import json
import os
import sys

import h5py
import numpy as np

GROUPS = {
    "plain": {"xy": [0, 1], "scale": [2, 3], "rotation": [4], "colour": [5, 6, 7]},
    "canonical": {"xy": [0, 1], "scale": [2, 3], "rotation": [4, 5], "colour": [6, 7, 8]},
    "log_covariance": {"xy": [0, 1], "scale": [2], "rotation": [3, 4], "colour": [5, 6, 7]},
}


def log_covariance(sets):
    """Image-GS rows (..., 8) -> [x, y, m, d cos 2t, d sin 2t, r, g, b]: half the matrix log of the
    covariance (m = mean log std, d = half the log-std difference), as SetRepresentation.logCovariance."""
    sets = sets.astype(np.float64)
    log_x, log_y = -np.log(np.abs(sets[..., 2])), -np.log(np.abs(sets[..., 3]))
    m, d = (log_x + log_y) / 2, (log_x - log_y) / 2
    theta = sets[..., 4]
    return np.concatenate([sets[..., 0:2], m[..., None], (d * np.cos(2 * theta))[..., None],
                           (d * np.sin(2 * theta))[..., None], np.clip(sets[..., 5:8], 0, 1)], axis=-1)


def image_gs_from_log_covariance(rows):
    d = np.hypot(rows[..., 3], rows[..., 4])
    theta = 0.5 * np.arctan2(rows[..., 4], rows[..., 3])
    return np.concatenate([rows[..., 0:2], np.exp(-(rows[..., 2] + d))[..., None], np.exp(-(rows[..., 2] - d))[..., None],
                           theta[..., None], rows[..., 5:8]], axis=-1)


def canonical(sets):
    """Image-GS rows (..., 8) -> canonical rows (..., 9), as SetRepresentation.canonical.encode."""
    sets = sets.astype(np.float64)
    log_major = -np.log(np.abs(sets[..., 2]))
    log_minor = -np.log(np.abs(sets[..., 3]))
    theta = sets[..., 4]
    swap = log_major < log_minor
    major = np.where(swap, log_minor, log_major)
    minor = np.where(swap, log_major, log_minor)
    theta = np.where(swap, theta + np.pi / 2, theta)
    colour = np.clip(sets[..., 5:8], 0, 1)
    return np.concatenate([sets[..., 0:2], major[..., None], minor[..., None],
                           np.cos(2 * theta)[..., None], np.sin(2 * theta)[..., None], colour], axis=-1)


def image_gs(rows):
    """Canonical rows (..., 9) -> Image-GS rows (..., 8), as SetRepresentation.canonical.decode."""
    theta = 0.5 * np.arctan2(rows[..., 5], rows[..., 4])
    return np.concatenate([rows[..., 0:2], np.exp(-rows[..., 2:4]), theta[..., None], rows[..., 6:9]], axis=-1)


def load_dataset(path):
    """A finished SplatKit dataset -> (sets (S, N, 8), sorted train and test indices, image size)."""
    with h5py.File(path, "r") as f:
        sets = f["gaussians"][:]
        train, test = np.sort(f["splits/train"][:]), np.sort(f["splits/test"][:])
        size = int(f.attrs["image_size"])
    if sets.ndim != 3 or sets.shape[2] != 8:
        sys.exit(f"{path}: gaussians must be (sets, N, 8), got {sets.shape}")
    return sets, train, test, size


# name -> (Image-GS rows -> representation rows, and back)
REPRESENTATIONS = {
    "plain": (lambda sets: sets.astype(np.float64), lambda rows: rows),
    "canonical": (canonical, image_gs),
    "log_covariance": (log_covariance, image_gs_from_log_covariance),
}


def group_mse(reconstruction, target, groups):
    error = (reconstruction - target) ** 2
    return {name: float(error[..., columns].mean()) for name, columns in groups.items()}


def render_sets(sets, size, progress=False):
    """(S, N, 8) Image-GS sets -> (S, size*size*3) float32 top-K renders clamped to [0, 1], as
    `splatkit evaluate` renders them (PyTorch reference, torch_rasterizer.py)."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_rasterizer import render_topk

    renders = np.empty((len(sets), size * size * 3), dtype=np.float32)
    with torch.no_grad():
        for index, gaussians in enumerate(sets):
            image = render_topk(torch.from_numpy(np.ascontiguousarray(gaussians, dtype=np.float32)), size, size)
            renders[index] = image.clamp(0, 1).numpy().reshape(-1)
            if progress and (index + 1) % 500 == 0:
                print(f"  rendered {index + 1}/{len(sets)}", file=sys.stderr, flush=True)
    return renders


def write_results(path, data, train, test, results, **extra):
    """The figures of a study script as JSON (data, split sizes, `extra` fields, results), written
    to a temporary file and renamed."""
    with open(path + ".tmp", "w") as out:
        json.dump({"data": data, "sets": {"train": len(train), "test": len(test)}, **extra, "results": results}, out, indent=2)
    os.replace(path + ".tmp", path)


def cached_renders(sets, size, cache=None, source="the dataset"):
    """render_sets of every set, kept in (and reused from) the .npy file `cache` when given."""
    if cache and os.path.exists(cache):
        renders = np.load(cache)
        if renders.shape != (len(sets), size * size * 3):
            sys.exit(f"{cache}: renders {renders.shape} do not match {source} ({len(sets)} sets at {size} px)")
        return renders
    renders = render_sets(sets, size, progress=True)
    if cache:
        np.save(cache + ".tmp.npy", renders)
        os.replace(cache + ".tmp.npy", cache)
    return renders


def mean_image_psnr(images, references):
    """Mean over images of the PSNR (dB, peak 1) of (S, D) images in [0, 1] against (S, D) references."""
    mse = ((images.astype(np.float64) - references) ** 2).mean(axis=1)
    return float(np.mean(10 * np.log10(1 / np.maximum(mse, 1e-12))))


def mean_psnr(reconstructions, fitted, size):
    """Mean PSNR of the renders of (S, N, 8) reconstructed sets against those of the fitted sets."""
    return mean_image_psnr(render_sets(reconstructions, size), render_sets(fitted, size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", help="a finished SplatKit Gaussian dataset (.h5)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[512])
    parser.add_argument("--representation", choices=list(REPRESENTATIONS), nargs="+", default=["plain", "canonical"])
    parser.add_argument("--render", action="store_true", help="also the render PSNR against the fitted sets (torch)")
    parser.add_argument("--render-groups", action="store_true", help="with --render: one group reconstructed at a time")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()

    sets, train, test, size = load_dataset(args.data)
    count = sets.shape[1]

    results = []
    for representation in args.representation:
        encode, decode = REPRESENTATIONS[representation]
        rows = encode(sets)
        mean = rows[train].mean(axis=(0, 1))
        std = rows[train].std(axis=(0, 1))
        std[~(std > 0)] = 1
        z = (rows - mean) / std
        train_vectors = z[train].reshape(len(train), -1)
        centre = train_vectors.mean(axis=0)
        _, _, axes = np.linalg.svd(train_vectors - centre, full_matrices=False)
        for rank in args.ranks:
            basis = axes[:rank]

            def reconstruct(indices):
                vectors = z[indices].reshape(len(indices), -1) - centre
                return ((vectors @ basis.T) @ basis + centre).reshape(len(indices), count, -1)

            test_reconstruction = reconstruct(test)
            decoded_rows = test_reconstruction * std + mean
            decoded_rows = encode(decode(decoded_rows))
            result = {
                "representation": representation, "rank": rank,
                "test": group_mse(test_reconstruction, z[test], GROUPS[representation]),
                "test_decoded": group_mse((decoded_rows - mean) / std, z[test], GROUPS[representation]),
                "train": group_mse(reconstruct(train), z[train], GROUPS[representation]),
            }
            def rendered_psnr(reconstruction):
                return mean_psnr(decode(reconstruction * std + mean), sets[test], size)

            if args.render:
                result["render_psnr_vs_fitted"] = rendered_psnr(test_reconstruction)
            if args.render and args.render_groups:
                result["render_psnr_vs_fitted_one_group"] = {}
                for name, group_columns in GROUPS[representation].items():
                    mixed = z[test].copy()
                    mixed[..., group_columns] = test_reconstruction[..., group_columns]
                    result["render_psnr_vs_fitted_one_group"][name] = rendered_psnr(mixed)
            results.append(result)
            groups = "  ".join(f"{name} {value:.3f}" for name, value in result["test"].items())
            groups += "  (decoded: " + "  ".join(f"{name} {value:.3f}" for name, value in result["test_decoded"].items()) + ")"
            render = f"  render {result['render_psnr_vs_fitted']:.2f} dB" if args.render else ""
            if "render_psnr_vs_fitted_one_group" in result:
                render += " (one group: " + ", ".join(
                    f"{name} {value:.2f}" for name, value in result["render_psnr_vs_fitted_one_group"].items()) + ")"
            print(f"{representation:9s} rank {rank:5d}  test: {groups}{render}", flush=True)
    if args.json:
        write_results(args.json, args.data, train, test, results)


if __name__ == "__main__":
    main()
