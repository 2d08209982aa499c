"""PyTorch CPU reference benchmark for SplatKit's feed-forward inpainting network (`splatkit bench inpaint`).

Run from the repository root:

    python3 scripts/reference/bench_inpaint.py --threads 2 --json .build/bench/torch-inpaint.json

and compare with the SplatKit side at the same thread count (Sources/SplatKitCLI/InpaintBench.swift):

    .build/release/splatkit bench inpaint --untrained --threads 2 --json .build/bench/splatkit-inpaint.json

Needs only `torch` (`scripts/install-deps --torch`). float32 throughout.

What it mirrors. The network of "2D Gaussian Splatting with Semantic Alignment for Image
Inpainting" as SplatKit builds it from the defaults of configs/inpaint_unet.yaml
(Sources/Inpainting/InpaintingConfig.swift), layer for layer, with the same parameter count
(1,687,167, asserted): c = 16, D = 12, 4 GroupNorm groups, P = 16, pad = 4, mask channel on,
C_p = 64, MLP hidden 16, a 5-value Cholesky dictionary (126 entries), learned global features (F = 64).

  input     cat(I ⊙ (1 − hole), hole): (B, 4, H, W)                           InpaintingModel.swift
  global    4 × [Conv 3×3 s2 p1 → ReLU] (16, 32, 64, 64) → global mean → Linear(64 → 64),
            then SiLU                                                        InpaintingSemantics.swift
  U-Net     stem: reflect-pad 3 → Conv 7×7 (4 → 16) → GN → ReLU                 InpaintingUNet.swift
            down: 3 × [Conv 3×3 s2 p1 → GN → ReLU]  16 → 32 → 64 → 128
            2 × semantic residual block (128): (scale, shift, gate) = Linear(64 → 384)(SiLU(s));
                h = ReLU((1 + scale)·GN₁(x) + shift) (GN₁ not affine);
                h = conv₂(ReLU(GN₂(conv₁(h)))) (3×3 same); y = x + gate·h
            up: 3 × [ConvT 4×4 s2 p1 → GN → ReLU] 128 → 64, 128 → 32, 64 → 16, each ⊕ its skip
            output: reflect-pad 3 → Conv 7×7 (32 → 12) → tanh
  head      patchify Conv(12 → 64, kernel 16, stride 16) → Linear(64 → 576·12)  GaussianHead.swift
            → 576 Gaussians per patch, 12 features each; decoders Linear(12 → 16) → ReLU → Linear:
            colour (3), offset (2, tanh · 1 px, added to the window's pixel-centre grid),
            covariance (126 logits → softmax over the fixed Cholesky dictionary:
            Σ = Σ_k π_k L_k L_kᵀ + 0.01·I, conic = Σ⁻¹ in closed form)       InpaintingCovariance.swift
  render    patch rasterizer: window k (the patch grown by 4 px, clipped to the image) renders
            only patch k's 576 Gaussians, additively, α = min(1, e^(−q/2)) (opacity 1), terms with
            α < 1/255 (or q < 0) skipped; overlapping windows averaged by coverage count
                                                                   GaussianRasterizer/PatchRasterizer.swift
  output    image = I ⊙ (1 − hole) + render ⊙ hole

Parameters are initialised as SplatKit's (Glorot-uniform weights, zero biases, zero modulation
Linear, covariance output bias ln(9·125) on the dictionary entry nearest L = I) from
torch.manual_seed(0); the values differ from SplatKit's, the distributions do not. The work does
not depend on them (nor, here, on the image content). Inputs are a seeded uniform picture and a
mask of random rectangles (SplatKit uses its large-hole mask generator; content does not change
the PyTorch work, and changes SplatKit's only through the α footprints).

Cases (the names of the Swift bench):
  inference       model.eval(), torch.no_grad(): predict one --size² image (default 256)
  training_step   forward on a --batch of --crop² crops (default 4 × 128²),
                  loss = L1(render, image) + 0.2·(1 − SSIM(render, image)) (SSIM: 11×11 Gaussian
                  window, σ = 1.5, 'valid', C1 = 0.01², C2 = 0.03², separable filter as SplatKit),
                  backward, clip_grad_norm_(1.0), AdamW(lr 2e-4, weight_decay 0.01), zero_grad
each --warmup untimed runs, then --repeats timed runs (time.perf_counter); the median in ms.

What differs: the rasterizer is DENSE. SplatKit's kernel visits, per Gaussian, only the pixels
of its conservative α ≥ 1/255 footprint (with a hand-written backward). Here each window
evaluates all 576 Gaussians at all 576 of its pixels — a (B, N, 576, 576) tensor of q, in chunks
of patches — applies the α rule as a mask, sums the colours with a batched matmul, folds the
windows back with F.fold (sum) and divides by F.fold of ones (the coverage count); autograd
differentiates it. The results are the same up to float rounding, but this does far more
arithmetic than the footprint-culled kernel (every Gaussian × every window pixel; most terms are
masked out). It is the natural PyTorch formulation, which is the point of the comparison.
Likewise the covariance mixture materialises the (M, 126) logits that SplatKit's fused op
avoids, and the reflection padding of inputs to the network's stride is omitted (sizes here are
multiples of 16). The min(1, ·) clamp of α never binds with opacity 1 and q ≥ 0, so it is left out.

JSON written with --json (the layout of `splatkit bench inpaint --json`):
    {"implementation": "pytorch <version>", "threads": N,
     "cases": [{"name": "inference", "shape": "(1,3,256,256)", "median_ms": …, "gflops": null},
               {"name": "training_step", "shape": "(4,3,128,128)", "median_ms": …, "gflops": null}]}
"""

