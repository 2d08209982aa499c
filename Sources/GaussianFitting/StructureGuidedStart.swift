import Foundation
import TensorCore

// The structure-guided start ("Structure-Guided Allocation of 2D Gaussians", Liang et al. 2025,
// adapted): where Gaussians start and what shape they start with follow the image's structure.
//   prior(p)   the mean over integration scales ρ ∈ {1, 2, 4} px of √(energy_ρ(p)), normalised to
//              sum 1 (gradient energy at several scales: fine texture and broad edges both draw
//              Gaussians); the draw mixes it with a uniform share (FitOptions.uniformFraction)
//   shape      a Gaussian drawn where the mixed density is q(p) (per pixel, Σ q = 1) sits among
//              N·q(p) Gaussians per pixel, spacing d = 1/√(N·q(p)); σ = 0.5·d (clamped to
//              [0.5 px, a quarter of the shorter side]), elongated along the edge at ρ = 2 by
//              the coherence c: σ_along = σ·√(1 + 2c), σ_across = σ/√(1 + 2c), θ = the edge angle.

/// Where and with what shape a structure-guided fit starts its Gaussians.
struct StructureGuidedStart {
    let width: Int, height: Int
    /// The sampling density per pixel (Σ = 1), uniform share included.
    let density: [Float]
    private let orientation: StructureTensorField

    init(image: Tensor, uniformFraction: Float) {
        (height, width) = (image.shape[1], image.shape[2])
        let pixels = width * height
        var prior = [Float](repeating: 0, count: pixels)
        for sigma: Float in [1, 2, 4] {
            let field = StructureTensorField(image: image, integrationSigma: sigma)
            for p in 0..<pixels { prior[p] += Swift.max(field.energy(p), 0).squareRoot() }
        }
        let total = prior.reduce(0, +)
        let uniform = Swift.min(Swift.max(uniformFraction, 0), 1)
        density = prior.map { total > 0 ? (1 - uniform) * $0 / total + uniform / Float(pixels) : 1 / Float(pixels) }
        orientation = StructureTensorField(image: image, integrationSigma: 2)
    }

    /// `count` pixels drawn from the density.
    func samplePixels(count: Int, using generator: inout RandomGenerator) -> [Int] {
        GaussianFitting.samplePixels(count: count, weights: density, using: &generator)
    }

    /// The starting (inverse σ along, inverse σ across, θ) of one of `total` Gaussians at pixel p.
    func shape(at p: Int, total: Int) -> (scaleX: Float, scaleY: Float, rotation: Float) {
        let spacing = 1 / (Float(total) * density[p]).squareRoot()
        let sigma = Swift.min(Swift.max(0.5 * spacing, 0.5), Float(Swift.min(width, height)) / 4)
        let stretch = (1 + 2 * orientation.coherence(p)).squareRoot()
        return (1 / (sigma * stretch), stretch / sigma, orientation.edgeAngle(p))
    }
}
