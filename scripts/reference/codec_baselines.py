"""JPEG and WebP rate–distortion baselines at matched file sizes, and Bjøntegaard deltas against them.

Run from the repository root:

    python3 scripts/reference/codec_baselines.py --images /work/shared/data/cq100 --limit 3 \\
        --bpp 0.1,0.25,0.5,1.0 --output runs/baselines/cq100.csv --json runs/baselines/cq100.json
    python3 scripts/reference/codec_baselines.py --images DIR --sizes-from OURS_SIZES.csv --output BASE.csv
    python3 scripts/reference/codec_baselines.py --bd OURS.csv BASE.csv
    python3 scripts/reference/codec_baselines.py --self-test

Needs numpy and Pillow with WebP (`python3 -m pip install pillow`); scipy is optional (faster
filtering; --self-test checks the PCHIP code against it).

What it measures. Each PNG of --images (sorted by name, first --limit, alpha dropped: (H, W, 3)
uint8) is coded at each target size, target bytes = floor(bpp * W * H / 8), or with --sizes-from
the exact byte counts of a CSV (columns image,bpp,bytes: our codec's real file sizes), by
  jpeg   Pillow, baseline + optimize=True (Huffman tables), 4:2:0 chroma, quality 1..95
  webp   Pillow, lossy, method=6, quality 0..100
keeping per codec the highest quality whose file is <= target bytes (binary search, then the
neighbours +-2, as sizes are only nearly monotone in quality); if even the lowest quality is too
big, that one, with over_target=1. The file is decoded back and scored:
  psnr     dB, RGB 8-bit, peak 255, MSE over all H*W*3 values
  ms_ssim  Wang, Simoncelli & Bovik 2003, 5 scales, weights (.0448, .2856, .3001, .2363, .1333),
           11-tap Gaussian window sigma 1.5, K1 .01, K2 .03, L 255, valid filtering, 2x2
           average-pool downsampling (odd last row/column dropped); mean contrast-structure at
           scales 1-4, mean SSIM at scale 5; per RGB channel, then the mean of the three
  bpp      bytes * 8 / (W * H); encode_ms / decode_ms one run each (perf_counter, wall time)
CSV columns: see COLUMNS below (--json: a list of the same rows as objects).

Bjøntegaard deltas (bd_rate, bd_psnr): PSNR against log10(rate) is interpolated by a monotone
piecewise cubic (PCHIP, Fritsch–Carlson slopes, as the JCTVC-style "piecewise cubic" variant)
and integrated exactly. BD-rate: log-rate as a function of PSNR, averaged over the PSNR range
both curves cover, as percent (negative: A needs fewer bits than B). BD-PSNR: PSNR as a function
of log-rate over the common log-rate range, in dB (positive: A is better).
--bd OURS.csv BASE.csv: OURS has columns image,bpp,psnr (rows with codec != 'splatkit' ignored
when there is a codec column); BASE is this script's CSV; prints BD figures of OURS against each
codec per image (rate = actual bpp) and their mean over the images where both are defined.
"""

import argparse
import csv
import io
import json
import math
import os
import sys
import time

import numpy as np

try:  # optional: faster filtering, and the reference for the PCHIP self-check
    import scipy.interpolate
    import scipy.ndimage
except ImportError:
    scipy = None

MS_SSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
COLUMNS = ["image", "codec", "target_bpp", "target_bytes", "quality", "bytes", "bpp", "psnr",
           "ssim", "ms_ssim", "over_target", "encode_ms", "decode_ms"]
CODECS = {  # name -> (lowest quality, highest quality, Pillow save arguments)
    "jpeg": (1, 95, dict(format="JPEG", optimize=True, subsampling="4:2:0")),
    "webp": (0, 100, dict(format="WEBP", method=6, lossless=False)),
}


# ----------------------------------------------------------------------------- quality metrics

