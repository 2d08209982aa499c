import GaussianRasterizer
import TensorCore

// Where to put Gaussians: image-gradient and error maps, and drawing pixels in proportion to them.

/// Luma of a (3, H, W) image (ITU-R BT.601 weights) as an (H·W) row-major array.
func luma(_ image: Tensor) -> [Float] {
    let P = image.shape[1] * image.shape[2]
    return (0..<P).map { 0.299 * image.scalars[$0] + 0.587 * image.scalars[P + $0] + 0.114 * image.scalars[2 * P + $0] }
}

/// Sobel derivatives (x across the width, y down the height) of a (3, H, W) image's luma, two
/// (H·W) row-major arrays. Borders replicate the edge pixels.
func sobelGradients(_ image: Tensor) -> (x: [Float], y: [Float]) {
    let (H, W) = (image.shape[1], image.shape[2])
    let y = luma(image)
    func at(_ row: Int, _ column: Int) -> Float { y[Swift.min(Swift.max(row, 0), H - 1) * W + Swift.min(Swift.max(column, 0), W - 1)] }
    var gradientX = [Float](repeating: 0, count: H * W), gradientY = gradientX
    for row in 0..<H {
        for column in 0..<W {
            gradientX[row * W + column] = (at(row - 1, column + 1) + 2 * at(row, column + 1) + at(row + 1, column + 1))
                - (at(row - 1, column - 1) + 2 * at(row, column - 1) + at(row + 1, column - 1))
            gradientY[row * W + column] = (at(row + 1, column - 1) + 2 * at(row + 1, column) + at(row + 1, column + 1))
                - (at(row - 1, column - 1) + 2 * at(row - 1, column) + at(row - 1, column + 1))
        }
    }
    return (gradientX, gradientY)
}

/// Sobel gradient magnitude of a (3, H, W) image's luma, normalised so its maximum is 1
/// (all zeros for a flat image). Borders replicate the edge pixels.
func normalizedSobelMagnitude(_ image: Tensor) -> [Float] {
    let gradients = sobelGradients(image)
    let magnitude = zip(gradients.x, gradients.y).map { ($0 * $0 + $1 * $1).squareRoot() }
    let peak = magnitude.max() ?? 0
    return peak > 0 ? magnitude.map { $0 / peak } : magnitude
}

/// Draws `count` pixel indices with probability proportional to `weights` (with replacement);
/// uniform when every weight is zero.
func samplePixels(count: Int, weights: [Float], using generator: inout RandomGenerator) -> [Int] {
    var cumulative = [Double](repeating: 0, count: weights.count)
    var running = 0.0
    for (i, w) in weights.enumerated() {
        running += Double(Swift.max(w, 0))
        cumulative[i] = running
    }
    guard running > 0 else { return (0..<count).map { _ in generator.nextInt(below: weights.count) } }
    return (0..<count).map { _ in
        let target = Double(generator.nextUniform()) * running
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
