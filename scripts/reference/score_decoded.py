"""Scores a VAE's decoded sets in every representation, so models trained in different ones compare.

Run from the repository root, after encoding a dataset's split and decoding it to a folder:

    splatkit encode --model RUN/best.h5 --input DATA.h5 --split test --output /tmp/latents.h5
    splatkit decode --model RUN/best.h5 --input /tmp/latents.h5 --output /tmp/decoded
    python3 scripts/reference/score_decoded.py DATA.h5 /tmp/decoded --render

Needs numpy and h5py; with --render also torch (the top-K reference, torch_rasterizer.py).

`splatkit evaluate` reports the per-group normalised MSE in the model's own representation, and
the groups mean different things in each (canonical's rotation is (cos 2t, sin 2t), whatever the
elongation; log_covariance's is the traceless part of the log covariance, zero for a round
Gaussian). Here every decoded set (Image-GS rows, as `splatkit decode` writes them) is put in each
representation, z-scored with the statistics of the dataset's training split in that
representation, and compared with the fitted set, group by group, as pca_baseline.py does for its
reconstructions; with --render also the mean PSNR of its render against the fitted set's, and
with --fitted-positions once more with every Gaussian moved to its fitted position (x, y): how
much of the render error the positions cost.
"""

import argparse
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pca_baseline import GROUPS, REPRESENTATIONS, group_mse, load_dataset, mean_psnr  # noqa: E402


def decoded_file_names(names):
    """Set names -> the file names `splatkit decode` gives them (uniqueFileNames in
    Sources/SplatKitCLI/VAEInferenceCommands.swift)."""
    result, used = [], set()
    for index, name in enumerate(names):
        base = "".join("_" if c in "/\\" or c in "\n\r" or ord(c) < 32 else c for c in name)
        for suffix in (".png", ".npz", ".h5"):
            if base.lower().endswith(suffix):
                base = base[:-len(suffix)]
        if base in ("", ".", ".."):
            base = f"set_{index:05d}"
        unique = f"{base}_{index}" if base in used else base
        used.add(unique)
        result.append(unique + ".h5")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", help="the SplatKit dataset the decoded sets come from (.h5)")
    parser.add_argument("decoded", help="the folder `splatkit decode` wrote")
    parser.add_argument("--split", default="test", choices=["train", "validation", "test"])
    parser.add_argument("--representation", choices=list(REPRESENTATIONS), nargs="+", default=list(REPRESENTATIONS))
    parser.add_argument("--render", action="store_true", help="also the render PSNR against the fitted sets (torch)")
    parser.add_argument("--fitted-positions", action="store_true",
                        help="with --render: also render the decoded sets at the fitted sets' positions")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()

    sets, train, _, size = load_dataset(args.data)
    with h5py.File(args.data, "r") as f:
        indices = f[f"splits/{args.split}"][:]
        names = [bytes(f["names"][i]).rstrip(b"\0").decode() for i in indices]
    decoded = []
    for file_name in decoded_file_names(names):
        path = os.path.join(args.decoded, file_name)
        if not os.path.exists(path):
            sys.exit(f"{args.decoded}: no {file_name} (decode the {args.split} split of {args.data})")
        with h5py.File(path, "r") as f:
            decoded.append(f["gaussians"][:])
    decoded = np.stack(decoded)
    fitted = sets[indices]
    if decoded.shape != fitted.shape:
        sys.exit(f"{args.decoded}: decoded sets {decoded.shape} do not match the fitted {fitted.shape}")

    result = {"data": args.data, "decoded": args.decoded, "split": args.split, "sets": len(indices), "groups": {}}
    for representation in args.representation:
        encode, _ = REPRESENTATIONS[representation]
        training_rows = encode(sets[train])
        mean, std = training_rows.mean(axis=(0, 1)), training_rows.std(axis=(0, 1))
        std[~(std > 0)] = 1
        scores = group_mse((encode(decoded) - mean) / std, (encode(fitted) - mean) / std, GROUPS[representation])
        result["groups"][representation] = scores
        print(f"{representation:15s} " + "  ".join(f"{name} {value:.3f}" for name, value in scores.items()), flush=True)
    if args.render:
        result["render_psnr_vs_fitted"] = mean_psnr(decoded, fitted, size)
        print(f"render {result['render_psnr_vs_fitted']:.2f} dB against the fitted sets")
        if args.fitted_positions:
            moved = decoded.copy()
            moved[..., 0:2] = fitted[..., 0:2]
            result["render_psnr_vs_fitted_at_fitted_positions"] = mean_psnr(moved, fitted, size)
            print(f"render {result['render_psnr_vs_fitted_at_fitted_positions']:.2f} dB at the fitted positions")
    if args.json:
        with open(args.json + ".tmp", "w") as out:
            json.dump(result, out, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
