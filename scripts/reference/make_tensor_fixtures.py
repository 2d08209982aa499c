#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for SplatKit's TensorCore tests.

Writes Tests/TensorCoreTests/Fixtures/ops.json: forward outputs and gradients
(input / weight / bias) for conv1d, conv2d, conv_transpose1d/2d, max/avg pooling
(1d/2d), nearest upsampling (1d/2d) and global average pooling, computed with
PyTorch on CPU in float32 as an oracle.

Each case holds the input (plus weight/bias for conv ops), the output, a random
upstream gradient g shaped like the output, and the gradients of sum(output * g)
with respect to every input tensor. All tensors are flat row-major lists.

Determinism: torch.manual_seed(0), float32, single CPU thread; inputs (and the
upstream gradients) are torch.randn rounded to 4 decimals. Each float is written as
the shortest decimal that parses back to the same float32, then round(v, 7), so
inputs appear exactly as their 4-decimal values. Max-pool inputs have no repeated
values, so the argmax (and therefore the gradient) is unambiguous. Every case is
also recomputed in float64 and must agree to 1e-4.

Rerun from the repository root:

    python3 scripts/reference/make_tensor_fixtures.py
"""

import json
import os
import struct

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_PATH = os.path.join(REPO_ROOT, "Tests", "TensorCoreTests", "Fixtures", "ops.json")
GENERATOR = "scripts/reference/make_tensor_fixtures.py"

DTYPE = torch.float32


def rnd(*shape):
    """randn rounded to 4 decimals."""
    x = torch.randn(*shape, dtype=DTYPE)
    return torch.round(x * 1e4) / 1e4


def rnd_unique(*shape):
    """Like rnd, but redraws repeated values until every element is distinct."""
    x = rnd(*shape).flatten()
    while True:
        _, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
        dup = counts[inverse] > 1
        if not bool(dup.any()):
            return x.reshape(*shape)
        # Keep the first occurrence of each value, redraw the rest.
        seen = set()
        redraw = []
        for i, v in enumerate(x.tolist()):
            if v in seen:
                redraw.append(i)
            seen.add(v)
        idx = torch.tensor(redraw, dtype=torch.long)
        x[idx] = rnd(len(redraw))


def f32_decimal(v):
    """Shortest decimal that parses back to the same float32 as v, then round(., 7).

    For the 4-decimal inputs this gives exactly the 4-decimal value (e.g. 1.2633,
    not 1.2632999), which parses back to the very float32 torch used.
    """
    f32 = struct.unpack("f", struct.pack("f", v))[0]
    for digits in range(0, 12):
        c = round(f32, digits)
        if struct.unpack("f", struct.pack("f", c))[0] == f32:
            break
    else:
        c = f32
    return round(c, 7) + 0.0  # +0.0 turns -0.0 into 0.0


def tensor_json(t):
    t = t.detach()
    data = [f32_decimal(v) for v in t.flatten().tolist()]
    return {"shape": list(t.shape), "data": data}


def run_case(name, op, params, fn, x, weight=None, bias=None):
    """fn(x, weight, bias) -> output. Computes output and grads of sum(out * g)."""
    x = x.clone().requires_grad_(True)
    w = weight.clone().requires_grad_(True) if weight is not None else None
    b = bias.clone().requires_grad_(True) if bias is not None else None
    out = fn(x, w, b)
    g = rnd(*out.shape)
    (out * g).sum().backward()

    case = {
        "name": name,
        "op": op,
        "params": params,
        "input": tensor_json(x),
        "output": tensor_json(out),
        "upstream": tensor_json(g),
        "grad_input": tensor_json(x.grad),
    }
    if w is not None:
        case["weight"] = tensor_json(w)
        case["grad_weight"] = tensor_json(w.grad)
    if b is not None:
        case["bias"] = tensor_json(b)
        case["grad_bias"] = tensor_json(b.grad)

    # Sanity check: float64 recomputation from the same (exactly representable) inputs.
    x64 = x.detach().double().requires_grad_(True)
    w64 = w.detach().double().requires_grad_(True) if w is not None else None
    b64 = b.detach().double().requires_grad_(True) if b is not None else None
    out64 = fn(x64, w64, b64)
    (out64 * g.double()).sum().backward()
    err = (out64 - out.double()).abs().max().item()
    err = max(err, (x64.grad - x.grad.double()).abs().max().item())
    if w is not None:
        err = max(err, (w64.grad - w.grad.double()).abs().max().item())
    if b is not None:
        err = max(err, (b64.grad - b.grad.double()).abs().max().item())
    assert err < 1e-4, (name, err)
    return case


# ---------------------------------------------------------------- conv ops

def conv1d_case(name, n, c, l, o, k, stride=1, padding=0, dilation=1, groups=1, bias=True):
    x = rnd(n, c, l)
    w = rnd(o, c // groups, k)
    b = rnd(o) if bias else None
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    fn = lambda x, w, b: F.conv1d(x, w, b, stride=stride, padding=padding,
                                  dilation=dilation, groups=groups)
    return run_case(name, "conv1d", params, fn, x, w, b)


def conv2d_case(name, n, c, hw, o, k, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                groups=1, bias=True):
    x = rnd(n, c, hw[0], hw[1])
    w = rnd(o, c // groups, k[0], k[1])
    b = rnd(o) if bias else None
    params = {"stride": list(stride), "padding": list(padding),
              "dilation": list(dilation), "groups": groups}
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=tuple(stride), padding=tuple(padding),
                                  dilation=tuple(dilation), groups=groups)
    return run_case(name, "conv2d", params, fn, x, w, b)


def conv_t1d_case(name, n, cin, l, cout, k, stride=1, padding=0, output_padding=0,
                  dilation=1, groups=1, bias=True):
    x = rnd(n, cin, l)
    w = rnd(cin, cout // groups, k)
    b = rnd(cout) if bias else None
    params = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "dilation": dilation, "groups": groups}
    fn = lambda x, w, b: F.conv_transpose1d(x, w, b, stride=stride, padding=padding,
                                            output_padding=output_padding,
                                            groups=groups, dilation=dilation)
    return run_case(name, "conv_transpose1d", params, fn, x, w, b)


def conv_t2d_case(name, n, cin, hw, cout, k, stride=(1, 1), padding=(0, 0),
                  output_padding=(0, 0), dilation=(1, 1), groups=1, bias=True):
    x = rnd(n, cin, hw[0], hw[1])
    w = rnd(cin, cout // groups, k[0], k[1])
    b = rnd(cout) if bias else None
    params = {"stride": list(stride), "padding": list(padding),
              "output_padding": list(output_padding), "dilation": list(dilation),
              "groups": groups}
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=tuple(stride),
                                            padding=tuple(padding),
                                            output_padding=tuple(output_padding),
                                            groups=groups, dilation=tuple(dilation))
    return run_case(name, "conv_transpose2d", params, fn, x, w, b)


# ---------------------------------------------------------------- pooling / resampling

def max_pool1d_case(name, n, c, l, kernel, stride, padding=0):
    x = rnd_unique(n, c, l)
    params = {"kernel": kernel, "stride": stride, "padding": padding}
    fn = lambda x, w, b: F.max_pool1d(x, kernel, stride=stride, padding=padding)
    return run_case(name, "max_pool1d", params, fn, x)


def max_pool2d_case(name, n, c, hw, kernel, stride, padding=(0, 0)):
    x = rnd_unique(n, c, hw[0], hw[1])
    params = {"kernel": list(kernel), "stride": list(stride), "padding": list(padding)}
    fn = lambda x, w, b: F.max_pool2d(x, tuple(kernel), stride=tuple(stride),
                                      padding=tuple(padding))
    return run_case(name, "max_pool2d", params, fn, x)


def avg_pool1d_case(name, n, c, l, kernel, stride, padding=0, count_include_pad=True):
    x = rnd(n, c, l)
    params = {"kernel": kernel, "stride": stride, "padding": padding,
              "count_include_pad": count_include_pad}
    fn = lambda x, w, b: F.avg_pool1d(x, kernel, stride=stride, padding=padding,
                                      count_include_pad=count_include_pad)
    return run_case(name, "avg_pool1d", params, fn, x)


def avg_pool2d_case(name, n, c, hw, kernel, stride, padding=(0, 0), count_include_pad=True):
    x = rnd(n, c, hw[0], hw[1])
    params = {"kernel": list(kernel), "stride": list(stride), "padding": list(padding),
              "count_include_pad": count_include_pad}
    fn = lambda x, w, b: F.avg_pool2d(x, tuple(kernel), stride=tuple(stride),
                                      padding=tuple(padding),
                                      count_include_pad=count_include_pad)
    return run_case(name, "avg_pool2d", params, fn, x)


def upsample1d_case(name, n, c, l, scale):
    x = rnd(n, c, l)
    fn = lambda x, w, b: F.interpolate(x, scale_factor=scale, mode="nearest")
    return run_case(name, "upsample_nearest1d", {"scale": scale}, fn, x)


def upsample2d_case(name, n, c, hw, scale):
    x = rnd(n, c, hw[0], hw[1])
    fn = lambda x, w, b: F.interpolate(x, scale_factor=scale, mode="nearest")
    return run_case(name, "upsample_nearest2d", {"scale": scale}, fn, x)


def global_avg1d_case(name, n, c, l):
    x = rnd(n, c, l)
    fn = lambda x, w, b: x.mean(dim=2)
    return run_case(name, "global_avg_pool1d", {}, fn, x)


def global_avg2d_case(name, n, c, hw):
    x = rnd(n, c, hw[0], hw[1])
    fn = lambda x, w, b: x.mean(dim=(2, 3))
    return run_case(name, "global_avg_pool2d", {}, fn, x)


def build_cases():
    cases = [
        # conv1d
        conv1d_case("conv1d_k3", 2, 3, 8, 4, 3),
        conv1d_case("conv1d_k3_stride2_pad2_dil2", 2, 3, 9, 4, 3,
                    stride=2, padding=2, dilation=2),
        conv1d_case("conv1d_k3_groups2", 2, 4, 7, 6, 3, padding=1, groups=2),
        conv1d_case("conv1d_k5_same_pad2_nobias", 2, 3, 8, 2, 5, padding=2, bias=False),
        # conv2d
        conv2d_case("conv2d_3x3", 2, 3, (6, 7), 4, (3, 3)),
        conv2d_case("conv2d_3x3_stride2x1_pad1x2_dil1x2", 2, 3, (7, 8), 4, (3, 3),
                    stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        conv2d_case("conv2d_3x3_pad1_groups3", 2, 6, (5, 6), 6, (3, 3),
                    padding=(1, 1), groups=3),
        conv2d_case("conv2d_7x7_pad3", 2, 2, (8, 7), 2, (7, 7), padding=(3, 3)),
        conv2d_case("conv2d_2x3_stride2_nobias", 2, 2, (6, 7), 3, (2, 3),
                    stride=(2, 2), bias=False),
        # conv_transpose1d
        conv_t1d_case("conv_transpose1d_k3_stride2_pad1_outpad1", 2, 3, 6, 4, 3,
                      stride=2, padding=1, output_padding=1),
        conv_t1d_case("conv_transpose1d_k3_pad1_dil2_groups2", 2, 4, 7, 6, 3,
                      padding=1, dilation=2, groups=2),
        conv_t1d_case("conv_transpose1d_k4_stride3_outpad1_dil2_nobias", 2, 2, 5, 3, 4,
                      stride=3, output_padding=1, dilation=2, bias=False),
        # conv_transpose2d
        conv_t2d_case("conv_transpose2d_3x3_stride2_pad1_outpad1", 2, 2, (5, 5), 3, (3, 3),
                      stride=(2, 2), padding=(1, 1), output_padding=(1, 1)),
        conv_t2d_case("conv_transpose2d_3x3_stride2x3_pad0x1_outpad1x2_dil1x2_groups2",
                      2, 2, (5, 5), 4, (3, 3), stride=(2, 3), padding=(0, 1),
                      output_padding=(1, 2), dilation=(1, 2), groups=2),
        conv_t2d_case("conv_transpose2d_2x2_stride2_nobias", 2, 2, (5, 5), 2, (2, 2),
                      stride=(2, 2), bias=False),
        # max pooling
        max_pool1d_case("max_pool1d_k2_s2", 2, 3, 8, 2, 2),
        max_pool1d_case("max_pool1d_k3_s2_p1", 2, 3, 9, 3, 2, padding=1),
        max_pool2d_case("max_pool2d_k2_s2", 2, 3, (6, 8), (2, 2), (2, 2)),
        max_pool2d_case("max_pool2d_k3_s2_p1", 2, 3, (7, 8), (3, 3), (2, 2), padding=(1, 1)),
        # avg pooling
        avg_pool1d_case("avg_pool1d_k2_s2", 2, 3, 8, 2, 2),
        avg_pool1d_case("avg_pool1d_k3_s2_p1_exclude_pad", 2, 3, 9, 3, 2, padding=1,
                        count_include_pad=False),
        avg_pool2d_case("avg_pool2d_k2_s2", 2, 3, (6, 8), (2, 2), (2, 2)),
        avg_pool2d_case("avg_pool2d_k3_s2_p1_include_pad", 2, 3, (7, 8), (3, 3), (2, 2),
                        padding=(1, 1), count_include_pad=True),
        avg_pool2d_case("avg_pool2d_k3_s2_p1_exclude_pad", 2, 3, (7, 8), (3, 3), (2, 2),
                        padding=(1, 1), count_include_pad=False),
        # nearest upsampling
        upsample1d_case("upsample_nearest1d_scale2", 2, 3, 5, 2),
        upsample2d_case("upsample_nearest2d_scale2", 2, 2, (5, 6), 2),
        upsample2d_case("upsample_nearest2d_scale3", 2, 2, (5, 5), 3),
        # global average pooling
        global_avg1d_case("global_avg_pool1d", 2, 4, 7),
        global_avg2d_case("global_avg_pool2d", 2, 4, (5, 6)),
    ]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reduction order on CPU
    cases = build_cases()

    dump = lambda obj: json.dumps(obj, sort_keys=True, separators=(",", ":"))
    # Top-level keys in sorted order, one case per line for readable diffs.
    lines = ['{"cases":[']
    lines.append(",\n".join(dump(c) for c in cases))
    lines.append('],"generator":%s,"torch_version":%s}' % (dump(GENERATOR),
                                                          dump(torch.__version__)))
    text = "\n".join(lines) + "\n"
    json.loads(text)  # must round-trip

    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text)
    print("wrote %s: %d cases, %d bytes" % (os.path.relpath(OUT_PATH, REPO_ROOT),
                                             len(cases), len(text.encode())))


if __name__ == "__main__":
    main()
