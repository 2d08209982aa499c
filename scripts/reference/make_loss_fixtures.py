#!/usr/bin/env python3
"""Generate PyTorch reference values for SplatKit's losses (NeuralNetwork tests).

Writes Tests/NeuralNetworkTests/Fixtures/losses.json with, per case, the loss value and its
gradients with respect to both inputs, computed with PyTorch autograd in float64 from the
float32 inputs that the Swift tests use:

- "elementwise": MSE, L1, Huber (delta 1 and 0.5), each with mean and sum reduction, and
  the Gaussian KL divergence; small randn inputs stored in the file (full gradients).
- "ssim" / "ms_ssim": SSIM and MS-SSIM written here in torch with exactly pytorch_msssim's
  formulas (separable Gaussian window, 'valid' filtering, population variances, relu of cs and
  of the last scale's SSIM, 2x2 average pooling with padding = size % 2), so pytorch_msssim
  itself is not needed. Images are too large to store, so both sides generate them from an
  integer recipe (see `recipe_images`); the file holds the value and the gradients at a fixed
  sample of element indices.

Rerun from the repository root:

    python3 scripts/reference/make_loss_fixtures.py
"""

import json
import math
import os
import struct

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_PATH = os.path.join(REPO_ROOT, "Tests", "NeuralNetworkTests", "Fixtures", "losses.json")
GENERATOR = "scripts/reference/make_loss_fixtures.py"
MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
GRADIENT_SAMPLES = 48


def f32(v):
    """The float32 nearest v, as a Python float."""
    return struct.unpack("f", struct.pack("f", v))[0]


def f32_decimal(v):
    """Shortest decimal that parses back to the same float32 as v."""
    x = f32(v)
    for digits in range(0, 12):
        c = round(x, digits)
        if f32(c) == x:
            return c + 0.0
    return x + 0.0


def f64_decimal(v):
    """A reference value: 12 significant digits are plenty against float32 results."""
    return float("%.12g" % v)


# MARK: - Images from an integer recipe (mirrored in LossTests.swift)

def recipe_images(shape, seed, scale):
    """x, y of `shape` (N, C, H, W) as float32 tensors, from integers only:

    state <- (state * 1103515245 + 12345) mod 2^31, r = state >> 16 (two draws per element,
    in row-major order: first for x, then for y)
    xi = (7h + 3w + 50c + 11n) mod 160 + r1 mod 96                  in 0...255
    yi = clamp(xi + r2 mod 121 - 60, 0, 255)
    x = xi / scale, y = yi / scale   (float32 division: scale 255 gives [0, 1], 1 gives [0, 255])
    """
    n_, c_, h_, w_ = shape
    state = seed
    xs, ys = [], []
    for n in range(n_):
        for c in range(c_):
            for h in range(h_):
                for w in range(w_):
                    state = (state * 1103515245 + 12345) % 2**31
                    r1 = state >> 16
                    state = (state * 1103515245 + 12345) % 2**31
                    r2 = state >> 16
                    xi = (7 * h + 3 * w + 50 * c + 11 * n) % 160 + r1 % 96
                    yi = min(255, max(0, xi + r2 % 121 - 60))
                    xs.append(xi)
                    ys.append(yi)
    x = torch.tensor(xs, dtype=torch.float32).reshape(shape) / torch.tensor(scale, dtype=torch.float32)
    y = torch.tensor(ys, dtype=torch.float32).reshape(shape) / torch.tensor(scale, dtype=torch.float32)
    return x, y


# MARK: - SSIM as pytorch_msssim

