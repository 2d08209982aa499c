// A classical hole fill to compare inpainting networks against: push-pull (pyramid) diffusion.
//
// Push: halve the image repeatedly; each coarse pixel is the mean of its (up to 4) fine pixels
// that are known, and known itself when any of them is. The coarsest level (1 × 1, or the first
// with no hole) fills any remaining hole with the value of that pixel if known, else 0.5 grey (an image with no known pixel).
// Pull: from coarse to fine, each hole pixel takes its coarse parent's value, then `smoothing`
// Jacobi sweeps replace every hole pixel by the mean of its 4-neighbours (known pixels fixed),
// which removes the blockiness of the parents. The result is a smooth membrane over the holes
// matching the known pixels at their borders; known pixels are returned unchanged.

/// Fills the holes of a planar image (3·H·W, channel-major) by push-pull diffusion.
///
/// - Parameters:
///   - pixels: (3, H, W) values, row-major planes.
///   - mask: (H·W), 1 (≥ ½) = hole.
///   - smoothing: Jacobi sweeps per level.
/// - Returns: (3, H, W): known pixels as given, holes filled.
public func pushPullFill(_ pixels: [Float], mask: [Float], width: Int, height: Int, smoothing: Int = 8) -> [Float] {
    precondition(pixels.count == 3 * width * height && mask.count == width * height,
                 "pushPullFill: \(pixels.count) values and \(mask.count) mask values for 3 × \(width) × \(height)")
    let known = mask.map { $0 < 0.5 }
    var result = pixels
    for channel in 0..<3 {
        let plane = Array(pixels[(channel * width * height)..<((channel + 1) * width * height)])
        let filled = fillLevel(plane, known: known, width: width, height: height, smoothing: smoothing)
        result.replaceSubrange((channel * width * height)..<((channel + 1) * width * height), with: filled)
    }
    return result
}

/// One channel at one pyramid level: holes filled from the next coarser level, then smoothed.
private func fillLevel(_ plane: [Float], known: [Bool], width: Int, height: Int, smoothing: Int) -> [Float] {
    let holes = known.indices.filter { !known[$0] }
    if holes.isEmpty { return plane }
    var result = plane
    if width == 1 && height == 1 {
        let values = known.indices.filter { known[$0] }.map { plane[$0] }
        let mean = values.isEmpty ? 0.5 : values.reduce(0, +) / Float(values.count)
        for index in holes { result[index] = mean }
        return result
    }
    // Push: the half-size level, averaging known pixels.
    let (coarseWidth, coarseHeight) = ((width + 1) / 2, (height + 1) / 2)
    var coarse = [Float](repeating: 0, count: coarseWidth * coarseHeight)
    var coarseKnown = [Bool](repeating: false, count: coarseWidth * coarseHeight)
    for cy in 0..<coarseHeight {
        for cx in 0..<coarseWidth {
            var (sum, count) = (Float(0), 0)
            for y in (2 * cy)..<min(2 * cy + 2, height) {
                for x in (2 * cx)..<min(2 * cx + 2, width) where known[y * width + x] {
                    sum += plane[y * width + x]
                    count += 1
                }
            }
            if count > 0 { (coarse[cy * coarseWidth + cx], coarseKnown[cy * coarseWidth + cx]) = (sum / Float(count), true) }
        }
    }
    let filledCoarse = fillLevel(coarse, known: coarseKnown, width: coarseWidth, height: coarseHeight, smoothing: smoothing)
    // Pull: parents, then Jacobi sweeps over the holes.
    for index in holes { result[index] = filledCoarse[(index / width / 2) * coarseWidth + (index % width) / 2] }
    for _ in 0..<smoothing {
        let previous = result
        for index in holes {
            let (x, y) = (index % width, index / width)
            var (sum, count) = (Float(0), Float(0))
            if x > 0 { sum += previous[index - 1]; count += 1 }
            if x + 1 < width { sum += previous[index + 1]; count += 1 }
            if y > 0 { sum += previous[index - width]; count += 1 }
            if y + 1 < height { sum += previous[index + width]; count += 1 }
            result[index] = sum / count
        }
    }
    return result
}
