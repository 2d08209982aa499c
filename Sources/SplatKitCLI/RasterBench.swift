import ArgumentParser
import Foundation
import GaussianRasterizer
import TensorCore

/// `splatkit bench raster`: median forward and forward+backward milliseconds of a rasterizer.
struct RasterBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raster", abstract: "Time rendering N random Gaussians at W×H (forward, forward+backward).")

    @OptionGroup var compute: ComputeOptions

    @Option(help: "Number of Gaussians.")
    var gaussians: Int = 512

    @Option(help: "Image width in pixels.")
    var width: Int = 256

    @Option(help: "Image height in pixels.")
    var height: Int = 256

    @Option(help: "Rasterizer: topk (Image-GS), additive (GaussianImage) or patch (inpainting; --gaussians is then per 16×16 patch, e.g. 576).")
    var rasterizer: RasterizerKind = .topk

    @Option(help: "Timed repetitions (after 3 warm-up runs).")
    var repeats: Int = 20

    @Option(help: "Random seed for the Gaussians.")
    var seed: UInt64 = 0

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func run() throws {
        try compute.apply()
        guard gaussians >= 1, width >= 1, height >= 1, repeats >= 1 else {
            throw ValidationError("--gaussians, --width, --height and --repeats must be positive")
        }
        print("splatkit \(SplatKit.version) raster benchmark: \(rasterizer.rawValue), \(gaussians) Gaussians, \(width)×\(height), \(ComputeThreads.count) threads")
        let parameters: Tensor, render: (Tensor) -> Tensor
        if rasterizer == .patch {
            guard width % 16 == 0, height % 16 == 0 else { throw ValidationError("the patch rasterizer needs sizes that are multiples of 16") }
            parameters = BenchmarkScene.patchGaussians(perPatch: gaussians, width: width, height: height, seed: seed)
            render = { rasterizePatches($0, width: width, height: height) }
        } else {
            parameters = BenchmarkScene.randomGaussians(count: gaussians, width: width, height: height, seed: seed)
            render = { rasterizer.render($0, width: width, height: height) }
        }
        var generator = RandomGenerator(seed: seed &+ 1)
        let upstream = Tensor.uniform([3, height, width], using: &generator)
        let shape = rasterizer == .patch ? "\(gaussians) Gaussians per 16x16 patch, pad 4, \(width)x\(height)"
            : "\(gaussians) Gaussians \(width)x\(height)"
        var cases: [BenchmarkResult] = []
        cases.append(runBenchmark("\(rasterizer.rawValue)_forward", shape: shape, repeats: repeats) {
            withoutGradients { _ = render(parameters) }
        })
        cases.append(runBenchmark("\(rasterizer.rawValue)_forward_backward", shape: shape, repeats: repeats,
                                  prepare: { parameters.zeroGrad() }) {
            render(parameters).backward(seed: upstream)
        })
        if let json {
            try writeReport(BenchmarkReport(implementation: "splatkit \(SplatKit.version)", threads: ComputeThreads.count, cases: cases), to: json)
        }
    }
}

/// Which rasterizer a command uses.
enum RasterizerKind: String, ExpressibleByArgument, CaseIterable {
    case topk, additive, patch

    /// Renders Image-GS parameters (G, 8) to (3, H, W) (the patch rasterizer takes per-patch
    /// screen Gaussians instead; see `rasterizePatches`).
    func render(_ parameters: Tensor, width: Int, height: Int) -> Tensor {
        switch self {
        case .topk: return renderImageGS(parameters, width: width, height: height)
        case .additive, .patch: return renderImageGSAdditive(parameters, width: width, height: height)
        }
    }
}

/// Random but reproducible Gaussian sets for benchmarks: uniform positions, σ of 1–6 pixels
/// scaled so N Gaussians roughly cover the image, any rotation, colours in [0, 1].
enum BenchmarkScene {
    static func randomGaussians(count: Int, width: Int, height: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let coverSigma = Float((Double(width * height) / Double(count)).squareRoot()) / 2
        var values: [Float] = []
        values.reserveCapacity(count * 8)
        for _ in 0..<count {
            let sigmaX = coverSigma * (0.5 + generator.nextUniform()), sigmaY = coverSigma * (0.5 + generator.nextUniform())
            values += [generator.nextUniform(), generator.nextUniform(), 1 / sigmaX, 1 / sigmaY, 6.2832 * generator.nextUniform(),
                       generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
        }
        return Tensor(shape: [count, 8], scalars: values, requiresGrad: true)
    }

    /// Screen Gaussians (patches, perPatch, 8) laid out as the inpainting network predicts them:
    /// for each 16×16 patch, one per pixel of its window grown by 4 pixels (cycling if perPatch
    /// exceeds the window), jittered by up to a pixel, σ 0.8–2 px, any rotation.
    static func patchGaussians(perPatch: Int, width: Int, height: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let (patch, pad) = (16, 4)
        let side = patch + 2 * pad, across = width / patch, patches = across * (height / patch)
        var values: [Float] = []
        values.reserveCapacity(patches * perPatch * 8)
        for k in 0..<patches {
            let left = (k % across) * patch - pad, top = (k / across) * patch - pad
            for j in 0..<perPatch {
                let (sigmaX, sigmaY) = (0.8 + 1.2 * generator.nextUniform(), 0.8 + 1.2 * generator.nextUniform())
                let theta = 6.2832 * generator.nextUniform()
                let (c, s) = (cos(theta), sin(theta))
                let (ix, iy) = (1 / (sigmaX * sigmaX), 1 / (sigmaY * sigmaY))
                values += [Float(left + (j % (side * side)) % side) + generator.nextUniform(),
                           Float(top + (j % (side * side)) / side) + generator.nextUniform(),
                           c * c * ix + s * s * iy, c * s * (ix - iy), s * s * ix + c * c * iy,
                           generator.nextUniform(), generator.nextUniform(), generator.nextUniform()]
            }
        }
        return Tensor(shape: [patches, perPatch, 8], scalars: values, requiresGrad: true)
    }
}
