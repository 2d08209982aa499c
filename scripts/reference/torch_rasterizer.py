"""PyTorch CPU reference of SplatKit's two tile-based 2-D Gaussian rasterizers (float32).

Same formulas as Sources/GaussianRasterizer (GaussianConventions.swift, TileBinning.swift,
TopKRasterizer.swift, AdditiveRasterizer.swift), written with vectorised tensor ops and
differentiable through autograd:

    render_topk(params, W, H, k=10)   -> (3, H, W)   Image-GS top-K normalised blend
    render_additive(params, W, H)     -> (3, H, W)   GaussianImage additive blend (opacity 1)

params is (G, 8) float32 in the Image-GS convention [x, y, sx, sy, theta, r, g, b]:
x, y in [0, 1] (mean in pixels (x*W, y*H)), sx, sy inverse standard deviations in 1/px,
conic a = cos^2 sx^2 + sin^2 sy^2, b = cos sin (sx^2 - sy^2), c = sin^2 sx^2 + cos^2 sy^2.

Pixel (i, j) is sampled at (i + 1/2, j + 1/2);  q = a dx^2 + 2b dx dy + c dy^2,  w = exp(-q/2).
A Gaussian is considered for a pixel only if its 3-sigma box (radius 3/sqrt(lambda_min) of the
conic, infinite for a degenerate conic) touches the pixel's 16x16 tile.

    top-K:    the K eligible Gaussians with the smallest q; C = sum w c / (sum w + 1e-4)
    additive: C = sum c min(1, w) over eligible Gaussians with min(1, w) >= 1/255 (and q >= 0)

How it is computed (the way a PyTorch user would, and exact):
  1. Binning (no gradient): each Gaussian's tile rectangle, expanded to (tile, Gaussian) pairs
     with repeat_interleave, stably sorted by tile (so ascending Gaussian index within a tile),
     scattered into a padded (tiles, M) index matrix.  Padding points at a sentinel Gaussian
     (a = c = inf) whose q is +inf, so it is never blended and needs no mask.
  2. Tiles are sorted by their Gaussian count and processed in chunks of similar count (little
     padding, bounded memory): q for chunk pixels x chunk Gaussians, (T, 256, M), computed
     with the same float32 operation order as the Swift kernels, so q is bit-identical.
  3. top-K: torch.topk(q, k, largest=False) (i.e. topk on -q, padding at q = +inf);
     additive: the mask (q >= 0) & (min(1, exp(-q/2)) >= 1/255), with q/2 capped at 20 before
     the exp (exp(-20) < 1/255, so the mask is unchanged; avoids slow denormal arithmetic).
  4. Selection is piecewise constant and takes no gradient.  Under autograd only the selected
     (pixel, Gaussian) terms are recomputed from the differentiable screen features (the same
     float32 ops again, so the same values): (P, K) terms for top-K, the sparse list of
     contributing pairs for additive, accumulated into a (3, pixels) image with index_add_.
     Without autograd the dense pass is used directly (additive: a batched matmul of the
     masked alphas with the tile colours).

Known differences from SplatKit, all at float32 rounding level: exact ties in q at the K-th
place are broken by torch.topk rather than by the lower Gaussian index (only matters for
coincident Gaussians); sums run in a different order; torch's exp may differ from libm's by
an ulp.  scripts/reference/check_raster.py compares the two on 8-bit renders.
"""

import math

import torch

TILE = 16
EPSILON = 1e-4
ALPHA_THRESHOLD = 1.0 / 255.0
# Elements (pixels x padded Gaussians) per chunk of tiles; bounds memory, keeps it cache-sized.
CHUNK_ELEMENTS = 1 << 19


