import TensorCore

// Slow reference rasterizers composed only of TensorCore ops (dense over every pixel and every
// Gaussian), used by tests to check the fast kernels' values and hand-written gradients.
// Their gradients come from the generic autodiff of the ops they are built from.

/// Pixel centres of a width × height image, as two (P, 1) tensors in row-major pixel order.
func pixelCentres(width: Int, height: Int) -> (x: Tensor, y: Tensor) {
    var xs = [Float](), ys = [Float]()
    for row in 0..<height {
        for column in 0..<width {
            xs.append(Float(column) + 0.5)
            ys.append(Float(row) + 0.5)
        }
    }
    return (Tensor(shape: [xs.count, 1], scalars: xs), Tensor(shape: [ys.count, 1], scalars: ys))
}

/// q(p, g) = dᵀ Σ_g⁻¹ d for every pixel p and Gaussian g of one item's screen features (G, 8): (P, G).
func referenceConicDistances(_ screen: Tensor, width: Int, height: Int) -> Tensor {
    let (px, py) = pixelCentres(width: width, height: height)
    let columns = screen.split(sizes: [1, 1, 1, 1, 1, 3], alongAxis: 1).prefix(5).map { $0.reshaped([1, -1]) }
    let dx = px - columns[0], dy = py - columns[1]
    return columns[2] * dx * dx + 2 * columns[3] * dx * dy + columns[4] * dy * dy
}

/// 1 where Gaussian g's 3σ box touches pixel p's tile: the binning rule, restated plainly.
func referenceTileEligibility(_ screen: Tensor, width: Int, height: Int) -> [[Bool]] {
    let G = screen.shape[0]
    return (0..<(width * height)).map { p in
        let tileX = (p % width) / tileSize, tileY = (p / width) / tileSize
        return (0..<G).map { g in
            let mx = screen[g, 0], my = screen[g, 1]
            let radius = threeSigmaRadius(a: screen[g, 2], b: screen[g, 3], c: screen[g, 4])
            if mx + radius < 0 || my + radius < 0 || mx - radius >= Float(width) || my - radius >= Float(height) { return false }
            let firstX = Int(Swift.max(mx - radius, 0)) / tileSize, lastX = Int(Swift.min(mx + radius, Float(width - 1))) / tileSize
            let firstY = Int(Swift.max(my - radius, 0)) / tileSize, lastY = Int(Swift.min(my + radius, Float(height - 1))) / tileSize
            return (firstX...lastX).contains(tileX) && (firstY...lastY).contains(tileY)
        }
    }
}

/// The top-K normalised blend of one item's screen features (G, 8) → (3, H, W), dense.
func referenceTopK(_ screen: Tensor, width: Int, height: Int, options: TopKOptions) -> Tensor {
    let q = referenceConicDistances(screen, width: width, height: height)  // (P, G)
    let eligible = referenceTileEligibility(screen, width: width, height: height)
    let G = screen.shape[0], P = width * height
    // Selection mask: per pixel the K eligible Gaussians with the smallest q (ties: lower index).
    var mask = [Float](repeating: 0, count: P * G)
    for p in 0..<P {
        let candidates = (0..<G).filter { eligible[p][$0] }.sorted { (q[p, $0], $0) < (q[p, $1], $1) }
        for g in candidates.prefix(options.k) { mask[p * G + g] = 1 }
    }
    let weights = (q * -0.5).exp() * Tensor(shape: [P, G], scalars: mask)
    let colours = screen.sliced(5..<8, alongAxis: 1)  // (G, 3)
    let blended = weights.matmul(colours) / (weights.sum(alongAxes: [1], keepingDimensions: true) + options.epsilon)
    return blended.transposed().reshaped([3, height, width])
}

/// The additive blend of one item's screen features (G, 8) and opacity (G) → (3, H, W), dense.
func referenceAdditive(_ screen: Tensor, opacity: Tensor, width: Int, height: Int) -> Tensor {
    let q = referenceConicDistances(screen, width: width, height: height)  // (P, G)
    let eligible = referenceTileEligibility(screen, width: width, height: height)
    let alpha = Tensor.minimum((q * -0.5).exp() * opacity.reshaped([1, -1]), Tensor(1))
    // Terms skipped by the rasterizer: outside the tile's bins, or α < 1/255.
    let G = screen.shape[0], P = width * height
    var keep = [Float](repeating: 0, count: P * G)
    for p in 0..<P {
        for g in 0..<G where eligible[p][g] && alpha[p, g] >= 1 / 255 && q[p, g] >= 0 { keep[p * G + g] = 1 }
    }
    let blended = (alpha * Tensor(shape: [P, G], scalars: keep)).matmul(screen.sliced(5..<8, alongAxis: 1))
    return blended.transposed().reshaped([3, height, width])
}