def psnr(a, b):
    """PSNR in dB of two (H, W, 3) uint8 images, peak 255 (inf when identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def gaussian_taps(size=11, sigma=1.5):
    """(size,) normalised 1-D Gaussian; the 2-D window is its outer product."""
    g = np.exp(-(np.arange(size) - (size - 1) / 2.0) ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def filter_valid(x, taps, use_scipy=True):
    """Separable 'valid' filtering of (H, W, C) float64 over axes 0 and 1 -> (H-k+1, W-k+1, C)."""
    k, half = len(taps), len(taps) // 2
    if use_scipy and scipy is not None:  # full-size correlation, then crop the border the valid mode drops
        y = scipy.ndimage.correlate1d(x, taps, axis=0, mode="constant")
        y = scipy.ndimage.correlate1d(y, taps, axis=1, mode="constant")
        return y[half:x.shape[0] - half, half:x.shape[1] - half]
    h, w = x.shape[0] - k + 1, x.shape[1] - k + 1
    y = sum(taps[i] * x[i:i + h] for i in range(k))          # (h, W, C)
    return sum(taps[i] * y[:, i:i + w] for i in range(k))    # (h, w, C)


def ssim_terms(x, y, taps, L=255.0, K1=0.01, K2=0.03):
    """Mean SSIM and mean contrast-structure per channel of (H, W, C) float64 images -> two (C,)."""
    C1, C2 = (K1 * L) ** 2, (K2 * L) ** 2
    mx, my = filter_valid(x, taps), filter_valid(y, taps)
    sxx = filter_valid(x * x, taps) - mx * mx
    syy = filter_valid(y * y, taps) - my * my
    sxy = filter_valid(x * y, taps) - mx * my
    cs = (2 * sxy + C2) / (sxx + syy + C2)
    lum = (2 * mx * my + C1) / (mx * mx + my * my + C1)
    return (lum * cs).mean(axis=(0, 1)), cs.mean(axis=(0, 1))


def ssim(a, b):
    """Single-scale SSIM of two (H, W, 3) uint8 images (11-px Gaussian window, sigma 1.5, valid):
    per channel, then the channel mean, as NeuralNetwork's `ssim` on [0, 1] images."""
    return float(ssim_terms(a.astype(np.float64), b.astype(np.float64), gaussian_taps())[0].mean())


