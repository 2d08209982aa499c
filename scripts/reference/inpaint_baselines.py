"""OpenCV's classical inpainting (Telea, Navier–Stokes) on the very items `splatkit evaluate-inpaint`
scored, scored exactly as SplatKit scores its model, beside the model and the push-pull fill.

Run from the repository root (scripts/inpaint-benchmark runs both steps):

    .build/release/splatkit evaluate-inpaint --images ../shared/data --list configs/inpaint/test.txt \\
        --kind small large box --item-files /tmp/inpaint/items
    python3 scripts/reference/inpaint_baselines.py --items /tmp/inpaint/items \\
        --output /tmp/inpaint/baselines.csv --json /tmp/inpaint/baselines.json

Needs numpy and opencv-python-headless (scripts/install-deps --python).

Input: the --item-files folder of evaluate-inpaint (Sources/Inpainting/InpaintingEvaluationFiles.swift):
items.csv (per item: item, image, mask, group, hole_ratio, the model's scores, the push-pull
fill's as fill_*), and per item <item>_original.png, <item>_mask.png (white = hole) and <item>.npz
(float32: original (3, H, W), mask (H, W), model (3, H, W), push_pull (3, H, W), all as scored).

The fills. cv2.inpaint(original 8-bit RGB, mask 8-bit (255 = hole), --radius, flag) with
INPAINT_TELEA (Telea 2004, fast marching) and INPAINT_NS (Bertalmio et al. 2001, Navier–Stokes),
on the item's PNGs, which are checked against its arrays first (mask equal, original equal to the
arrays rounded to 8 bits as RGBImage.writePNG rounds). OpenCV writes only the hole pixels
(checked per item: its known pixels equal its input's; a difference fails the run); its holes are
then composited into the float original, so the known pixels of every method are the original's
exactly, as the model's are (InpaintedImage.image). OpenCV's hole values are 8-bit (a rounding
error of at most 1/510; about 0.001 dB at 20 dB).

The scores (a NumPy copy of Sources/Inpainting/InpaintingScores.swift and NeuralNetwork/SSIM.swift):
for output x and original y (3, H, W) in [0, 1] and mask m (H, W), hole = m >= 0.5,
  psnr, l1           over all 3·H·W values: 10·log10(1 / MSE) (100 dB when MSE <= 1e-10, capped at 100)
                     and mean |x - y|
  hole_psnr, hole_l1 the same over the 3·(hole pixels) values (NaN without holes)
  ssim               the mean of SSIM's map: 11 x 11 Gaussian window (sigma 1.5, taps normalised in
                     float32), "valid" filtering, population variances, C1 = 0.01², C2 = 0.03²,
                     over the 3 channels and all window positions
  hole_ssim          the mean of that map over the windows centred on hole pixels (all 3 channels)
Group means skip NaNs per field, as InpaintingScores.mean does.

Self-check (every run, before any fill): the model's and the push-pull fill's arrays are scored
here and compared with items.csv: PSNRs within --psnr-tolerance dB (default 1e-3), SSIMs and L1s
within --tolerance (default 1e-4, beyond the CSV's 6 significant digits); any disagreement exits
with status 1 and the item and column that disagree.

Outputs: --output, per item: item, image, mask, group, hole_ratio, then <method>_<score> for the
methods model, push_pull, telea, ns; --json: the settings, the self-check's largest deviations,
the known-pixel check, and the mean scores per group (and over all items) per method; and a
printed table of the hole scores per group.
"""

import argparse
import csv
import json
import math
import os
import sys

import numpy as np

SCORES = ["psnr", "ssim", "l1", "hole_psnr", "hole_ssim", "hole_l1"]
METHODS = ["model", "push_pull", "telea", "ns"]
WINDOW, SIGMA, C1, C2 = 11, 1.5, 0.01 ** 2, 0.03 ** 2


# ----------------------------------------------------------------------------- scores