import argparse
import json
import math
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# configs/inpaint_unet.yaml (InpaintingModelConfig / InpaintingTrainingConfig defaults).
CONFIG = dict(base_channels=16, residual_blocks=2, feature_channels=12, group_norm_groups=4, patch_size=16,
              patch_padding=4, mask_channel=True, patch_embedding_channels=64, mlp_hidden=16, cholesky_values=5,
              cholesky_scale_range=(0.5, 4.0), cholesky_shear_limit=2.0, covariance_epsilon=0.01, offset_range=1.0,
              semantic_features=64, global_channels=16)
LEARNING_RATE, WEIGHT_DECAY, GRADIENT_CLIP, SSIM_WEIGHT = 2e-4, 0.01, 1.0, 0.2
SPLATKIT_PARAMETERS = 1_687_167  # `splatkit bench inpaint` with the default config
RASTER_CHUNK_ELEMENTS = 1 << 25  # q elements per rasterizer chunk (128 MB of float32) in no_grad mode


# MARK: - Covariance dictionary (InpaintingCovariance.swift)

def cholesky_dictionary(n, scale_range, shear_limit):
    """(K, 3) [Σ11, Σ12, Σ22] of the K = n³ + 1 entries (l11 outermost, then l21, then l22; the zero
    row last), and the index of the entry nearest L = I."""
    low, high = scale_range
    scales = [math.sqrt(low * high)] if n == 1 else [low * (high / low) ** (i / (n - 1)) for i in range(n)]
    shears = [0.0] if n == 1 else [-shear_limit + 2 * shear_limit * i / (n - 1) for i in range(n)]
    factors = [(l11, l21, l22) for l11 in scales for l21 in shears for l22 in scales]
    covariances = [(l11 * l11, l11 * l21, l21 * l21 + l22 * l22) for l11, l21, l22 in factors]
    nearest = min(range(len(factors)),
                  key=lambda k: math.log(factors[k][0]) ** 2 + factors[k][1] ** 2 + math.log(factors[k][2]) ** 2)
    covariances.append((0.0, 0.0, 0.0))
    return torch.tensor(covariances, dtype=torch.float32), nearest


# MARK: - Network

class ConvUnit(nn.Module):
    """Conv (or transposed conv) → GroupNorm → ReLU (InpaintingConvUnit)."""

    def __init__(self, conv, channels, groups):
        super().__init__()
        self.conv = conv
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class SemanticResidualBlock(nn.Module):
    """AdaLN-modulated residual block (adaLN-Zero: the modulation Linear starts at zero)."""

    def __init__(self, channels, groups, features):
        super().__init__()
        self.channels = channels
        self.norm1 = nn.GroupNorm(groups, channels, eps=1e-5, affine=False)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, channels, eps=1e-5)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.modulation = nn.Linear(features, 3 * channels)

    def forward(self, x, semantics):  # semantics: SiLU(global features), (B, F)
        scale, shift, gate = self.modulation(semantics)[:, :, None, None].split(self.channels, dim=1)
        h = F.relu(self.norm1(x) * (scale + 1) + shift)
        h = F.relu(self.norm2(self.conv1(h)))
        return x + gate * self.conv2(h)


class GlobalImageEncoder(nn.Module):
    def __init__(self, cin, width, features):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 4 * width]
        self.convs = nn.ModuleList(nn.Conv2d(cin if i == 0 else widths[i - 1], w, 3, stride=2, padding=1)
                                   for i, w in enumerate(widths))
        self.projection = nn.Linear(widths[-1], features)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.projection(x.mean(dim=(2, 3)))


