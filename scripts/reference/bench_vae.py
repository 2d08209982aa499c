"""PyTorch CPU reference benchmark for SplatKit's VAE training step (float32).

Run from the repository root:

    python3 scripts/reference/bench_vae.py --threads 2 --json .build/bench/torch-vae.json

and compare with the SplatKit side at the same thread count:

    .build/release/splatkit bench vae --config configs/conv1d_512d.yaml --batch 32 --threads 2
    .build/release/splatkit bench vae --config configs/resnet_conv1d_512d.yaml --batch 16 --threads 2
    .build/release/splatkit bench vae --config configs/conv1d_512d_flatten.yaml --batch 32 --threads 2

Needs only `torch` (`scripts/install-deps --torch`).

The first two models are GaussVAE's, the third SplatKit's variant of the first, with the layer
structure SplatKit builds from configs/conv1d_512d.yaml, configs/resnet_conv1d_512d.yaml and
configs/conv1d_512d_flatten.yaml (Sources/GaussianVAE/GaussianSetVAE.swift):

  conv1d_512d_b32            input (32, 512, 8), latent 512
    encoder  3 × [Conv1d(k5, same) → BatchNorm1d → ELU → Dropout(0.1, 0.15, 0.2)]
             with MaxPool1d(2), MaxPool1d(2), then AdaptiveAvgPool1d(1);
             Linear(128 → 512) → ELU → BatchNorm1d → Dropout(0.2); z_mean, z_log_var Linear(512 → 512)
    decoder  Linear(512 → 512) → ELU → BN; Linear(512 → 2048) → ELU → BN;
             reshape to (128 steps, 16 channels) channels-last, as Keras, then NCL;
             3 × [Conv1d(k5) → BN → ELU] with Upsample(×2, nearest), Upsample(×2), none;
             Conv1d(16 → 8, k1)
  resnet_conv1d_512d_b16     input (16, 512, 8), latent 512
    encoder  5 residual blocks 8→32→64→128→256→256 (k5), each
             conv1 → BN → ELU → Dropout(0) → conv2 → BN, + 1×1 projection (bias, no BN) when
             the width changes, then ELU; MaxPool1d(2) after the first four, AdaptiveAvgPool1d(1)
             after the last; Linear(256 → 512) → ELU → BN; z_mean, z_log_var Linear(512 → 512)
    decoder  Linear(512 → 512) → ELU → BN; Linear(512 → 16384) → ELU → BN; reshape (32, 512);
             5 residual blocks 512→256→128→64→32→16 with Upsample(×2) after the first four;
             Conv1d(16 → 8, k1)
  conv1d_512d_flatten_b32    input (32, 512, 9) (canonical representation), latent 512
    as conv1d_512d_b32 with 9 columns in and out (first Conv1d 9 → 32, last Conv1d(16 → 9, k1)),
    and the encoder's global pool a flatten (encoder_global_pool: flatten) in Keras's
    channels-last order: (B, 128, 128) → (B, steps, channels) → 16,384 features;
    Linear(16384 → 512)

BatchNorm1d(momentum=0.01, eps=1e-3) is Keras's BatchNormalization (momentum 0.99, ε 1e-3).
Parameter counts are printed Keras-style (trainable + BN running mean and variance) to cross-check
SplatKit's 1,989,144, 12,241,784 and 10,312,393 (`splatkit summary --config …`).

Each model is timed in two layouts (`--layouts`): "keras", GaussVAE's exact model as SplatKit
builds it (sets (B, N, P), transposed around the convolutions, Keras's channels-last reshape and
flatten), and "channels_first", the same layers written the plain PyTorch way (sets (B, P, N)
throughout, no transposes in the step); the same parameter counts. Compare SplatKit with the
faster of the two.

One training step: forward in train mode, loss = Σ_g MSE_g + β·KL (β = 1, groups xy, scale,
rotation, colour: columns 0–1, 2–3, 4, 5–7 plain; 0–1, 2–3, 4–5, 6–8 canonical, as SplatKit's
SetRepresentation) with the reparameterisation z = μ + exp(½ log σ²)·ε, backward, Adam
(eps 1e-7, Keras's), zero_grad. Input: standard-normal "normalised" sets. WARMUP steps, then
R timed ones (time.perf_counter); the median in ms and samples/s = batch / median.

JSON written with --json (the layout of `splatkit bench vae --json`):
    {"implementation": "pytorch <version>", "threads": N,
     "cases": [{"name", "shape", "median_ms", "samples_per_s", "peak_memory_mb", "parameters"}, ...]}
peak_memory_mb is the process's VmHWM (peak resident set) after the case, in MB (10^6 bytes);
it accumulates over cases, as the process runs them in order.
"""

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP = 2