def gauss_window(size, sigma):
    """pytorch_msssim's _fspecial_gauss_1d (in float64 here)."""
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(coords ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def gaussian_filter(x, win):
    """Separable depthwise 'valid' filtering, as pytorch_msssim's gaussian_filter."""
    c = x.shape[1]
    w = win.to(x.dtype).reshape(1, 1, 1, -1).repeat(c, 1, 1, 1)
    out = F.conv2d(x, w, groups=c)                       # along W
    return F.conv2d(out, w.transpose(2, 3), groups=c)    # along H


def ssim_components(x, y, win, data_range, k1=0.01, k2=0.03):
    """pytorch_msssim's _ssim: per-(N, C) means of the SSIM and cs maps."""
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu1, mu2 = gaussian_filter(x, win), gaussian_filter(y, win)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    sigma1_sq = gaussian_filter(x * x, win) - mu1_sq
    sigma2_sq = gaussian_filter(y * y, win) - mu2_sq
    sigma12 = gaussian_filter(x * y, win) - mu1_mu2
    cs_map = (2 * sigma12 + c2) / (sigma1_sq + sigma2_sq + c2)
    ssim_map = ((2 * mu1_mu2 + c1) / (mu1_sq + mu2_sq + c1)) * cs_map
    return torch.flatten(ssim_map, 2).mean(-1), torch.flatten(cs_map, 2).mean(-1)


def ssim(x, y, win_size=11, win_sigma=1.5, data_range=1.0):
    s, _ = ssim_components(x, y, gauss_window(win_size, win_sigma), data_range)
    return s.mean()


def ms_ssim(x, y, win_size=11, win_sigma=1.5, data_range=1.0, weights=MS_SSIM_WEIGHTS):
    win = gauss_window(win_size, win_sigma)
    assert min(x.shape[-2:]) > (win_size - 1) * 2 ** (len(weights) - 1)
    mcs = []
    for i in range(len(weights)):
        s, cs = ssim_components(x, y, win, data_range)
        if i < len(weights) - 1:
            mcs.append(torch.relu(cs))
            padding = [d % 2 for d in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
    s = torch.relu(s)
    stacked = torch.stack(mcs + [s], dim=0)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, 1, 1)
    return torch.prod(stacked ** w, dim=0).mean()


# MARK: - Cases

def sampled_indices(count):
    """GRADIENT_SAMPLES indices spread over 0..<count (a fixed stride from an odd offset)."""
    step = max(1, count // GRADIENT_SAMPLES)
    return [min(count - 1, 3 + i * step) for i in range(GRADIENT_SAMPLES)]


def image_case(name, function, shape, seed, scale, options):
    x32, y32 = recipe_images(shape, seed, scale)
    x = x32.double().requires_grad_(True)
    y = y32.double().requires_grad_(True)
    fn = ssim if function == "ssim" else ms_ssim
    kwargs = dict(win_size=options["windowSize"], win_sigma=options["windowSigma"], data_range=options["dataRange"])
    value = fn(x, y, **kwargs)
    value.backward()
    # Sanity: the float32 computation agrees with the float64 reference.
    value32 = fn(x32, y32, **kwargs).item()
    assert abs(value32 - value.item()) < 1e-4, (name, value32, value.item())
    # Identical images give exactly 1 (up to rounding).
    assert abs(fn(x32.double(), x32.double(), **kwargs).item() - 1) < 1e-12
    indices = sampled_indices(x.numel())
    return {
        "name": name, "function": function, "shape": list(shape), "seed": seed, "scale": scale,
        "options": options, "value": f64_decimal(value.item()),
        "indices": indices,
        "grad_x": [f64_decimal(v) for v in x.grad.flatten()[indices].tolist()],
        "grad_y": [f64_decimal(v) for v in y.grad.flatten()[indices].tolist()],
    }


def rnd(*shape):
    """randn rounded to 4 decimals, as float32."""
    x = torch.randn(*shape, dtype=torch.float32)
    return torch.round(x * 1e4) / 1e4


def elementwise_case(name, loss, a32, b32, params, fn):
    a = a32.double().requires_grad_(True)
    b = b32.double().requires_grad_(True)
    value = fn(a, b)
    value.backward()
    return {
        "name": name, "loss": loss, "params": params, "shape": list(a32.shape),
        "a": [f32_decimal(v) for v in a32.flatten().tolist()],
        "b": [f32_decimal(v) for v in b32.flatten().tolist()],
        "value": f64_decimal(value.item()),
        "grad_a": [f64_decimal(v) for v in a.grad.flatten().tolist()],
        "grad_b": [f64_decimal(v) for v in b.grad.flatten().tolist()],
    }


def kl(mean, log_variance, reduction):
    per_element = -0.5 * (1 + log_variance - mean.pow(2) - log_variance.exp())
    return per_element.mean() if reduction == "mean" else per_element.sum()


def build_cases():
    elementwise = []
    prediction, target = rnd(3, 4), rnd(3, 4)
    for reduction in ("mean", "sum"):
        elementwise.append(elementwise_case(
            "mse_" + reduction, "mse", prediction, target, {"reduction": reduction},
            lambda a, b, r=reduction: F.mse_loss(a, b, reduction=r)))
        elementwise.append(elementwise_case(
            "l1_" + reduction, "l1", prediction, target, {"reduction": reduction},
            lambda a, b, r=reduction: F.l1_loss(a, b, reduction=r)))
        for delta in (1.0, 0.5):
            elementwise.append(elementwise_case(
                "huber_%g_%s" % (delta, reduction), "huber", prediction, target,
                {"reduction": reduction, "delta": delta},
                lambda a, b, r=reduction, d=delta: F.huber_loss(a, b, reduction=r, delta=d)))
        mean, log_variance = rnd(2, 5), rnd(2, 5)
        elementwise.append(elementwise_case(
            "kl_" + reduction, "kl", mean, log_variance, {"reduction": reduction},
            lambda a, b, r=reduction: kl(a, b, r)))

    images = [
        image_case("ssim_default", "ssim", (2, 3, 24, 20), 1, 255,
                   {"windowSize": 11, "windowSigma": 1.5, "dataRange": 1.0}),
        image_case("ssim_window7_range255", "ssim", (1, 2, 17, 19), 2, 1,
                   {"windowSize": 7, "windowSigma": 1.0, "dataRange": 255.0}),
        image_case("ms_ssim_default", "ms_ssim", (1, 1, 168, 165), 3, 255,
                   {"windowSize": 11, "windowSigma": 1.5, "dataRange": 1.0}),
        image_case("ms_ssim_window3_odd", "ms_ssim", (2, 2, 37, 40), 4, 255,
                   {"windowSize": 3, "windowSigma": 1.5, "dataRange": 1.0}),
    ]
    return elementwise, images


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    elementwise, images = build_cases()
    dump = lambda obj: json.dumps(obj, sort_keys=True, separators=(",", ":"))
    lines = ['{"elementwise":[', ",\n".join(dump(c) for c in elementwise), '],"images":[',
             ",\n".join(dump(c) for c in images),
             '],"generator":%s,"torch_version":%s}' % (dump(GENERATOR), dump(torch.__version__))]
    text = "\n".join(lines) + "\n"
    json.loads(text)  # well-formed
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text)
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT_PATH, REPO_ROOT), len(text)))


if __name__ == "__main__":
    main()
