"""PyTorch CPU reference benchmark for SplatKit's rasterizers (`splatkit bench raster`).

Run from the repository root:

    python3 scripts/reference/bench_raster.py --threads 2 --json .build/bench/torch-raster-512x256x256.json \\
        --cases 512x256x256

or let `scripts/bench` (`make bench`) run it next to `splatkit bench raster` with the same
thread count.  Needs torch and numpy.

Scenes: the SAME random Gaussians as `splatkit bench raster --gaussians N --width W
--height H --seed S` (BenchmarkScene.randomGaussians in Sources/SplatKitCLI/RasterBench.swift,
with SplatKit's RandomGenerator: xoshiro256** seeded by SplitMix64, nextUniform = top 24 bits
/ 2^24), reproduced bit for bit in float32.  The upstream gradient of the backward pass is
uniform in [0, 1) like the Swift bench's (torch.rand; exact values do not affect timing).

Per rasterizer (render_topk / render_additive of torch_rasterizer.py) and case:
    <r>_forward            render under torch.no_grad()
    <r>_forward_backward   render, then out.backward(upstream) w.r.t. the (N, 8) parameters
each 3 warm-up runs, then --repeats timed runs (time.perf_counter), median in ms.

Case names match `splatkit bench raster` (no size suffix): one JSON per size, so with several
--cases give --json a '{case}' placeholder, e.g. --json .build/bench/torch-raster-{case}.json
({case} becomes NxWxH).  JSON layout as bench_tensor.py:
    {"implementation": "pytorch <version>", "threads": N,
     "cases": [{"name", "median_ms", "shape": "N Gaussians WxH", "gflops": null}, ...]}
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_rasterizer import render_additive, render_topk  # noqa: E402

WARMUP = 3
MASK64 = (1 << 64) - 1
RASTERIZERS = {"topk": render_topk, "additive": render_additive}


class RandomGenerator:
    """SplatKit's RandomGenerator (Sources/TensorCore/RandomGenerator.swift): xoshiro256**
    with its state expanded from the seed by SplitMix64."""

    def __init__(self, seed):
        mixer = seed & MASK64
        self.state = []
        for _ in range(4):
            mixer = (mixer + 0x9E3779B97F4A7C15) & MASK64
            z = mixer
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.state.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next(self):
        s = self.state
        result = (self._rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniforms(self, n):
        """n successive nextUniform() values, float32: Float(next() >> 40) * 2^-24 (exact)."""
        return np.array([self.next() >> 40 for _ in range(n)], dtype=np.float32) * np.float32(1.0 / 16777216.0)


# Pinned by Tests/TensorCoreTests/TensorTests.swift (testRandomStreamIsStable).
PINNED_SEED, PINNED_STREAM = 42, [0x15780B2E0C2EC716, 0x6104D9866D113A7E, 0xAE17533239E499A1]


def check_generator():
    g = RandomGenerator(PINNED_SEED)
    got = [g.next() for _ in range(3)]
    if got != PINNED_STREAM:
        raise SystemExit(f"bench_raster: RandomGenerator port is wrong: {[hex(v) for v in got]}")


def random_gaussians(count, width, height, seed=0):
    """BenchmarkScene.randomGaussians: (count, 8) float32, bit-identical to SplatKit's.
    Per Gaussian, in draw order: sigmaX, sigmaY, x, y, theta, r, g, b."""
    f32 = np.float32
    u = RandomGenerator(seed).uniforms(8 * count).reshape(count, 8)
    cover_sigma = f32(math.sqrt(float(width * height) / float(count))) / f32(2)
    sigma_x = cover_sigma * (f32(0.5) + u[:, 0])
    sigma_y = cover_sigma * (f32(0.5) + u[:, 1])
    out = np.stack([u[:, 2], u[:, 3], f32(1) / sigma_x, f32(1) / sigma_y, f32(6.2832) * u[:, 4],
                    u[:, 5], u[:, 6], u[:, 7]], axis=1)
    assert out.dtype == np.float32
    return torch.from_numpy(np.ascontiguousarray(out))


def bench(fn, repeat, before=None):
    """Median wall time of fn() in ms over `repeat` runs after WARMUP runs (as bench_tensor.py)."""
    for _ in range(WARMUP):
        if before:
            before()
        fn()
    times = []
    for _ in range(repeat):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def parse_case(text):
    try:
        n, w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"case '{text}' is not NxWxH (e.g. 512x256x256)")
    if min(n, w, h) < 1:
        raise argparse.ArgumentTypeError(f"case '{text}' must be positive")
    return n, w, h


def run_case(n, w, h, rasterizers, repeats, seed):
    params = random_gaussians(n, w, h, seed).requires_grad_(True)
    gen = torch.Generator().manual_seed(seed + 1)
    upstream = torch.rand(3, h, w, generator=gen)
    shape = f"{n} Gaussians {w}x{h}"
    cases = []
    for name in rasterizers:
        render = RASTERIZERS[name]

        def forward():
            with torch.no_grad():
                render(params, w, h)

        def forward_backward():
            render(params, w, h).backward(upstream)

        def zero_grad():
            params.grad = None

        for case, fn, before in ((f"{name}_forward", forward, None),
                                 (f"{name}_forward_backward", forward_backward, zero_grad)):
            ms = bench(fn, repeats, before)
            print(f"  {case:<26} {ms:10.3f} ms  [{shape}]", flush=True)
            cases.append({"name": case, "median_ms": round(ms, 4), "shape": shape, "gflops": None})
    return cases


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="torch.set_num_threads (default: all CPUs)")
    p.add_argument("--json", metavar="PATH",
                   help="write results as JSON here (one file per case: use '{case}' with several --cases)")
    p.add_argument("--cases", default="512x256x256,10000x768x512",
                   help="comma-separated NxWxH (Gaussians x width x height); default: %(default)s")
    p.add_argument("--rasterizer", choices=["topk", "additive", "both"], default="both")
    p.add_argument("--repeats", type=int, default=20, help="timed runs per case (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="scene seed, as splatkit's --seed (default: 0)")
    args = p.parse_args()

    cases = [parse_case(c) for c in args.cases.split(",") if c.strip()]
    if args.json and len(cases) > 1 and "{case}" not in args.json:
        p.error("--json needs a '{case}' placeholder when several --cases are given (one JSON per size)")
    if args.repeats < 1:
        p.error("--repeats must be positive")
    rasterizers = ["topk", "additive"] if args.rasterizer == "both" else [args.rasterizer]

    check_generator()
    torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    impl = f"pytorch {torch.__version__}"
    for n, w, h in cases:
        print(f"{impl} raster benchmark: {', '.join(rasterizers)}, {n} Gaussians, {w}x{h}, {threads} threads", flush=True)
        results = run_case(n, w, h, rasterizers, args.repeats, args.seed)
        if args.json:
            path = args.json.replace("{case}", f"{n}x{w}x{h}")
            d = os.path.dirname(path)
            if d:
                os.makedirs(d, exist_ok=True)
            with open(path, "w") as f:
                json.dump({"implementation": impl, "threads": threads, "cases": results}, f, indent=2)
                f.write("\n")


if __name__ == "__main__":
    main()