def batch_norm(channels):
    return nn.BatchNorm1d(channels, momentum=0.01, eps=1e-3)


class ConvBlock(nn.Module):
    """Conv1d(k, same) → BN → ELU → Dropout (the dropout only when `dropout` is not None)."""

    def __init__(self, cin, cout, k, dropout):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, k, padding=k // 2)
        self.bn = batch_norm(cout)
        self.dropout = nn.Dropout(dropout) if dropout is not None else nn.Identity()

    def forward(self, x):
        return self.dropout(F.elu(self.bn(self.conv(x))))


class ResidualBlock(nn.Module):
    """conv1 → BN → ELU → Dropout → conv2 → BN, + identity or 1×1 projection, then ELU."""

    def __init__(self, cin, cout, k, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv1d(cin, cout, k, padding=k // 2)
        self.bn1 = batch_norm(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(cout, cout, k, padding=k // 2)
        self.bn2 = batch_norm(cout)
        self.projection = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.bn2(self.conv2(self.dropout(F.elu(self.bn1(self.conv1(x))))))
        return F.elu(h + self.projection(x))


class ChannelsLast(nn.Module):
    """(B, C, L) → (B, L, C), so that a following Flatten orders the features as Keras's does."""

    def forward(self, x):
        return x.transpose(1, 2)


class GaussianSetVAE(nn.Module):
    """global_pool: "average" (AdaptiveAvgPool1d(1), the bridge reads C features) or "flatten"
    (channels-last, the bridge reads steps × C), as SplatKit's encoder_global_pool.

    layout: "keras" (sets (B, N, P) in and out, transposed to NCL around the convolutions, the
    decoder's dense output read channels-last as Keras's Reshape, the flatten channels-last:
    GaussVAE's exact model, as SplatKit builds it) or "channels_first" (what a PyTorch user would
    write: sets (B, P, N) throughout, the decoder's dense output viewed as (B, C, L), a plain
    Flatten; the same layers and parameter count, no layout shuffle in the step)."""

    def __init__(self, resnet, columns, latent, enc_filters, enc_dropouts, pools, enc_dense, enc_dense_dropout,
                 dec_dense, reshape, dec_filters, upsamples, k=5, global_pool="average", gaussians=512, layout="keras"):
        super().__init__()
        self.columns, self.gaussians, self.layout = columns, gaussians, layout
        layers, cin, length = [], columns, gaussians
        for f, rate, pool in zip(enc_filters, enc_dropouts, pools):
            layers.append(ResidualBlock(cin, f, k, rate) if resnet else ConvBlock(cin, f, k, rate))
            cin = f
            if pool:
                layers.append(nn.MaxPool1d(pool))
                length //= pool
            elif global_pool == "flatten":
                if layout == "keras":
                    layers.append(ChannelsLast())
            else:
                layers.append(nn.AdaptiveAvgPool1d(1))
                length = 1
        features = cin * length
        layers += [nn.Flatten(), nn.Linear(features, enc_dense), nn.ELU(), batch_norm(enc_dense),
                   nn.Dropout(enc_dense_dropout)]
        self.encoder = nn.Sequential(*layers)
        self.z_mean = nn.Linear(enc_dense, latent)
        self.z_log_var = nn.Linear(enc_dense, latent)
        dense, width = [], latent
        for units in dec_dense:
            dense += [nn.Linear(width, units), nn.ELU(), batch_norm(units)]
            width = units
        self.decoder_dense = nn.Sequential(*dense)
        self.reshape = reshape
        blocks, cin = [], reshape[1]
        for f, up in zip(dec_filters, upsamples):
            blocks.append(ResidualBlock(cin, f, k) if resnet else ConvBlock(cin, f, k, None))
            if up:
                blocks.append(nn.Upsample(scale_factor=up, mode="nearest"))
            cin = f
        blocks.append(nn.Conv1d(cin, columns, 1))
        self.decoder_blocks = nn.Sequential(*blocks)

    def forward(self, x):                                     # x: (B, N, P) keras, (B, P, N) channels_first
        if self.layout == "channels_first":
            h = self.encoder(x)                               # (B, P, N) → (B, enc_dense)
            mean, log_var = self.z_mean(h), self.z_log_var(h)
            z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            steps, channels = self.reshape
            out = self.decoder_blocks(self.decoder_dense(z).view(-1, channels, steps))
            return out, mean, log_var                         # (B, P, N)
        h = self.encoder(x.transpose(1, 2))                   # (B, P, N) → (B, enc_dense)
        mean, log_var = self.z_mean(h), self.z_log_var(h)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        d = self.decoder_dense(z).view(-1, *self.reshape)     # Keras reshape: (B, steps, channels)
        out = self.decoder_blocks(d.transpose(1, 2))          # (B, P, N)
        return out.transpose(1, 2), mean, log_var


def conv1d_512d(global_pool="average", columns=8, layout="keras"):
    return GaussianSetVAE(False, columns, 512, [32, 64, 128], [0.1, 0.15, 0.2], [2, 2, None], 512, 0.2,
                          [512, 2048], (128, 16), [64, 32, 16], [2, 2, None], global_pool=global_pool, layout=layout)


def conv1d_512d_flatten(layout="keras"):
    """configs/conv1d_512d_flatten.yaml: encoder_global_pool flatten, canonical representation (9 columns)."""
    return conv1d_512d(global_pool="flatten", columns=9, layout=layout)


def resnet_conv1d_512d(layout="keras"):
    return GaussianSetVAE(True, 8, 512, [32, 64, 128, 256, 256], [0.0] * 5, [2, 2, 2, 2, None], 512, 0.0,
                          [512, 16384], (32, 512), [256, 128, 64, 32, 16], [2, 2, 2, 2, None], layout=layout)


def keras_count(model):
    """Trainable parameters plus BN running mean and variance (Keras's non-trainable weights)."""
    trainable = sum(p.numel() for p in model.parameters())
    moving = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable + moving, trainable, moving


# xy, scale, rotation, colour, by column count: plain (8) and canonical (9) representations
GROUPS = {8: [(0, 2), (2, 4), (4, 5), (5, 8)], 9: [(0, 2), (2, 4), (4, 6), (6, 9)]}


def vae_loss(recon, target, mean, log_var, beta=1.0, columns_axis=-1):
    """Columns on the last axis (keras layout) or on axis 1 (channels_first)."""
    groups = GROUPS[target.shape[columns_axis]]
    reconstruction = sum(F.mse_loss(recon.narrow(columns_axis, a, b - a), target.narrow(columns_axis, a, b - a))
                         for a, b in groups)
    kl = (-0.5 * (1 + log_var - mean.pow(2) - log_var.exp())).mean()
    return reconstruction + beta * kl


def peak_memory_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return None


def bench_case(name, make, batch, steps):
    torch.manual_seed(0)
    model = make()
    total, trainable, moving = keras_count(model)
    print(f"  {name}: {total:,} parameters ({trainable:,} trainable + {moving:,} BN moving statistics)")
    model.train()
    channels_first = model.layout == "channels_first"
    shape = (batch, model.columns, model.gaussians) if channels_first else (batch, model.gaussians, model.columns)
    x = torch.randn(*shape)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def step():
        recon, mean, log_var = model(x)
        vae_loss(recon, x, mean, log_var, columns_axis=1 if channels_first else -1).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    peak = peak_memory_mb()
    label = "(" + ",".join(map(str, shape)) + ")"
    print(f"  {name:<26} {ms:10.1f} ms  {batch / (ms / 1e3):8.1f} samples/s  peak {peak or 0:.0f} MB  [{label}]")
    return {"name": name, "shape": label, "median_ms": round(ms, 3),
            "samples_per_s": round(batch / (ms / 1e3), 3), "peak_memory_mb": peak, "parameters": total}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads (default: all CPUs)")
    p.add_argument("--steps", type=int, default=10, help="timed training steps per model (after 2 warm-up steps)")
    p.add_argument("--only", help="run only the cases whose names start with this text "
                   "(conv1d, conv1d_512d_b32, conv1d_512d_flatten, resnet)")
    p.add_argument("--layouts", default="keras,channels_first",
                   help="model layouts, comma-separated: keras (GaussVAE's exact model, as SplatKit builds it) and/or "
                        "channels_first (the plain PyTorch way); cases of the second are named <case>_channels_first")
    p.add_argument("--json", metavar="PATH", help="write results as JSON here")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    impl = f"pytorch {torch.__version__}"
    print(f"{impl}, threads={threads}, float32, one VAE training step (forward, backward, Adam)")

    cases = []
    for name, make, batch in (("conv1d_512d_b32", conv1d_512d, 32),
                              ("resnet_conv1d_512d_b16", resnet_conv1d_512d, 16),
                              ("conv1d_512d_flatten_b32", conv1d_512d_flatten, 32)):
        for layout in args.layouts.split(","):
            case = name if layout == "keras" else f"{name}_{layout}"
            if args.only and not case.startswith(args.only):
                continue
            cases.append(bench_case(case, lambda: make(layout=layout), batch, args.steps))

    if args.json:
        d = os.path.dirname(args.json)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"implementation": impl, "threads": threads, "cases": cases}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
