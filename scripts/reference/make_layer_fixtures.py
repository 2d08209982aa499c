#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for SplatKit's NeuralNetwork layer tests.

Writes Tests/NeuralNetworkTests/Fixtures/layers.json: for each case, a layer kind and its
hyperparameters, an input, the layer's parameters and buffers (named as SplatKit names
them inside the layer's scope: weight, bias, gamma, beta, running_mean, running_variance,
and dotted names such as conv1.weight for residual blocks), the output, a random upstream
gradient g shaped like the output, the gradients of sum(output * g) with respect to the
input and every parameter, and, for batch norm in training mode, the running statistics
after the step.

Layers covered: Linear, Conv1D, ConvTranspose1D, Conv2D, ConvTranspose2D, BatchNorm1D/2D
(training mode in both conventions, and inference mode), GroupNorm, LayerNorm,
InstanceNorm, UpSampling1D/2D, Max/AvgPool1D/2D, GlobalAveragePool1D/2D, ReflectionPad1D/2D,
ZeroPad2D, ResidualBlock1D and ResidualBlock2D.

Conventions:
- Linear weights are written in PyTorch's layout (out, in); SplatKit stores (in, out), so
  the Swift test transposes them (and their gradients).
- Batch norm "pytorch": F.batch_norm in training mode with momentum 0.1, eps 1e-5, which
  updates running_var with the UNBIASED batch variance.
- Batch norm "keras": computed by hand with torch ops: normalise with the biased batch
  variance and eps 1e-3; running = 0.99 * running + 0.01 * batch, with the BIASED variance.
- Running statistics start from non-default values so that the update is visible.

Determinism: torch.manual_seed(0), float32, one CPU thread; inputs, parameters and upstream
gradients are torch.randn (or uniform for variances) rounded to 4 decimals. Floats are
written as the shortest decimal that parses back to the same float32, then round(v, 7).
Every case is recomputed in float64 from the same inputs and must agree to 1e-4.

Rerun from the repository root:

    python3 scripts/reference/make_layer_fixtures.py
