import Foundation
import TensorCore

// The structure tensor of an image's luma, the local statistics of its gradient behind the
// structure-guided start (StructureGuidedStart.swift) and the geometry regulariser
// (GeometryRegularizer.swift). At integration scale ρ (pixels):
//   J = G_ρ ∗ [[Ix², Ix·Iy], [Ix·Iy, Iy²]]    (Sobel derivatives, Gaussian smoothing, edges replicated)
// with eigenvalues λ1 ≥ λ2 ≥ 0:
//   energy      λ1 + λ2 = Jxx + Jyy                 how much the luma varies near the pixel
//   coherence   ((λ1 − λ2) / (λ1 + λ2))² ∈ [0, 1]   1 on a straight edge, 0 on a corner or in noise
//   edge angle  ½·atan2(2Jxy, Jxx − Jyy) + π/2       the direction along the edge (across the
//                                                     dominant gradient), in radians, x right, y down

/// The structure tensor of a (3, H, W) image at one integration scale, per pixel.
public struct StructureTensorField {
    public let width: Int, height: Int
    /// Jxx, Jxy, Jyy, each (H·W) row-major.
    public let xx: [Float], xy: [Float], yy: [Float]

    public init(image: Tensor, integrationSigma: Float) {
        precondition(image.rank == 3 && image.shape[0] == 3, "StructureTensorField: image \(image.shape) must be (3, H, W)")
        precondition(integrationSigma > 0, "StructureTensorField: integration σ must be positive")
        (height, width) = (image.shape[1], image.shape[2])
        let gradient = sobelGradients(image)
        let products = [zip(gradient.x, gradient.x).map(*), zip(gradient.x, gradient.y).map(*), zip(gradient.y, gradient.y).map(*)]
        let smoothed = gaussianSmoothed(products, width: width, height: height, sigma: integrationSigma)
        (xx, xy, yy) = (smoothed[0], smoothed[1], smoothed[2])
    }

    public func energy(_ p: Int) -> Float { xx[p] + yy[p] }

    public func coherence(_ p: Int) -> Float {
        let trace = xx[p] + yy[p]
        guard trace > 1e-12 else { return 0 }
        let difference = ((xx[p] - yy[p]) * (xx[p] - yy[p]) + 4 * xy[p] * xy[p]).squareRoot()  // λ1 − λ2
        return Swift.min(1, (difference / trace) * (difference / trace))
    }

    /// The direction along the edge at pixel p (perpendicular to the dominant gradient), radians.
    public func edgeAngle(_ p: Int) -> Float {
        0.5 * atan2(2 * xy[p], xx[p] - yy[p]) + Float.pi / 2
    }
}

/// Planes (each H·W, row-major) smoothed by a Gaussian of standard deviation `sigma` (taps to
/// 3σ), the edges replicated so the output keeps the size.
func gaussianSmoothed(_ planes: [[Float]], width: Int, height: Int, sigma: Float) -> [[Float]] {
    let radius = Swift.max(1, Int((3 * sigma).rounded(.up)))
    var taps = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
    let total = taps.reduce(0, +)
    taps = taps.map { $0 / total }
    let (paddedH, paddedW) = (height + 2 * radius, width + 2 * radius)
    var padded = [Float](repeating: 0, count: planes.count * paddedH * paddedW)
    for (c, plane) in planes.enumerated() {
        for i in 0..<paddedH {
            let row = Swift.min(Swift.max(i - radius, 0), height - 1)
            for j in 0..<paddedW {
                padded[(c * paddedH + i) * paddedW + j] = plane[row * width + Swift.min(Swift.max(j - radius, 0), width - 1)]
            }
        }
    }
    let filtered = withoutGradients {
        Tensor(shape: [1, planes.count, paddedH, paddedW], scalars: padded).separableFiltered(horizontal: taps, vertical: taps)
    }
    return (0..<planes.count).map { Array(filtered.scalars[($0 * height * width)..<(($0 + 1) * height * width)]) }
}
