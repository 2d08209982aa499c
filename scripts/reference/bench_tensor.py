"""PyTorch CPU reference benchmark for SplatKit's tensor kernels (float32).

Run from the repository root:

    python3 scripts/reference/bench_tensor.py --threads 2 --json .build/bench/torch-tensor.json

or let `scripts/bench` (`make bench`) run it with the same thread count as the
SplatKit side (THREADS=N, default nproc).  Needs only `torch`
(`scripts/install-deps --torch`).

Each case does 3 warm-up runs, then R timed runs (time.perf_counter); it
reports the median time in ms and GFLOP/s = flops / median time.  Case names
match `splatkit bench tensor` so the two JSON files can be joined on `name`:

    sgemm_peak      torch.mm 2048x2048 @ 2048x2048, flops 2*n^3, R=5
    matmul_1024     torch.mm 1024x1024 @ 1024x1024, flops 2*n^3, R=10
    conv1d_fwd      F.conv1d x(32,32,512) w(64,32,5) b(64) padding=2,
                    flops 2*N*Cout*L*Cin*K, R=20
    conv1d_fwd_bwd  forward + (out*g).sum().backward() w.r.t. x, w, b,
                    flops 3x forward, R=20

JSON written with --json:
    {"implementation": "pytorch <version>", "threads": N,
     "cases": [{"name", "median_ms", "gflops", "shape"}, ...]}
"""

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

WARMUP = 3


def bench(fn, repeat, before=None):
    """Median wall time of fn() in ms over `repeat` runs after WARMUP runs.
    `before` (untimed) runs ahead of every call, e.g. to reset gradients."""
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


def case_matmul(name, n, repeat):
    a = torch.randn(n, n, dtype=torch.float32)
    b = torch.randn(n, n, dtype=torch.float32)
    with torch.no_grad():
        ms = bench(lambda: torch.mm(a, b), repeat)
    return name, ms, 2.0 * n ** 3, f"{n}x{n} @ {n}x{n}"


CONV = dict(N=32, Cin=32, L=512, Cout=64, K=5)
CONV_SHAPE = "x(32,32,512) w(64,32,5) b(64) pad=2"


def conv_flops():
    c = CONV
    return 2.0 * c["N"] * c["Cout"] * c["L"] * c["Cin"] * c["K"]


def case_conv1d_fwd(repeat):
    c = CONV
    x = torch.randn(c["N"], c["Cin"], c["L"])
    w = torch.randn(c["Cout"], c["Cin"], c["K"])
    b = torch.randn(c["Cout"])
    with torch.no_grad():
        ms = bench(lambda: F.conv1d(x, w, b, padding=c["K"] // 2), repeat)
    return "conv1d_fwd", ms, conv_flops(), CONV_SHAPE


def case_conv1d_fwd_bwd(repeat):
    c = CONV
    x = torch.randn(c["N"], c["Cin"], c["L"], requires_grad=True)
    w = torch.randn(c["Cout"], c["Cin"], c["K"], requires_grad=True)
    b = torch.randn(c["Cout"], requires_grad=True)
    g = torch.randn(c["N"], c["Cout"], c["L"])

    def zero_grads():
        x.grad = w.grad = b.grad = None

    def step():
        out = F.conv1d(x, w, b, padding=c["K"] // 2)
        (out * g).sum().backward()

    ms = bench(step, repeat, before=zero_grads)
    return "conv1d_fwd_bwd", ms, 3.0 * conv_flops(), CONV_SHAPE


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="torch.set_num_threads (default: all CPUs)")
    p.add_argument("--json", metavar="PATH", help="write results as JSON here")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    impl = f"pytorch {torch.__version__}"
    print(f"{impl}, threads={threads}, float32")

    cases = []
    for run in (lambda: case_matmul("sgemm_peak", 2048, 5),
                lambda: case_matmul("matmul_1024", 1024, 10),
                lambda: case_conv1d_fwd(20),
                lambda: case_conv1d_fwd_bwd(20)):
        name, ms, flops, shape = run()
        gflops = flops / (ms * 1e-3) / 1e9
        print(f"  {name:<16} {ms:10.3f} ms  {gflops:8.2f} GFLOP/s  [{shape}]")
        cases.append({"name": name, "median_ms": round(ms, 4),
                      "gflops": round(gflops, 3), "shape": shape})

    if args.json:
        d = os.path.dirname(args.json)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"implementation": impl, "threads": threads, "cases": cases}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