class InpaintingUNet(nn.Module):
    def __init__(self, cin, c, cout, blocks, groups, features):
        super().__init__()
        self.stem_conv = nn.Conv2d(cin, c, 7)
        self.stem_norm = nn.GroupNorm(groups, c, eps=1e-5)
        self.down = nn.ModuleList(ConvUnit(nn.Conv2d(c << i, c << (i + 1), 3, stride=2, padding=1), c << (i + 1), groups)
                                  for i in range(3))
        self.blocks = nn.ModuleList(SemanticResidualBlock(8 * c, groups, features) for _ in range(blocks))
        self.up = nn.ModuleList(ConvUnit(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), b, groups)
                                for a, b in zip((8 * c, 8 * c, 4 * c), (4 * c, 2 * c, c)))
        self.output = nn.Conv2d(2 * c, cout, 7)

    def forward(self, x, semantics):
        x = F.relu(self.stem_norm(self.stem_conv(F.pad(x, (3, 3, 3, 3), mode="reflect"))))
        skips = [x]
        for unit in self.down:
            x = unit(x)
            skips.append(x)
        for block in self.blocks:
            x = block(x, semantics)
        for i, unit in enumerate(self.up):
            x = torch.cat([unit(x), skips[2 - i]], dim=1)
        return torch.tanh(self.output(F.pad(x, (3, 3, 3, 3), mode="reflect")))


