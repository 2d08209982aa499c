// Resizing, cropping and mirroring of RGB images, for preparing fitting inputs and datasets.
//
// Resampling is separable with a triangle (bilinear) filter widened by the scale factor when
// shrinking, so downscaling averages every source pixel (antialiased, like PIL's BILINEAR);
// pixel centres map as (o + ½)·scale − ½.

extension RGBImage {
    /// The image resampled to width × height.
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(newWidth >= 1 && newHeight >= 1, "resized: target \(newWidth)×\(newHeight) is empty")
        if newWidth == width && newHeight == height { return self }
        // Rows first: (H, W, 3) → (H, W', 3), then columns: → (H', W', 3).
        let horizontal = RGBImage.resampleTaps(from: width, to: newWidth)
        var rows = [Float](repeating: 0, count: height * newWidth * 3)
        for y in 0..<height {
            for (x, taps) in horizontal.enumerated() {
                for (source, weight) in taps {
                    for c in 0..<3 { rows[(y * newWidth + x) * 3 + c] += weight * pixels[(y * width + source) * 3 + c] }
                }
            }
        }
        let vertical = RGBImage.resampleTaps(from: height, to: newHeight)
        var output = [Float](repeating: 0, count: newHeight * newWidth * 3)
        for (y, taps) in vertical.enumerated() {
            for (source, weight) in taps {
                for i in 0..<(newWidth * 3) { output[y * newWidth * 3 + i] += weight * rows[source * newWidth * 3 + i] }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }

    /// The `cropWidth` × `cropHeight` region whose top-left pixel is (left, top).
    public func cropped(left: Int, top: Int, width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        precondition(left >= 0 && top >= 0 && cropWidth >= 1 && cropHeight >= 1
                     && left + cropWidth <= width && top + cropHeight <= height,
                     "cropped: region \(cropWidth)×\(cropHeight) at (\(left), \(top)) outside \(width)×\(height)")
        var output = [Float]()
        output.reserveCapacity(cropWidth * cropHeight * 3)
        for y in top..<(top + cropHeight) {
            output += pixels[((y * width + left) * 3)..<((y * width + left + cropWidth) * 3)]
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: output)
    }

    /// The image mirrored left to right.
    public func flippedHorizontally() -> RGBImage {
        var mirrored = pixels
        for y in 0..<height {
            for x in 0..<width {
                let (from, to) = (3 * (y * width + x), 3 * (y * width + width - 1 - x))
                for c in 0..<3 { mirrored[to + c] = pixels[from + c] }
            }
        }
        return RGBImage(width: width, height: height, pixels: mirrored)
    }

    /// Shorter side scaled to `size`, then the centred size × size square (or, with
    /// `keepAspect`, the whole scaled image).
    public func preparedSquare(size: Int, keepAspect: Bool = false) -> RGBImage {
        let scale = Double(size) / Double(Swift.min(width, height))
        let scaledWidth = Swift.max(size, Int((Double(width) * scale).rounded()))
        let scaledHeight = Swift.max(size, Int((Double(height) * scale).rounded()))
        let scaled = resized(width: scaledWidth, height: scaledHeight)
        if keepAspect { return scaled }
        return scaled.cropped(left: (scaledWidth - size) / 2, top: (scaledHeight - size) / 2, width: size, height: size)
    }

    /// For each output index, the (source index, weight) taps of a triangle filter.
    static func resampleTaps(from sourceCount: Int, to targetCount: Int) -> [[(Int, Float)]] {
        let scale = Double(sourceCount) / Double(targetCount)
        let support = Swift.max(scale, 1)
        return (0..<targetCount).map { o in
            let centre = (Double(o) + 0.5) * scale - 0.5
            let first = Int((centre - support).rounded(.down)), last = Int((centre + support).rounded(.up))
            var taps: [(Int, Float)] = []
            var total = 0.0
            for s in first...last {
                let weight = Swift.max(0, 1 - Swift.abs(Double(s) - centre) / support)
                if weight <= 0 { continue }
                taps.append((Swift.min(Swift.max(s, 0), sourceCount - 1), Float(weight)))
                total += weight
            }
            return taps.map { ($0.0, $0.1 / Float(total)) }
        }
    }
}