def gaussian_taps():
    """(11,) the normalised window, computed in float32 as SSIMOptions.gaussianWindow does."""
    offsets = np.arange(WINDOW, dtype=np.float32) - np.float32(WINDOW // 2)
    raw = np.exp(-(offsets * offsets) / np.float32(2 * SIGMA * SIGMA)).astype(np.float32)
    return (raw / raw.sum(dtype=np.float32)).astype(np.float64)


def filter_valid(planes, taps):
    """Separable 'valid' filtering of (C, H, W) float64 -> (C, H - 10, W - 10)."""
    k = len(taps)
    h, w = planes.shape[1] - k + 1, planes.shape[2] - k + 1
    rows = sum(taps[i] * planes[:, i:i + h, :] for i in range(k))  # (C, h, W)
    return sum(taps[i] * rows[:, :, i:i + w] for i in range(k))    # (C, h, w)


def ssim_map(x, y):
    """SSIM map of (3, H, W) float64 images -> (3, H - 10, W - 10); entry (i, j) is the window
    centred on pixel (i + 5, j + 5)."""
    taps = gaussian_taps()
    mx, my = filter_valid(x, taps), filter_valid(y, taps)
    vx = filter_valid(x * x, taps) - mx * mx
    vy = filter_valid(y * y, taps) - my * my
    cov = filter_valid(x * y, taps) - mx * my
    return (2 * mx * my + C1) / (mx * mx + my * my + C1) * (2 * cov + C2) / (vx + vy + C2)


def psnr(mse):
    return 100.0 if mse <= 1e-10 else min(100.0, 10 * math.log10(1 / mse))


def inpainting_scores(output, target, mask):
    """The six scores (dict) of output against target, (3, H, W) in [0, 1], mask (H, W), 1 = hole."""
    x, y = output.astype(np.float64), target.astype(np.float64)
    hole = mask >= 0.5                                  # (H, W)
    difference = x - y
    holes = int(hole.sum())
    half = WINDOW // 2
    smap = ssim_map(x, y)                               # (3, H', W')
    centred = hole[half:hole.shape[0] - half, half:hole.shape[1] - half]
    return {
        "psnr": psnr(float(np.mean(difference ** 2))),
        "ssim": float(smap.mean()),
        "l1": float(np.mean(np.abs(difference))),
        "hole_psnr": psnr(float(np.mean(difference[:, hole] ** 2))) if holes else math.nan,
        "hole_ssim": float(smap[:, centred].mean()) if centred.any() else math.nan,
        "hole_l1": float(np.mean(np.abs(difference[:, hole]))) if holes else math.nan,
    }


def mean_scores(rows):
    """Per-field mean of score dicts, skipping NaNs (NaN where a field has none)."""
    result = {}
    for score in SCORES:
        finite = [row[score] for row in rows if not math.isnan(row[score])]
        result[score] = sum(finite) / len(finite) if finite else math.nan
    return result


# ----------------------------------------------------------------------------- items

def read_png_rgb(cv2, path):
    """(H, W, 3) uint8 RGB of an 8-bit PNG."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        sys.exit(f"{path}: cannot read the PNG")
    return image[:, :, ::-1]


def load_item(cv2, folder, stem):
    """The item's arrays, and its PNGs checked against them."""
    path = os.path.join(folder, stem + ".npz")
    if not os.path.exists(path):
        sys.exit(f"{path}: missing (items.csv names item {stem})")
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in ("original", "mask", "model", "push_pull")}
    original8 = read_png_rgb(cv2, os.path.join(folder, stem + "_original.png"))      # (H, W, 3)
    mask_png = read_png_rgb(cv2, os.path.join(folder, stem + "_mask.png"))
    hole = arrays["mask"] >= 0.5
    if not np.array_equal(mask_png.mean(axis=2) >= 127.5, hole):
        sys.exit(f"{stem}_mask.png: differs from the mask in {stem}.npz")
    scaled = np.clip(arrays["original"].transpose(1, 2, 0), 0, 1) * np.float32(255)  # float32, as RGBImage.writePNG
    rounded = np.floor(scaled.astype(np.float64) + 0.5).astype(np.uint8)               # half away from zero
    if not np.array_equal(original8, rounded):
        sys.exit(f"{stem}_original.png: differs from the original in {stem}.npz rounded to 8 bits")
    return arrays, original8, hole