class GaussianDecoder(nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        self.hidden = nn.Linear(inputs, hidden)
        self.output = nn.Linear(hidden, outputs)

    def forward(self, x):
        return self.output(F.relu(self.hidden(x)))


class GaussianHead(nn.Module):
    """Feature map (B, D, H, W) → per-patch Gaussians: local means (B·N, G, 2) in window pixels,
    conics (B·N, G, 3) = [a, b, c], colours (B·N, G, 3)."""

    def __init__(self, cfg):
        super().__init__()
        self.D, self.P, self.pad = cfg["feature_channels"], cfg["patch_size"], cfg["patch_padding"]
        self.S = self.P + 2 * self.pad
        self.G = self.S * self.S
        self.offset_range, self.epsilon = cfg["offset_range"], cfg["covariance_epsilon"]
        covariances, self.nearest_identity = cholesky_dictionary(cfg["cholesky_values"], cfg["cholesky_scale_range"],
                                                                 cfg["cholesky_shear_limit"])
        self.register_buffer("dictionary", covariances, persistent=False)  # (K, 3), not a parameter
        hidden = cfg["mlp_hidden"]
        self.patchify = nn.Conv2d(self.D, cfg["patch_embedding_channels"], self.P, stride=self.P)
        self.expand = nn.Linear(cfg["patch_embedding_channels"], self.G * self.D)
        self.colour = GaussianDecoder(self.D, hidden, 3)
        self.offset = GaussianDecoder(self.D, hidden, 2)
        self.covariance = GaussianDecoder(self.D, hidden, covariances.shape[0])
        # Grid points of one window in window pixels: Gaussian j = v·S + u at (u + ½, v + ½).
        v, u = torch.meshgrid(torch.arange(self.S, dtype=torch.float32), torch.arange(self.S, dtype=torch.float32),
                              indexing="ij")
        self.register_buffer("grid", torch.stack([u.reshape(-1), v.reshape(-1)], dim=1) + 0.5, persistent=False)

    def forward(self, x):
        B, _, H, W = x.shape
        N = (H // self.P) * (W // self.P)
        embedded = self.patchify(x).permute(0, 2, 3, 1).reshape(B * N, -1)  # (B·N, C_p), patches row-major
        features = self.expand(embedded).reshape(B * N * self.G, self.D)  # (M, D)
        colours = self.colour(features)
        offsets = torch.tanh(self.offset(features)) * self.offset_range
        # SplatKit's means are image pixels (window origin + grid + offset); the rasterizer below
        # works in window pixels, so the window origin cancels and is never added.
        means = offsets.reshape(B * N, self.G, 2) + self.grid
        pi = torch.softmax(self.covariance(features), dim=1)  # (M, K)
        sigma = pi @ self.dictionary  # (M, 3): Σ11, Σ12, Σ22
        s11, s12, s22 = (sigma[:, 0] + self.epsilon), sigma[:, 1], (sigma[:, 2] + self.epsilon)
        det = s11 * s22 - s12 * s12
        conics = torch.stack([s22 / det, -s12 / det, s11 / det], dim=1)
        return means, conics.reshape(B * N, self.G, 3), colours.reshape(B * N, self.G, 3)


def rasterize_patches(means, conics, colours, batch, height, width, P, pad):
    """Dense patch rasterizer: (B·N, G, ·) per-window Gaussians → (B, 3, H, W).

    Each window's S² pixels × its G Gaussians: q = a·dx² + 2b·dx·dy + c·dy², α = e^(−q/2) kept
    where q ≥ 0 and α ≥ 1/255, window colour = α @ colours; then F.fold sums the windows into
    the image (dropping the parts outside it) and divides by the coverage count."""
    S = P + 2 * pad
    BN, G, _ = means.shape
    centres = torch.arange(S, dtype=means.dtype, device=means.device) + 0.5
    px = centres.repeat(S).view(1, S * S, 1)  # pixel p = y·S + x: (x + ½, y + ½)
    py = centres.repeat_interleave(S).view(1, S * S, 1)
    # Without autograd, chunks bound the memory; with it every chunk's intermediates are kept for
    # the backward anyway, so one chunk does the same.
    chunk = BN if torch.is_grad_enabled() else max(1, RASTER_CHUNK_ELEMENTS // (S * S * G))
    windows = []
    for start in range(0, BN, chunk):
        m, q3, col = means[start:start + chunk], conics[start:start + chunk], colours[start:start + chunk]
        dx = px - m[:, None, :, 0]  # (n, S², G)
        dy = py - m[:, None, :, 1]
        a, b, c = q3[:, None, :, 0], q3[:, None, :, 1], q3[:, None, :, 2]
        q = (a * dx + 2 * b * dy) * dx + c * dy.square()
        alpha = torch.exp(-0.5 * q)
        keep = (q >= 0) & (alpha >= 1 / 255)
        alpha = torch.where(keep, alpha, torch.zeros((), dtype=alpha.dtype))
        windows.append(torch.bmm(alpha, col))  # (n, S², 3)
    windows = torch.cat(windows) if len(windows) > 1 else windows[0]
    N = BN // batch
    columns = windows.view(batch, N, S * S, 3).permute(0, 3, 2, 1).reshape(batch, 3 * S * S, N)
    summed = F.fold(columns, (height, width), kernel_size=S, stride=P, padding=pad)
    ones = torch.ones(1, S * S, N, dtype=windows.dtype, device=windows.device)
    coverage = F.fold(ones, (height, width), kernel_size=S, stride=P, padding=pad)  # (1, 1, H, W)
    return summed / coverage


class InpaintingModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        cin = 4 if cfg["mask_channel"] else 3
        self.unet = InpaintingUNet(cin, cfg["base_channels"], cfg["feature_channels"], cfg["residual_blocks"],
                                   cfg["group_norm_groups"], cfg["semantic_features"])
        self.global_encoder = GlobalImageEncoder(cin, cfg["global_channels"], cfg["semantic_features"])
        self.head = GaussianHead(cfg)
        self._initialise()

    def _initialise(self):
        """SplatKit's initialisers: Keras Glorot uniform weights (xavier_uniform_ has the same fans
        for Conv2d, ConvTranspose2d and Linear), zero biases, GroupNorm γ = 1, β = 0; adaLN-Zero
        modulation; the covariance bias favouring the entry nearest L = I."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for block in self.unet.blocks:
            nn.init.zeros_(block.modulation.weight)
        with torch.no_grad():
            K = self.head.dictionary.shape[0]
            self.head.covariance.output.bias[self.head.nearest_identity] = math.log(9 * max(K - 1, 1))

    def forward(self, image, hole):
        """image (B, 3, H, W) in [0, 1], hole (B, 1, H, W) with 1 = hole; H, W multiples of 16.
        Returns (composited image, render)."""
        B, _, H, W = image.shape
        masked = image * (1 - hole)
        x = torch.cat([masked, hole], dim=1) if self.cfg["mask_channel"] else masked
        semantics = F.silu(self.global_encoder(x))
        means, conics, colours = self.head(self.unet(x, semantics))
        render = rasterize_patches(means, conics, colours, B, H, W, self.head.P, self.head.pad)
        return image * (1 - hole) + render * hole, render


# MARK: - Loss (NeuralNetwork/FusedImageLoss.swift, SSIM.swift)

def gaussian_window(size=11, sigma=1.5):
    g = torch.exp(-((torch.arange(size, dtype=torch.float32) - size // 2) ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def ssim(x, y, window, c1=0.01 ** 2, c2=0.03 ** 2):
    """Mean SSIM over images, channels and 'valid' window positions; separable Gaussian filter
    over the five stacked maps x, y, x², y², x·y."""
    C = x.shape[1]
    maps = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (B, 5C, H, W)
    S = window.numel()
    filtered = F.conv2d(maps, window.view(1, 1, 1, S).expand(5 * C, 1, 1, S), groups=5 * C)
    filtered = F.conv2d(filtered, window.view(1, 1, S, 1).expand(5 * C, 1, S, 1), groups=5 * C)
    mx, my, mxx, myy, mxy = filtered.split(C, dim=1)
    vx, vy, cov = mxx - mx * mx, myy - my * my, mxy - mx * my
    cs = (2 * cov + c2) / (vx + vy + c2)
    luminance = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return (luminance * cs).mean()


def l1_ssim_loss(render, image, window, weight=SSIM_WEIGHT):
    return (render - image).abs().mean() + weight * (1 - ssim(render, image, window))


# MARK: - Benchmark

def benchmark_input(batch, size, seed):
    """A seeded uniform picture (B, 3, S, S) and a mask (B, 1, S, S) of a few random rectangles."""
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, size, size, generator=g)
    hole = torch.zeros(batch, 1, size, size)
    for i in range(batch):
        for _ in range(4):
            h, w = (int(v) for v in torch.randint(size // 8, size // 2, (2,), generator=g))
            top, left = (int(v) for v in torch.randint(0, size - size // 2, (2,), generator=g))
            hole[i, 0, top:top + h, left:left + w] = 1
    return image, hole


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is KiB on Linux


def run(name, shape, fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    print(f"  {name:<18} {ms:10.3f} ms  [{shape}]  peak RSS {peak_rss_mb():.0f} MB", flush=True)
    return {"name": name, "shape": shape, "median_ms": round(ms, 3), "gflops": None}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads (default: all CPUs)")
    p.add_argument("--size", type=int, default=256, help="side of the inference image (default: %(default)s)")
    p.add_argument("--batch", type=int, default=4, help="training batch (default: %(default)s)")
    p.add_argument("--crop", type=int, default=128, help="side of the training crops (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=10, help="timed runs per case (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="untimed warm-up runs per case (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="write results as JSON here")
    args = p.parse_args()
    stride = CONFIG["patch_size"]  # lcm(P, 8) = 16: no reflection padding needed at multiples of it
    for flag, value in (("--size", args.size), ("--crop", args.crop)):
        if value < stride or value % stride:
            p.error(f"{flag} must be a positive multiple of {stride} (this script does not pad to the stride)")
    if args.batch < 1 or args.repeats < 1 or args.warmup < 0:
        p.error("need --batch ≥ 1, --repeats ≥ 1, --warmup ≥ 0")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    threads = torch.get_num_threads()
    impl = f"pytorch {torch.__version__}"

    torch.manual_seed(0)
    model = InpaintingModel(CONFIG)
    count = sum(p.numel() for p in model.parameters())
    parts = {name: sum(p.numel() for p in getattr(model, name).parameters())
             for name in ("unet", "global_encoder", "head")}
    print(f"{impl} inpainting: {count:,} parameters (U-Net {parts['unet']:,}, global {parts['global_encoder']:,}, "
          f"head {parts['head']:,}), {threads} threads, dense patch rasterizer", flush=True)
    assert count == SPLATKIT_PARAMETERS, f"parameter count {count:,} != SplatKit's {SPLATKIT_PARAMETERS:,}"

    cases = []
    image, hole = benchmark_input(1, args.size, seed=1)
    model.eval()

    def inference():
        with torch.no_grad():
            model(image, hole)

    cases.append(run("inference", f"(1,3,{args.size},{args.size})", inference, args.warmup, args.repeats))

    crops, masks = benchmark_input(args.batch, args.crop, seed=2)
    window = gaussian_window()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    model.train()

    def training_step():
        _, render = model(crops, masks)
        l1_ssim_loss(render, crops, window).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step = run("training_step", f"({args.batch},3,{args.crop},{args.crop})", training_step, args.warmup, args.repeats)
    cases.append(step)
    print(f"  training: {args.batch / (step['median_ms'] / 1e3):.2f} samples/s; peak resident memory "
          f"{peak_rss_mb():.0f} MB", flush=True)

    if args.json:
        d = os.path.dirname(args.json)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"implementation": impl, "threads": threads, "cases": cases}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