def screen_features(params, W, H):
    """Image-GS parameters (G, 8) -> screen features (G, 8) [mx, my, a, b, c, r, g, b] (pixels),
    in the operation order of imageGSScreenFeatures (GaussianConventions.swift)."""
    x, y, sx, sy, theta = params[:, 0], params[:, 1], params[:, 2], params[:, 3], params[:, 4]
    cos, sin = torch.cos(theta), torch.sin(theta)
    ivx, ivy = sx * sx, sy * sy
    cos2, sin2 = cos * cos, sin * sin
    a = cos2 * ivx + sin2 * ivy
    b = cos * sin * (ivx - ivy)
    c = sin2 * ivx + cos2 * ivy
    return torch.cat([torch.stack([x * float(W), y * float(H), a, b, c], dim=1), params[:, 5:8]], dim=1)


def _with_sentinel(features):
    """Appends the padding Gaussian (index G): mean 0, a = c = inf, b = 0, colour 0 -> q = +inf."""
    sentinel = torch.tensor([[0.0, 0.0, math.inf, 0.0, math.inf, 0.0, 0.0, 0.0]],
                            dtype=features.dtype)
    return torch.cat([features, sentinel], dim=0)


@torch.no_grad()
def bin_gaussians(features, W, H):
    """Tile binning of TileBinning.swift.  Returns (index (T, Mmax) int64 padded with G,
    counts (T,) int64), Gaussians in ascending order within each tile."""
    f = features.detach()
    G = f.shape[0]
    across, down = (W + TILE - 1) // TILE, (H + TILE - 1) // TILE
    T = across * down
    mx, my, a, b, c = f[:, 0], f[:, 1], f[:, 2], f[:, 3], f[:, 4]
    # threeSigmaRadius: 3 / sqrt(lambda_min), infinite when lambda_min <= 1e-12 or not finite.
    mean = 0.5 * (a + c)
    spread = torch.sqrt(0.25 * (a - c) * (a - c) + b * b)
    smallest = mean - spread
    ok = (smallest > 1e-12) & torch.isfinite(smallest)
    radius = torch.where(ok, 3.0 / torch.sqrt(torch.where(ok, smallest, torch.ones_like(smallest))),
                         torch.full_like(smallest, math.inf))
    left, right, top, bottom = mx - radius, mx + radius, my - radius, my + radius
    valid = (torch.isfinite(mx) & torch.isfinite(my) & ~torch.isnan(radius)
             & (right >= 0) & (bottom >= 0) & (left < W) & (top < H))
    # Int(max(left, 0)) / 16 etc.; clamping to [0, W-1] first changes no valid Gaussian's floor.
    x0 = torch.clamp(left, 0, W - 1).nan_to_num(0).floor().long() // TILE
    x1 = torch.clamp(right, 0, W - 1).nan_to_num(0).floor().long() // TILE
    y0 = torch.clamp(top, 0, H - 1).nan_to_num(0).floor().long() // TILE
    y1 = torch.clamp(bottom, 0, H - 1).nan_to_num(0).floor().long() // TILE
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    per_gaussian = torch.where(valid, nx * ny, torch.zeros_like(nx))
    total = int(per_gaussian.sum())
    if total == 0:
        return torch.full((T, 1), G, dtype=torch.long), torch.zeros(T, dtype=torch.long)
    gaussian = torch.repeat_interleave(torch.arange(G), per_gaussian)
    first = torch.cumsum(per_gaussian, 0) - per_gaussian
    local = torch.arange(total) - first[gaussian]
    tile = (y0[gaussian] + local // nx[gaussian]) * across + x0[gaussian] + local % nx[gaussian]
    order = torch.sort(tile, stable=True).indices
    tile, gaussian = tile[order], gaussian[order]
    counts = torch.bincount(tile, minlength=T)
    start = torch.cumsum(counts, 0) - counts
    rank = torch.arange(total) - start[tile]
    index = torch.full((T, int(counts.max())), G, dtype=torch.long)
    index[tile, rank] = gaussian
    return index, counts


def _chunks(counts, min_width):
    """Non-empty tiles sorted by count (descending), grouped into chunks of at most
    CHUNK_ELEMENTS pixel x Gaussian elements.  Yields (tiles (Tc,) int64, width M)."""
    order = torch.argsort(counts, descending=True, stable=True)
    sorted_counts = counts[order].tolist()
    n = sum(1 for v in sorted_counts if v > 0)
    i = 0
    while i < n:
        width = max(sorted_counts[i], min_width)
        size = max(1, CHUNK_ELEMENTS // (TILE * TILE * width))
        yield order[i:i + size], width
        i += size


def _pixel_centres(tiles, across):
    """Pixel centres (Tc, 256) x and y and padded-image flat indices of the given tiles."""
    local = torch.arange(TILE * TILE)
    lx, ly = local % TILE, local // TILE
    tx, ty = tiles % across, tiles // across
    ix = tx[:, None] * TILE + lx[None, :]
    iy = ty[:, None] * TILE + ly[None, :]
    return ix.float() + 0.5, iy.float() + 0.5, iy * (across * TILE) + ix


def _conic_distance(mx, my, a, b, c, px, py):
    """q = a dx dx + (2b) dx dy + c dy dy, in the Swift kernels' operation order."""
    dx, dy = px - mx, py - my
    return a * dx * dx + (2 * b) * dx * dy + c * dy * dy


@torch.no_grad()
def _dense_q(columns, index, px, py):
    """q (Tc, 256, M) of chunk pixels to the chunk tiles' Gaussians (sentinel -> +inf), and
    the tiles' feature columns (8, Tc, M).  columns: detached features (8, G + 1)."""
    g = columns.index_select(1, index.reshape(-1)).view(8, *index.shape)
    mx, my, a, b, c = (g[i][:, None, :] for i in range(5))
    dx = px[:, :, None] - mx
    dy = py[:, :, None] - my
    q = dx * a
    q.mul_(dx)
    dx.mul_(2 * b).mul_(dy)          # (2b dx) dy
    q.add_(dx)
    q.add_((dy * c).mul_(dy))        # (c dy) dy  (= c dy dy exactly)
    return q, g


def _setup(params, W, H, min_width):
    """Screen features (G + 1, 8) with the sentinel, their detached columns (8, G + 1), the
    padded tile index (T, >= min_width) and per-tile counts."""
    features = _with_sentinel(screen_features(params, W, H))
    columns = features.detach().t().contiguous()
    index, counts = bin_gaussians(features.detach()[:-1], W, H)
    sentinel = features.shape[0] - 1
    if index.shape[1] < min_width:  # pad with the sentinel (q = +inf)
        index = torch.cat([index, torch.full((index.shape[0], min_width - index.shape[1]), sentinel)], 1)
    return features, columns, index, counts


def _image(flat, W, H, across):
    """(3, padded pixels) -> (3, H, W)."""
    return flat.view(3, -1, across * TILE)[:, :H, :W]


def render_topk(params, W, H, k=10):
    """Top-K normalised blend (Image-GS), (G, 8) -> (3, H, W), differentiable."""
    features, columns, index, counts = _setup(params, W, H, k)
    across, down = (W + TILE - 1) // TILE, (H + TILE - 1) // TILE
    differentiable = torch.is_grad_enabled() and features.requires_grad
    if differentiable:
        feature_columns = features.t().contiguous()  # (8, G + 1), differentiable
    image = torch.zeros(3, down * TILE * across * TILE, dtype=features.dtype)
    for tiles, width in _chunks(counts, k):
        tile_index = index[tiles, :width]
        px, py, pixels = _pixel_centres(tiles, across)
        with torch.no_grad():
            q, _ = _dense_q(columns, tile_index, px, py)
            best_q, best = torch.topk(q, k, dim=2, largest=False, sorted=False)   # (Tc, 256, K)
            del q
            chosen = torch.gather(tile_index, 1, best.view(len(tiles), -1)).view(-1)
        if differentiable:
            # Recompute the K selected q with autograd (same float32 ops -> same values).
            s = feature_columns.index_select(1, chosen).view(8, *best.shape)
            mx, my, a, b, c, red, green, blue = s.unbind(0)
            best_q = _conic_distance(mx, my, a, b, c, px[:, :, None], py[:, :, None])
            w = torch.exp(-0.5 * best_q)
            numerator = torch.stack([(w * red).sum(-1), (w * green).sum(-1), (w * blue).sum(-1)])
            image.index_add_(1, pixels.view(-1), (numerator / (w.sum(-1) + EPSILON)).view(3, -1))
        else:
            colour = columns[5:8].index_select(1, chosen).view(3, *best.shape)
            w = torch.exp(-0.5 * best_q)
            numerator = (w * colour).sum(-1)                                      # (3, Tc, 256)
            image.index_copy_(1, pixels.view(-1), (numerator / (w.sum(-1) + EPSILON)).view(3, -1))
    if differentiable and image.grad_fn is None:  # nothing rendered: keep the graph connected
        image = image + params[:0].sum()
    return _image(image, W, H, across)


def render_additive(params, W, H):
    """Additive blend (GaussianImage, opacity 1), (G, 8) -> (3, H, W), differentiable."""
    features, columns, index, counts = _setup(params, W, H, 1)
    across, down = (W + TILE - 1) // TILE, (H + TILE - 1) // TILE
    differentiable = torch.is_grad_enabled() and features.requires_grad
    if differentiable:
        feature_columns = features.t().contiguous()
    image = torch.zeros(3, down * TILE * across * TILE, dtype=features.dtype)
    threshold = torch.tensor(ALPHA_THRESHOLD, dtype=torch.float32)
    for tiles, width in _chunks(counts, 1):
        tile_index = index[tiles, :width]
        px, py, pixels = _pixel_centres(tiles, across)
        with torch.no_grad():
            q, g = _dense_q(columns, tile_index, px, py)
            sigma = q.mul_(0.5)
            # exp(-sigma) for sigma > 20 is < 1/255 either way; capping avoids slow denormals.
            alpha = torch.exp(-torch.clamp(sigma, max=20.0)).clamp_(max=1.0)
            keep = (sigma >= 0) & (alpha >= threshold)
        if differentiable:
            # Recompute only the contributing (pixel, Gaussian) terms with autograd.
            with torch.no_grad():
                flat = keep.view(-1).nonzero().squeeze(1)          # over (Tc, 256, M)
                pixel_pos = flat // width                          # over (Tc, 256)
                gaussian = tile_index.view(-1).index_select(0, (flat // (TILE * TILE * width)) * width + flat % width)
                pair_px = px.view(-1).index_select(0, pixel_pos)
                pair_py = py.view(-1).index_select(0, pixel_pos)
                pair_pixel = pixels.view(-1).index_select(0, pixel_pos)
            s = feature_columns.index_select(1, gaussian)          # (8, n)
            mx, my, a, b, c, red, green, blue = s.unbind(0)
            q_pair = _conic_distance(mx, my, a, b, c, pair_px, pair_py)
            alpha_pair = torch.clamp(torch.exp(-(0.5 * q_pair)), max=1.0)
            image.index_add_(1, pair_pixel, torch.stack([alpha_pair * red, alpha_pair * green, alpha_pair * blue]))
        else:
            alpha.mul_(keep)
            # (Tc, 3, M) @ (Tc, M, 256) -> (Tc, 3, 256), written to the tiles' pixels.
            blended = torch.bmm(g[5:8].permute(1, 0, 2), alpha.transpose(1, 2))
            image.index_copy_(1, pixels.view(-1), blended.permute(1, 0, 2).reshape(3, -1))
    if differentiable and image.grad_fn is None:  # nothing rendered: keep the graph connected
        image = image + params[:0].sum()
    return _image(image, W, H, across)
