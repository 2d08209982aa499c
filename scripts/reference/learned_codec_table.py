#!/usr/bin/env python3
"""The learned codec's rate-distortion table (issue 21): each learned model's mean rate, PSNR
and SSIM on a set of photos at the model's size, beside JPEG, WebP and SplatKit's per-image codec
at the same bits per pixel on the same pixels (scripts/learned-codec-benchmark makes the inputs).

    python3 scripts/reference/learned_codec_table.py --learned RUN/lambda100 RUN/lambda300 ... \
        --baselines RUN/baselines.csv --per-image RUN/per-image [--json RUN/table.json]

--learned      folders of `splatkit evaluate-codec --model` (results.csv, sources/)
--baselines    codec_baselines.py's CSV of JPEG and WebP over a sweep of rates on sources/
--per-image    a folder of `splatkit evaluate-codec` on sources/ over a sweep of rates

A baseline's PSNR (SSIM) at a learned point's rate is read off that image's own curve by linear
interpolation in bits per pixel between its two neighbouring points. A codec whose smallest file
for the image is larger than the learned one has no value there: the row counts those images
("n/a") and averages the others, so a mean never mixes in an extrapolation. The per-image
codec's SSIM is computed here from its decoded PNGs against sources/ (its CSV has MS-SSIM only,
undefined at these sizes), with the same SSIM as codec_baselines.py.
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from codec_baselines import psnr, ssim, stem  # noqa: E402  one definition of each metric


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_png(path):
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def curves(rows, metric):
    """{(codec, image stem): sorted [(bpp, value)]}."""
    out = {}
    for r in rows:
        out.setdefault((r["codec"], stem(r["image"])), []).append((float(r["bpp"]), float(r[metric])))
    return {k: sorted(v) for k, v in out.items()}


def at_rate(curve, bpp):
    """The curve's value at bpp by linear interpolation, or None below its lowest rate. Above its
    highest rate the highest point is used (a codec that stops improving stays where it is)."""
    if not curve or bpp < curve[0][0]:
        return None
    for (r0, v0), (r1, v1) in zip(curve, curve[1:]):
        if r0 <= bpp <= r1:
            return v0 if r1 == r0 else v0 + (v1 - v0) * (bpp - r0) / (r1 - r0)
    return curve[-1][1]


def per_image_rows(folder, sources):
    """evaluate-codec's rows with an SSIM column computed from the decoded PNGs."""
    rows = read_rows(os.path.join(folder, "results.csv"))
    for r in rows:
        decoded = load_png(os.path.join(folder, f"{r['image']}-{r['target_bpp']}bpp.png"))
        r["ssim"] = ssim(load_png(os.path.join(sources, r["image"] + ".png")), decoded)
        r["codec"] = "per-image"
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learned", nargs="+", required=True)
    parser.add_argument("--baselines", required=True)
    parser.add_argument("--per-image")
    parser.add_argument("--json")
    args = parser.parse_args()

    sources = os.path.join(args.learned[0], "sources")
    others = read_rows(args.baselines)
    if args.per_image:
        others += per_image_rows(args.per_image, sources)
    codecs = sorted({r["codec"] for r in others})
    psnr_curves, ssim_curves = curves(others, "psnr"), curves(others, "ssim")

    table = []
    for folder in args.learned:
        rows = read_rows(os.path.join(folder, "results.csv"))
        # The learned rows' own PSNR, checked against this script's on the written PNGs.
        worst = max(abs(psnr(load_png(os.path.join(sources, r["image"] + ".png")),
                             load_png(os.path.join(folder, r["image"] + ".png"))) - float(r["psnr"])) for r in rows)
        assert worst < 0.01, f"{folder}: results.csv's PSNR differs from the PNGs' by {worst:.3f} dB"
        entry = {"model": rows[0]["model"], "folder": folder, "images": len(rows)}
        for key in ("bytes", "bpp", "psnr", "ssim", "fitted_psnr", "encode_ms", "decode_ms"):
            entry[key] = float(np.mean([float(r[key]) for r in rows]))
        for codec in codecs:
            deltas, ssims, above, smallest = [], [], 0, []
            for r in rows:
                image, bpp = stem(r["image"]), float(r["bpp"])
                p = at_rate(psnr_curves.get((codec, image)), bpp)
                s = at_rate(ssim_curves.get((codec, image)), bpp)
                if p is None:  # the codec's smallest file for this image, and its quality
                    curve = psnr_curves.get((codec, image))
                    if curve:
                        smallest.append((curve[0][0], curve[0][1], float(r["psnr"]), bpp))
                    continue
                deltas.append(float(r["psnr"]) - p)
                ssims.append(float(r["ssim"]) - s)
                above += float(r["psnr"]) > p
            entry[codec] = {"images": len(deltas), "not_reached": len(rows) - len(deltas),
                            "psnr_delta": float(np.mean(deltas)) if deltas else None,
                            "ssim_delta": float(np.mean(ssims)) if ssims else None, "learned_above": above,
                            # where not reached: the codec's smallest files (mean bpp, PSNR) and the learned PSNR there
                            "smallest_bpp": float(np.mean([t[0] for t in smallest])) if smallest else None,
                            "smallest_psnr": float(np.mean([t[1] for t in smallest])) if smallest else None,
                            "learned_psnr_where_not_reached": float(np.mean([t[2] for t in smallest])) if smallest else None,
                            "learned_bpp_where_not_reached": float(np.mean([t[3] for t in smallest])) if smallest else None}
        table.append(entry)

    print(f"{'model':40s} {'bytes':>6s} {'bpp':>7s} {'PSNR':>6s} {'SSIM':>6s} {'fit':>6s} {'enc ms':>7s} {'dec ms':>7s}")
    for e in table:
        print(f"{e['model'][-40:]:40s} {e['bytes']:6.1f} {e['bpp']:7.4f} {e['psnr']:6.2f} {e['ssim']:6.4f} "
              f"{e['fitted_psnr']:6.2f} {e['encode_ms']:7.1f} {e['decode_ms']:7.1f}")
        for codec in codecs:
            c = e[codec]
            delta = "n/a" if c["psnr_delta"] is None else f"{c['psnr_delta']:+.2f} dB PSNR, {c['ssim_delta']:+.4f} SSIM"
            print(f"    vs {codec:10s} at the same bpp: {delta} over {c['images']} images "
                  f"(learned above on {c['learned_above']}; {c['not_reached']} where {codec} has no file this small)")
            if c["smallest_bpp"] is not None:
                print(f"       {codec}'s smallest files there: {c['smallest_bpp']:.4f} bpp, {c['smallest_psnr']:.2f} dB "
                      f"(learned on those images: {c['learned_bpp_where_not_reached']:.4f} bpp, {c['learned_psnr_where_not_reached']:.2f} dB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