"""

import json
import os
import struct

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_PATH = os.path.join(REPO_ROOT, "Tests", "NeuralNetworkTests", "Fixtures", "layers.json")
GENERATOR = "scripts/reference/make_layer_fixtures.py"


def rnd(*shape):
    """randn rounded to 4 decimals."""
    return torch.round(torch.randn(*shape) * 1e4) / 1e4


def rnd_uniform(low, high, *shape):
    """Uniform in [low, high) rounded to 4 decimals (for variances)."""
    return torch.round((low + (high - low) * torch.rand(*shape)) * 1e4) / 1e4


def rnd_unique(*shape):
    """A shuffled ramp with step 0.0173, so max pooling has no ties."""
    count = 1
    for s in shape:
        count *= s
    values = (torch.randperm(count).float() - count / 2) * 0.0173
    return (torch.round(values * 1e4) / 1e4).reshape(*shape)


def f32_decimal(v):
    """Shortest decimal that parses back to the same float32 as v, then round(., 7)."""
    f32 = struct.unpack("f", struct.pack("f", v))[0]
    for digits in range(0, 12):
        c = round(f32, digits)
        if struct.unpack("f", struct.pack("f", c))[0] == f32:
            break
    else:
        c = f32
    return round(c, 7) + 0.0  # +0.0 turns -0.0 into 0.0


def tensor_json(t):
    t = t.detach().float()
    return {"shape": list(t.shape), "data": [f32_decimal(v) for v in t.flatten().tolist()]}


def evaluate(fn, x, parameters, buffers, dtype, upstream):
    """Runs fn in `dtype`; returns the output, the gradients and the updated buffers."""
    x = x.detach().to(dtype).clone().requires_grad_(True)
    params = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in parameters.items()}
    bufs = {k: v.to(dtype).clone() for k, v in buffers.items()}
    out = fn(x, params, bufs)
    g = upstream(out.shape).to(dtype) if callable(upstream) else upstream.to(dtype)
    (out * g).sum().backward()
    grads = {k: v.grad for k, v in params.items()}
    return out.detach(), g, x.grad, grads, bufs


def run_case(name, layer, params, fn, x, parameters=None, buffers=None, training=False):
    """fn(x, params, buffers) -> output; it may update `buffers` in place (running stats)."""
    parameters = parameters or {}
    buffers = buffers or {}
    out, g, grad_x, grads, new_buffers = evaluate(fn, x, parameters, buffers, torch.float32, lambda s: rnd(*s))

    # Sanity check: float64 recomputation from the same (exactly representable) inputs.
    out64, _, grad_x64, grads64, buffers64 = evaluate(fn, x, parameters, buffers, torch.float64, g)
    err = (out64 - out.double()).abs().max().item()
    err = max(err, (grad_x64 - grad_x.double()).abs().max().item())
    for k in grads:
        err = max(err, (grads64[k] - grads[k].double()).abs().max().item())
    for k in new_buffers:
        err = max(err, (buffers64[k] - new_buffers[k].double()).abs().max().item())
    assert err < 1e-4, (name, err)

    case = {
        "name": name,
        "layer": layer,
        "params": params,
        "training": training,
        "input": tensor_json(x),
        "parameters": {k: tensor_json(v) for k, v in parameters.items()},
        "buffers": {k: tensor_json(v) for k, v in buffers.items()},
        "output": tensor_json(out),
        "upstream": tensor_json(g),
        "grad_input": tensor_json(grad_x),
        "grad_parameters": {k: tensor_json(v) for k, v in grads.items()},
        "updated_buffers": {k: tensor_json(v) for k, v in new_buffers.items()} if training else {},
    }
    return case


# ---------------------------------------------------------------- linear and convolutions

def linear_case(name, leading, d_in, d_out, bias=True):
    p = {"weight": rnd(d_out, d_in)}  # PyTorch layout (out, in)
    if bias:
        p["bias"] = rnd(d_out)
    fn = lambda x, p, b: F.linear(x, p["weight"], p.get("bias"))
    return run_case(name, "linear", {"in": d_in, "out": d_out, "bias": bias}, fn, rnd(*leading, d_in), p)


def conv_case(name, layer, x, cin, cout, k, stride=1, padding=0, dilation=1, groups=1,
              output_padding=0, bias=True):
    """Conv1D/2D and ConvTranspose1D/2D; k, stride, … are ints (1-D) or pairs (2-D).
    padding may be "same" (stride 1): PyTorch pads dilation*(k-1)/2 on each side."""
    two_d = layer.endswith("2d")
    transposed = layer.startswith("conv_transpose")
    pair = lambda v: list(v) if isinstance(v, (tuple, list)) else ([v, v] if two_d else v)
    ks = pair(k)
    kernel = ks if two_d else [ks]
    wshape = ([cin, cout // groups] if transposed else [cout, cin // groups]) + kernel
    p = {"weight": rnd(*wshape)}
    if bias:
        p["bias"] = rnd(cout)
    if padding == "same":
        dil = pair(dilation) if two_d else [dilation]
        amounts = [d * (kk - 1) // 2 for d, kk in zip(dil, kernel)]
        torch_padding = tuple(amounts) if two_d else amounts[0]
    else:
        torch_padding = tuple(pair(padding)) if two_d else padding
    tup = (lambda v: tuple(pair(v))) if two_d else (lambda v: v)
    if transposed:
        op = F.conv_transpose2d if two_d else F.conv_transpose1d
        fn = lambda x, p, b: op(x, p["weight"], p.get("bias"), stride=tup(stride), padding=torch_padding,
                                output_padding=tup(output_padding), groups=groups, dilation=tup(dilation))
    else:
        op = F.conv2d if two_d else F.conv1d
        fn = lambda x, p, b: op(x, p["weight"], p.get("bias"), stride=tup(stride), padding=torch_padding,
                                dilation=tup(dilation), groups=groups)
    params = {"in": cin, "out": cout, "kernel": ks, "stride": pair(stride), "padding": pair(padding)
              if padding != "same" else "same", "dilation": pair(dilation), "groups": groups, "bias": bias}
    if transposed:
        params["output_padding"] = pair(output_padding)
    return run_case(name, layer, params, fn, x, p)


# ---------------------------------------------------------------- normalisations

def channel_view(t, rank):
    return t.view(*([1, -1] + [1] * (rank - 2)))


def keras_batch_norm(x, p, b, momentum=0.99, eps=1e-3):
    """Keras BatchNormalization in training mode, by hand: biased variance throughout."""
    axes = [0] + list(range(2, x.dim()))
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps) * channel_view(p["gamma"], x.dim()) + channel_view(p["beta"], x.dim())
    with torch.no_grad():
        b["running_mean"].copy_(b["running_mean"] * momentum + mean.flatten() * (1 - momentum))
        b["running_variance"].copy_(b["running_variance"] * momentum + var.flatten() * (1 - momentum))
    return y


def pytorch_batch_norm(x, p, b, training, eps=1e-5):
    return F.batch_norm(x, b["running_mean"], b["running_variance"], p["gamma"], p["beta"],
                        training=training, momentum=0.1, eps=eps)


def batch_norm_case(name, shape, convention, training):
    c = shape[1]
    layer = "batch_norm2d" if len(shape) == 4 else "batch_norm1d"
    p = {"gamma": rnd_uniform(0.5, 1.5, c), "beta": rnd(c)}
    b = {"running_mean": rnd(c), "running_variance": rnd_uniform(0.5, 2.0, c)}
    eps = 1e-3 if convention == "keras" else 1e-5
    if training and convention == "keras":
        fn = keras_batch_norm
    else:
        fn = lambda x, p, b: pytorch_batch_norm(x, p, b, training, eps=eps)
    x = torch.round((rnd(*shape) * 1.5 + 0.3) * 1e4) / 1e4  # off-centre, still 4 decimals
    return run_case(name, layer, {"channels": c, "convention": convention}, fn, x, p, b, training=training)


def group_norm_case(name, shape, groups):
    c = shape[1]
    p = {"gamma": rnd_uniform(0.5, 1.5, c), "beta": rnd(c)}
    fn = lambda x, p, b: F.group_norm(x, groups, p["gamma"], p["beta"], eps=1e-5)
    return run_case(name, "group_norm", {"groups": groups, "channels": c}, fn, rnd(*shape), p)


def layer_norm_case(name, shape, k):
    normalized = list(shape[-k:])
    p = {"gamma": rnd_uniform(0.5, 1.5, *normalized), "beta": rnd(*normalized)}
    fn = lambda x, p, b: F.layer_norm(x, normalized, p["gamma"], p["beta"], eps=1e-5)
    return run_case(name, "layer_norm", {"normalized_shape": normalized}, fn, rnd(*shape), p)


def instance_norm_case(name, shape, affine):
    c = shape[1]
    p = {"gamma": rnd_uniform(0.5, 1.5, c), "beta": rnd(c)} if affine else {}
    fn = lambda x, p, b: F.instance_norm(x, weight=p.get("gamma"), bias=p.get("beta"), eps=1e-5)
    return run_case(name, "instance_norm", {"channels": c, "affine": affine}, fn, rnd(*shape), p)


# ---------------------------------------------------------------- parameter-free layers

def simple_case(name, layer, params, fn, x):
    return run_case(name, layer, params, lambda x, p, b: fn(x), x)


# ---------------------------------------------------------------- residual blocks

def residual_block1d_case(name, n, cin, cout, length, k):
    """ResidualBlock1D with the PyTorch batch-norm convention, no dropout, training mode."""
    p = {"conv1.weight": rnd(cout, cin, k) * 0.5, "conv1.bias": rnd(cout),
         "bn1.gamma": rnd_uniform(0.5, 1.5, cout), "bn1.beta": rnd(cout),
         "conv2.weight": rnd(cout, cout, k) * 0.5, "conv2.bias": rnd(cout),
         "bn2.gamma": rnd_uniform(0.5, 1.5, cout), "bn2.beta": rnd(cout),
         "projection.weight": rnd(cout, cin, 1), "projection.bias": rnd(cout)}
    p = {key: torch.round(v * 1e4) / 1e4 for key, v in p.items()}
    b = {"bn1.running_mean": rnd(cout), "bn1.running_variance": rnd_uniform(0.5, 2.0, cout),
         "bn2.running_mean": rnd(cout), "bn2.running_variance": rnd_uniform(0.5, 2.0, cout)}

    def bn(h, p, b, prefix):
        return F.batch_norm(h, b[prefix + ".running_mean"], b[prefix + ".running_variance"],
                            p[prefix + ".gamma"], p[prefix + ".beta"], training=True, momentum=0.1, eps=1e-5)

    def fn(x, p, b):
        h = F.conv1d(x, p["conv1.weight"], p["conv1.bias"], padding=(k - 1) // 2)
        h = F.elu(bn(h, p, b, "bn1"))
        h = F.conv1d(h, p["conv2.weight"], p["conv2.bias"], padding=(k - 1) // 2)
        h = bn(h, p, b, "bn2")
        s = F.conv1d(x, p["projection.weight"], p["projection.bias"])
        return F.elu(h + s)

    params = {"in": cin, "out": cout, "kernel": k, "convention": "pytorch"}
    return run_case(name, "residual_block1d", params, fn, rnd(n, cin, length), p, b, training=True)


def residual_block2d_case(name, n, cin, cout, hw, k, groups):
    """ResidualBlock2D with GroupNorm and ELU, no dropout, no projection (cin == cout) or 1×1."""
    p = {"conv1.weight": rnd(cout, cin, k, k) * 0.5, "conv1.bias": rnd(cout),
         "norm1.gamma": rnd_uniform(0.5, 1.5, cout), "norm1.beta": rnd(cout),
         "conv2.weight": rnd(cout, cout, k, k) * 0.5, "conv2.bias": rnd(cout),
         "norm2.gamma": rnd_uniform(0.5, 1.5, cout), "norm2.beta": rnd(cout)}
    if cin != cout:
        p["projection.weight"] = rnd(cout, cin, 1, 1)
        p["projection.bias"] = rnd(cout)
    p = {key: torch.round(v * 1e4) / 1e4 for key, v in p.items()}
    pad = (k - 1) // 2

    def fn(x, p, b):
        h = F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=pad)
        h = F.elu(F.group_norm(h, groups, p["norm1.gamma"], p["norm1.beta"], eps=1e-5))
        h = F.conv2d(h, p["conv2.weight"], p["conv2.bias"], padding=pad)
        h = F.group_norm(h, groups, p["norm2.gamma"], p["norm2.beta"], eps=1e-5)
        s = F.conv2d(x, p["projection.weight"], p["projection.bias"]) if cin != cout else x
        return F.elu(h + s)

    params = {"in": cin, "out": cout, "kernel": k, "groups": groups}
    return run_case(name, "residual_block2d", params, fn, rnd(n, cin, *hw), p, training=True)


def build_cases():
    cases = [
        # linear
        linear_case("linear_2d", [4], 5, 3),
        linear_case("linear_3d_nobias", [2, 3], 5, 4, bias=False),
        # convolutions
        conv_case("conv1d_k3_stride2_pad1", "conv1d", rnd(2, 3, 9), 3, 4, 3, stride=2, padding=1),
        conv_case("conv1d_k3_same_dil2_groups2", "conv1d", rnd(2, 4, 8), 4, 6, 3, padding="same",
                  dilation=2, groups=2),
        conv_case("conv1d_k5_valid_nobias", "conv1d", rnd(2, 2, 7), 2, 3, 5, bias=False),
        conv_case("conv_transpose1d_k3_stride2_pad1_outpad1", "conv_transpose1d", rnd(2, 3, 5), 3, 4, 3,
                  stride=2, padding=1, output_padding=1),
        conv_case("conv_transpose1d_k3_same_groups2", "conv_transpose1d", rnd(2, 4, 6), 4, 2, 3,
                  padding="same", groups=2),
        conv_case("conv2d_3x3_same", "conv2d", rnd(2, 3, 5, 6), 3, 4, 3, padding="same"),
        conv_case("conv2d_3x2_stride2_pad1x0_groups2_nobias", "conv2d", rnd(2, 4, 6, 5), 4, 6, (3, 2),
                  stride=2, padding=(1, 0), groups=2, bias=False),
        conv_case("conv_transpose2d_3x3_stride2_pad1_outpad1", "conv_transpose2d", rnd(2, 3, 4, 4), 3, 2, 3,
                  stride=2, padding=1, output_padding=1),
        conv_case("conv_transpose2d_2x3_stride1x2_dil2x1_groups2", "conv_transpose2d", rnd(2, 4, 3, 4), 4, 4,
                  (2, 3), stride=(1, 2), dilation=(2, 1), groups=2),
        # batch norm, training mode: output, gradients and updated running statistics
        batch_norm_case("batch_norm1d_nc_train_pytorch", [6, 4], "pytorch", True),
        batch_norm_case("batch_norm1d_ncl_train_pytorch", [3, 4, 5], "pytorch", True),
        batch_norm_case("batch_norm2d_train_pytorch", [2, 3, 4, 5], "pytorch", True),
        batch_norm_case("batch_norm1d_nc_train_keras", [6, 4], "keras", True),
        batch_norm_case("batch_norm1d_ncl_train_keras", [3, 4, 5], "keras", True),
        batch_norm_case("batch_norm2d_train_keras", [2, 3, 4, 5], "keras", True),
        # batch norm, inference mode (running statistics)
        batch_norm_case("batch_norm1d_ncl_eval_pytorch", [3, 4, 5], "pytorch", False),
        batch_norm_case("batch_norm2d_eval_keras", [2, 3, 4, 5], "keras", False),
        # group, layer and instance norm
        group_norm_case("group_norm_ncl_g3", [2, 6, 5], 3),
        group_norm_case("group_norm_nchw_g2", [2, 4, 3, 3], 2),
        layer_norm_case("layer_norm_last1", [2, 3, 4], 1),
        layer_norm_case("layer_norm_last2", [2, 3, 4], 2),
        instance_norm_case("instance_norm1d", [2, 3, 6], False),
        instance_norm_case("instance_norm2d_affine", [2, 3, 4, 4], True),
        # upsampling, pooling and padding
        simple_case("upsampling1d_scale2", "upsampling1d", {"scale": 2},
                    lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), rnd(2, 3, 4)),
        simple_case("upsampling2d_scale3", "upsampling2d", {"scale": 3},
                    lambda x: F.interpolate(x, scale_factor=3, mode="nearest"), rnd(1, 2, 3, 2)),
        simple_case("max_pool1d_k3_s2_p1", "max_pool1d", {"kernel": 3, "stride": 2, "padding": 1},
                    lambda x: F.max_pool1d(x, 3, stride=2, padding=1), rnd_unique(2, 3, 9)),
        simple_case("max_pool2d_k2", "max_pool2d", {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]},
                    lambda x: F.max_pool2d(x, 2), rnd_unique(2, 2, 4, 6)),
        simple_case("avg_pool1d_k3_s2_p1_exclude_pad", "avg_pool1d",
                    {"kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False},
                    lambda x: F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False), rnd(2, 3, 8)),
        simple_case("avg_pool2d_k2x3", "avg_pool2d",
                    {"kernel": [2, 3], "stride": [2, 3], "padding": [0, 0], "count_include_pad": True},
                    lambda x: F.avg_pool2d(x, (2, 3)), rnd(2, 2, 4, 6)),
        simple_case("global_avg_pool1d", "global_avg_pool1d", {}, lambda x: x.mean(dim=2), rnd(2, 3, 5)),
        simple_case("global_avg_pool2d", "global_avg_pool2d", {}, lambda x: x.mean(dim=(2, 3)), rnd(2, 3, 4, 3)),
        simple_case("reflection_pad1d_1_2", "reflection_pad1d", {"padding": [1, 2]},
                    lambda x: F.pad(x, (1, 2), mode="reflect"), rnd(2, 2, 5)),
        # PyTorch's pad order is (left, right, top, bottom); params hold [top, bottom, left, right].
        simple_case("reflection_pad2d_t2_b1_l1_r2", "reflection_pad2d", {"padding": [2, 1, 1, 2]},
                    lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), rnd(1, 2, 4, 4)),
        simple_case("zero_pad2d_t1_b0_l2_r1", "zero_pad2d", {"padding": [1, 0, 2, 1]},
                    lambda x: F.pad(x, (2, 1, 1, 0)), rnd(1, 2, 3, 3)),
        # residual blocks
        residual_block1d_case("residual_block1d_3to5_k3_pytorch_bn", 3, 3, 5, 6, 3),
        residual_block2d_case("residual_block2d_4to4_k3_groupnorm2", 2, 4, 4, (4, 4), 3, 2),
        residual_block2d_case("residual_block2d_2to4_k3_groupnorm2", 2, 2, 4, (3, 4), 3, 2),
    ]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reduction order on CPU
    cases = build_cases()

    dump = lambda obj: json.dumps(obj, sort_keys=True, separators=(",", ":"))
    lines = ['{"cases":[']
    lines.append(",\n".join(dump(c) for c in cases))
    lines.append('],"generator":%s,"torch_version":%s}' % (dump(GENERATOR), dump(torch.__version__)))
    text = "\n".join(lines) + "\n"
    json.loads(text)  # must round-trip
    assert len(text.encode()) < 200_000, "fixture file too large: %d bytes" % len(text.encode())

    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text)
    print("wrote %s: %d cases, %d bytes" % (os.path.relpath(OUT_PATH, REPO_ROOT), len(cases), len(text.encode())))


if __name__ == "__main__":
    main()