def opencv_fill(cv2, original8, hole, original, radius, flag, stem, name):
    """cv2.inpaint of the 8-bit original, composited into the float original -> (3, H, W) float64."""
    filled = cv2.inpaint(np.ascontiguousarray(original8), hole.astype(np.uint8) * 255, radius, flag)  # (H, W, 3) uint8
    changed = int(np.count_nonzero(filled[~hole] != original8[~hole]))
    if changed:
        sys.exit(f"{stem}: OpenCV's {name} changed {changed} known values (expected it to write the holes only)")
    values = filled.transpose(2, 0, 1).astype(np.float64) / 255
    return np.where(hole[None], values, original.astype(np.float64))


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", required=True, help="the folder of evaluate-inpaint --item-files")
    parser.add_argument("--radius", type=float, default=3.0, help="cv2.inpaint's inpaintRadius, pixels (default 3)")
    parser.add_argument("--output", help="per-item scores of every method (CSV)")
    parser.add_argument("--json", help="settings, checks and per-group means (JSON)")
    parser.add_argument("--psnr-tolerance", type=float, default=1e-3, help="self-check: dB (default 1e-3)")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="self-check: SSIM and L1 (default 1e-4)")
    args = parser.parse_args()
    import cv2

    with open(os.path.join(args.items, "items.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{args.items}/items.csv: no items")
    methods = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    deviations = {score: 0.0 for score in SCORES}
    results = []
    for number, row in enumerate(rows):
        stem = row["item"]
        arrays, original8, hole = load_item(cv2, args.items, stem)
        original = arrays["original"]
        scores = {"model": inpainting_scores(arrays["model"], original, arrays["mask"]),
                  "push_pull": inpainting_scores(arrays["push_pull"], original, arrays["mask"])}
        for method, prefix in (("model", ""), ("push_pull", "fill_")):  # the self-check against SplatKit's numbers
            for score in SCORES:
                ours, theirs = scores[method][score], float(row[prefix + score])
                if math.isnan(ours) and math.isnan(theirs):
                    continue
                deviation = abs(ours - theirs)
                deviations[score] = max(deviations[score], deviation)
                bound = args.psnr_tolerance if score.endswith("psnr") else args.tolerance
                if not deviation <= bound:
                    sys.exit(f"self-check FAILED: item {stem}, {method} {score}: NumPy {ours:.6f}, SplatKit's items.csv "
                             f"{theirs:.6f} (|difference| {deviation:.2e} > {bound:g}); the scores here no longer "
                             "replicate InpaintingScores.swift")
        for method, flag in methods.items():
            filled = opencv_fill(cv2, original8, hole, original, args.radius, flag, stem, method)
            scores[method] = inpainting_scores(filled, original, arrays["mask"])
        results.append({"row": row, "scores": scores})
        if (number + 1) % 20 == 0 or number + 1 == len(rows):
            print(f"  {number + 1}/{len(rows)} items", file=sys.stderr)

    groups = []
    for result in results:
        if result["row"]["group"] not in groups:
            groups.append(result["row"]["group"])
    summary = {}
    for group in groups + ["all"]:
        members = [r for r in results if group == "all" or r["row"]["group"] == group]
        summary[group] = {"items": len(members), **{m: mean_scores([r["scores"][m] for r in members]) for m in METHODS}}

    if args.output:
        header = ["item", "image", "mask", "group", "hole_ratio"] + [f"{m}_{s}" for m in METHODS for s in SCORES]
        with open(args.output, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            for r in results:
                writer.writerow([r["row"][k] for k in header[:5]]
                                + [f"{r['scores'][m][s]:.6g}" for m in METHODS for s in SCORES])
    if args.json:
        report = {"items_folder": args.items, "items": len(results), "opencv": cv2.__version__, "radius": args.radius,
                  "methods": {"model": "the SplatKit model (items.csv)", "push_pull": "push-pull diffusion (SplatKit)",
                              "telea": "cv2.inpaint INPAINT_TELEA", "ns": "cv2.inpaint INPAINT_NS"},
                  "known_pixels": "OpenCV left every known value of its 8-bit input unchanged (checked per item); "
                                  "its holes were composited into the float original, as the model's are",
                  "self_check": {"psnr_tolerance_db": args.psnr_tolerance, "tolerance": args.tolerance,
                                 "largest_deviation": deviations},
                  "groups": summary}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True, allow_nan=True)
            f.write("\n")

    print(f"self-check passed: NumPy scores of the model and push-pull outputs equal items.csv on {len(results)} items "
          f"(largest |difference|: PSNR {max(deviations['psnr'], deviations['hole_psnr']):.1e} dB, "
          f"SSIM {max(deviations['ssim'], deviations['hole_ssim']):.1e}, L1 {max(deviations['l1'], deviations['hole_l1']):.1e})")
    print(f"OpenCV {cv2.__version__}, inpaint radius {args.radius:g}; known pixels: OpenCV kept them; every method's "
          "are the original's")
    print("hole PSNR (dB) | hole SSIM per group")
    print(f"{'group':<8} {'items':>5} | {'model':>13} | {'push-pull':>13} | {'Telea':>13} | {'NS':>13}")
    for group, means in summary.items():
        cells = " | ".join(f"{means[m]['hole_psnr']:5.2f}  {means[m]['hole_ssim']:.4f}" for m in METHODS)
        print(f"{group:<8} {means['items']:>5} | {cells}")


if __name__ == "__main__":
    main()