def ms_ssim(a, b):
    """5-scale MS-SSIM of two (H, W, 3) uint8 images: per channel, then the channel mean.
    Needs min(H, W) >= 11 * 16 = 176 for valid filtering at the coarsest scale (NaN below)."""
    if min(a.shape[0], a.shape[1]) < 176:
        return math.nan
    taps = gaussian_taps()
    x, y, values = a.astype(np.float64), b.astype(np.float64), np.ones(a.shape[2])  # values: (3,)
    for scale, weight in enumerate(MS_SSIM_WEIGHTS):
        ssim, cs = ssim_terms(x, y, taps)
        last = scale == len(MS_SSIM_WEIGHTS) - 1
        # clamp at 0 as common implementations do (a negative base has no real power)
        values *= np.maximum(ssim if last else cs, 0.0) ** weight
        if not last:  # 2x2 average pool, odd trailing row/column dropped
            h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
            x = x[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
            y = y[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
    return float(values.mean())


# ----------------------------------------------------------------------------- Bjøntegaard

def pchip_slopes(x, y):
    """Fritsch–Carlson monotone derivatives at the knots of strictly increasing x (n,) -> (n,),
    with the same three-point end formula as scipy's PchipInterpolator."""
    h, d = np.diff(x), np.diff(y) / np.diff(x)   # (n-1,) widths and secant slopes
    if len(x) == 2:
        return np.array([d[0], d[0]])
    m = np.zeros_like(y)
    for k in range(1, len(x) - 1):  # weighted harmonic mean where the secants agree in sign
        if d[k - 1] * d[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            m[k] = (w1 + w2) / (w1 / d[k - 1] + w2 / d[k])

    def edge(h0, h1, d0, d1):
        s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if np.sign(s) != np.sign(d0):
            return 0.0
        if np.sign(d0) != np.sign(d1) and abs(s) > 3 * abs(d0):
            return 3 * d0
        return s
    m[0], m[-1] = edge(h[0], h[1], d[0], d[1]), edge(h[-1], h[-2], d[-1], d[-2])
    return m


def pchip_integral(x, y, lo, hi):
    """Exact integral over [lo, hi] (inside [x0, xn]) of the PCHIP of knots (x, y)."""
    m, total = pchip_slopes(x, y), 0.0
    for k in range(len(x) - 1):
        a, b = max(lo, x[k]), min(hi, x[k + 1])
        if b <= a:
            continue
        h, d = x[k + 1] - x[k], (y[k + 1] - y[k]) / (x[k + 1] - x[k])
        c = [y[k], m[k], (3 * d - 2 * m[k] - m[k + 1]) / h, (m[k] + m[k + 1] - 2 * d) / h ** 2]
        F = lambda t: sum(c[i] * t ** (i + 1) / (i + 1) for i in range(4))  # noqa: E731
        total += F(b - x[k]) - F(a - x[k])
    return total


def _knots(xs, ys):
    """Sort by x and merge equal x (mean y; e.g. two targets that got the same quality) -> (n,), (n,)."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    return np.unique(xs), np.array([ys[xs == u].mean() for u in np.unique(xs)])


def _mean_difference(xa, ya, xb, yb):
    """Mean of (curve A - curve B) over the x range both cover; nan if < 2 knots or no overlap."""
    (xa, ya), (xb, yb) = _knots(xa, ya), _knots(xb, yb)
    lo, hi = max(xa[0], xb[0]), min(xa[-1], xb[-1])
    if len(xa) < 2 or len(xb) < 2 or hi <= lo:
        return math.nan
    return (pchip_integral(xa, ya, lo, hi) - pchip_integral(xb, yb, lo, hi)) / (hi - lo)


def bd_rate(rates_a, psnr_a, rates_b, psnr_b):
    """Bjøntegaard delta rate of A against B in percent (negative: A needs fewer bits)."""
    diff = _mean_difference(psnr_a, np.log10(rates_a), psnr_b, np.log10(rates_b))
    return (10.0 ** diff - 1.0) * 100.0


def bd_psnr(rates_a, psnr_a, rates_b, psnr_b):
    """Bjøntegaard delta PSNR of A against B in dB (positive: A is better)."""
    return _mean_difference(np.log10(rates_a), psnr_a, np.log10(rates_b), psnr_b)


# ----------------------------------------------------------------------------- codecs

def encode(image, codec, quality):
    """(file bytes, encode ms) of the PIL RGB image at this quality."""
    buf, start = io.BytesIO(), time.perf_counter()
    image.save(buf, quality=quality, **CODECS[codec][2])
    return buf.getvalue(), (time.perf_counter() - start) * 1e3


def decode(data):
    """(H, W, 3) uint8 decoded image and the decode ms."""
    from PIL import Image  # imported here so that --bd and --self-test run without Pillow
    start = time.perf_counter()
    im = Image.open(io.BytesIO(data)).convert("RGB")  # convert forces the decode
    return np.asarray(im), (time.perf_counter() - start) * 1e3


def best_quality(image, codec, target_bytes, cache):
    """Highest quality with size <= target_bytes (or the lowest quality): (quality, bytes, ms).
    cache maps quality -> (bytes, ms) for this image and codec, shared between targets."""
    lo, hi = CODECS[codec][:2]

    def fits(q):
        if q not in cache:
            cache[q] = encode(image, codec, q)
        return len(cache[q][0]) <= target_bytes
    a, b = lo, hi  # were sizes monotone: every quality < a fits, none > b does; b ends as the answer
    while a <= b:
        mid = (a + b) // 2
        a, b = (mid + 1, b) if fits(mid) else (a, mid - 1)
    ok = [q for q in range(max(lo, b - 2), min(hi, b + 2) + 1) if fits(q)]
    q = max(ok) if ok else lo
    return q, cache[q][0], cache[q][1]


def stem(path):
    """'dir/astronaut.png' -> 'astronaut': how image names are matched between CSVs."""
    return os.path.splitext(os.path.basename(path))[0]


def run_baselines(args):
    from PIL import Image
    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith(".png"))[:args.limit]
    sizes = {} if args.sizes_from else None  # {image stem: [(bpp, bytes), ...]}
    if args.sizes_from:
        with open(args.sizes_from, newline="") as f:
            for r in csv.DictReader(f):
                sizes.setdefault(stem(r["image"]), []).append((float(r.get("target_bpp") or r["bpp"]), int(float(r["bytes"]))))
    bpps = [float(v) for v in (args.bpp or "0.1,0.25,0.5,1.0").split(",")]
    rows, start = [], time.perf_counter()
    for name in names:
        image = Image.open(os.path.join(args.images, name)).convert("RGB")  # alpha dropped
        ref, (w, h) = np.asarray(image), image.size
        if sizes is None:
            targets = [(bpp, int(math.floor(bpp * w * h / 8))) for bpp in bpps]
        else:  # our codec's byte counts; --bpp, when given, picks among them
            targets = sizes.get(stem(name), [])
            targets = [t for t in targets if not args.bpp or any(abs(t[0] - b) < 1e-9 for b in bpps)]
            if not targets:
                print(f"warning: {name} not in {args.sizes_from}, skipped", file=sys.stderr)
        for codec in CODECS:
            cache = {}
            for target_bpp, target_bytes in targets:
                q, data, enc_ms = best_quality(image, codec, target_bytes, cache)
                out, dec_ms = decode(data)
                if args.save_decoded:  # {stem}-{target}bpp-{codec}.png, beside evaluate-codec's own
                    from PIL import Image
                    os.makedirs(args.save_decoded, exist_ok=True)
                    Image.fromarray(out).save(os.path.join(args.save_decoded, f"{stem(name)}-{target_bpp}bpp-{codec}.png"))
                r = dict(image=name, codec=codec, target_bpp=target_bpp, target_bytes=target_bytes, quality=q,
                         bytes=len(data), bpp=len(data) * 8 / (w * h), psnr=psnr(ref, out), ssim=ssim(ref, out), ms_ssim=ms_ssim(ref, out),
                         over_target=int(len(data) > target_bytes), encode_ms=enc_ms, decode_ms=dec_ms)
                rows.append(r)
                print(f"{name:28s} {codec:4s} target {target_bpp:5.3f} bpp ({target_bytes} B): q {q:3d} "
                      f"{r['bpp']:.4f} bpp {r['psnr']:6.2f} dB MS-SSIM {r['ms_ssim']:.4f}"
                      + ("  OVER TARGET" if r["over_target"] else ""), flush=True)
    for path in filter(None, (args.output, args.json)):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(args.output, "w", newline="") as f:
        (writer := csv.DictWriter(f, fieldnames=COLUMNS)).writeheader()
        writer.writerows(rows)
    if args.json:
        with open(args.json, "w") as f:  # inf (lossless) PSNR becomes null: JSON has no inf
            json.dump([{k: (None if v == math.inf else v) for k, v in r.items()} for r in rows], f, indent=1)
    # summary per codec and target: means over the images (over-target rows included, at their real bpp)
    print(f"\n{len(names)} images in {time.perf_counter() - start:.1f} s; means over images:")
    for codec in CODECS:
        for target in sorted({r["target_bpp"] for r in rows}):
            sel = [r for r in rows if r["codec"] == codec and r["target_bpp"] == target]
            mean = {k: np.mean([r[k] for r in sel]) for k in ("bpp", "psnr", "ms_ssim")}
            print(f"  {codec:4s} {target:5.3f} bpp: actual {mean['bpp']:.4f} bpp, PSNR {mean['psnr']:6.2f} dB, "
                  f"MS-SSIM {mean['ms_ssim']:.4f}, {sum(r['over_target'] for r in sel)} over target")


def run_bd(ours_path, base_path):
    """Print BD-rate / BD-PSNR of OURS against each codec of BASE, per image and mean."""
    with open(ours_path, newline="") as f, open(base_path, newline="") as g:
        ours, base = list(csv.DictReader(f)), list(csv.DictReader(g))
    ours = [r for r in ours if r.get("codec", "splatkit") == "splatkit"]
    for codec in sorted({r["codec"] for r in base}):
        print(f"splatkit vs {codec}:   BD-rate %   BD-PSNR dB")
        per_image = []
        for image in sorted({stem(r["image"]) for r in ours}):
            a = [(float(r["bpp"]), float(r["psnr"])) for r in ours if stem(r["image"]) == image]
            b = [(float(r["bpp"]), float(r["psnr"])) for r in base if r["codec"] == codec and stem(r["image"]) == image]
            if not b:
                continue
            (ra, pa), (rb, pb) = zip(*a), zip(*b)
            per_image.append((bd_rate(ra, pa, rb, pb), bd_psnr(ra, pa, rb, pb)))
            print(f"  {image:28s} {per_image[-1][0]:9.2f}   {per_image[-1][1]:9.3f}")
        for i, label in ((0, "BD-rate %"), (1, "BD-PSNR dB")):
            v = [p[i] for p in per_image if math.isfinite(p[i])]
            print(f"  mean {label:10s} over {len(v)}/{len(per_image)} images: {np.mean(v) if v else math.nan:.3f}")


def self_test():
    # Hand-worked case 1: B has PSNR = 30 + 3 log2(rate) at rates 1, 2, 4, 8; A reaches the same
    # PSNRs at half the rates. Both lines are straight in log rate, so PCHIP reproduces them:
    # log-rate differs by log10(1/2) at every PSNR -> BD-rate = 10^log10(1/2) - 1 = -50 %;
    # at every rate A is one octave ahead -> BD-PSNR = +3 dB.
    rb, p = np.array([1.0, 2, 4, 8]), np.array([30.0, 33, 36, 39])
    r1, d1 = bd_rate(rb / 2, p, rb, p), bd_psnr(rb / 2, p, rb, p)
    print(f"case 1 (A = B at half the rate): BD-rate {r1:.12f} %, BD-PSNR {d1:.12f} dB")
    assert abs(r1 + 50.0) < 1e-9 and abs(d1 - 3.0) < 1e-9
    # Hand-worked case 2: same rates, A has PSNR = 30 + 6 log2(rate) (30, 36, 42, 48 dB).
    # BD-PSNR: A - B = 3 log2(rate), averaged over log2(rate) in [0, 3] -> 3 * 1.5 = +4.5 dB.
    # BD-rate: common PSNR range [30, 39]; log2 rA - log2 rB = (P-30)/6 - (P-30)/3 = -(P-30)/6,
    # mean over P in [30, 39] = -9/12 = -0.75 octave -> 2^-0.75 - 1 = -40.5396 %.
    pa = np.array([30.0, 36, 42, 48])
    r2, d2 = bd_rate(rb, pa, rb, p), bd_psnr(rb, pa, rb, p)
    print(f"case 2 (A 6 dB/octave, B 3): BD-rate {r2:.12f} % (2^-0.75 - 1 = {(2 ** -0.75 - 1) * 100:.12f}), "
          f"BD-PSNR {d2:.12f} dB (4.5)")
    assert abs(r2 - (2 ** -0.75 - 1) * 100) < 1e-9 and abs(d2 - 4.5) < 1e-9
    # antisymmetry: B against A undoes A against B
    assert abs(bd_psnr(rb, p, rb, pa) + d2) < 1e-12
    assert abs((1 + bd_rate(rb, p, rb, pa) / 100) * (1 + r2 / 100) - 1) < 1e-12
    # PCHIP against scipy on random curved, flat and non-monotone knots
    rng, worst = np.random.default_rng(0), 0.0
    if scipy is None:
        print("scipy not installed: PCHIP cross-check skipped")
    else:
        for n in (2, 3, 4, 5, 8):
            for trial in range(50):
                x = np.cumsum(rng.uniform(0.05, 1.0, n))
                y = rng.normal(size=n) if trial % 2 else np.cumsum(rng.uniform(0, 1, n)) * (trial % 4 != 0)
                ref, (lo, hi) = scipy.interpolate.PchipInterpolator(x, y), np.sort(rng.uniform(x[0], x[-1], 2))
                # knot values and slopes fix the cubic Hermite interpolant, so compare those + integrals
                worst = max(worst, np.abs(pchip_slopes(x, y) - ref.derivative()(x)).max(),
                            abs(pchip_integral(x, y, lo, hi) - ref.integrate(lo, hi)))
        print(f"PCHIP vs scipy PchipInterpolator (knot slopes and integrals, 250 curves): max |diff| {worst:.2e}")
        assert worst < 1e-10
    # MS-SSIM: 1 for identical images; below 1 with noise; both filtering paths agree
    rng = np.random.default_rng(1)  # own stream: the same images whether or not scipy ran above
    a = rng.integers(0, 256, size=(256, 192, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 8, a.shape), 0, 255).astype(np.uint8)
    assert abs(ms_ssim(a, a) - 1.0) < 1e-12
    x, g, (h, w) = a.astype(np.float64), gaussian_taps(), (a.shape[0] - 10, a.shape[1] - 10)
    window = sum(g[i] * g[j] * x[i:i + h, j:j + w] for i in range(11) for j in range(11))  # plain 2-D
    err = max(np.abs(filter_valid(x, g, s) - window).max() for s in (True, False))
    print(f"MS-SSIM(a, a) = {ms_ssim(a, a):.6f}, MS-SSIM(a, a + noise) = {ms_ssim(a, b):.6f}, "
          f"separable (scipy and numpy) vs 2-D window filtering max |diff| {err:.1e}")
    assert err < 1e-9
    print("self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", help="folder of PNGs (sorted by name)")
    parser.add_argument("--bpp", help="comma-separated target bits per pixel (default 0.1,0.25,0.5,1.0)")
    parser.add_argument("--sizes-from", help="CSV image,bpp,bytes: match these byte budgets instead")
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument("--output", help="CSV to write")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--save-decoded", metavar="DIR", help="write each decoded baseline as DIR/{stem}-{bpp}bpp-{codec}.png")
    parser.add_argument("--bd", nargs=2, metavar=("OURS.csv", "BASE.csv"), help="print Bjøntegaard deltas")
    parser.add_argument("--self-test", action="store_true", help="check BD / PCHIP / MS-SSIM code")
    args = parser.parse_args()
    if args.self_test:
        self_test()
    elif args.bd:
        run_bd(*args.bd)
    elif args.images and args.output:
        run_baselines(args)
    else:
        parser.error("give --images DIR --output CSV, --bd OURS.csv BASE.csv, or --self-test")


if __name__ == "__main__":
    main()
