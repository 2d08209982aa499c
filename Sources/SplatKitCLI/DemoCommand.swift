import ArgumentParser
import Foundation
import GaussianCodec
import GaussianFitting
import GaussianRasterizer
import GaussianVAE
import LatentCoding
import NeuralNetwork
import SplatIO
import TensorCore

/// `splatkit demo`: the main job end to end on an embedded default (no downloads, no files
/// outside the output folder): draw a seeded test picture, fit Gaussians to it, render them at
/// the source size and at twice the size and check them; compress it with the per-image codec and
/// with the shipped learned codec; then build a small procedural dataset,
/// train the demo VAE (configs/demo.yaml) on it, evaluate it on the test split and check its
/// renders, and write the HTML reports of the dataset and of the training run; last, fill holes
/// in the test picture with the shipped inpainting model and write its report. The later stages run the CLI's own commands.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the end-to-end demo on a built-in picture (writes into --output).")

    @Option(help: "Folder for the demo's files (created if needed).")
    var output: String = "runs/demo"

    @Option(help: "Side of the square test picture in pixels.")
    var size: Int = 128

    @Option(help: "Number of Gaussians to fit.")
    var gaussians: Int = 256

    @Option(help: "Maximum fitting steps.")
    var steps: Int = 2000

    @Option(help: "Random seed for the picture and the fit.")
    var seed: UInt64 = 1

    @Option(help: "Procedural images in the demo dataset (0 skips the dataset, VAE and report stages).")
    var datasetImages: Int = 480

    @Option(help: "The VAE config trained on the demo dataset.")
    var vaeConfig: String = "configs/demo.yaml"

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard size >= 32 else { throw ValidationError("--size must be at least 32") }
        guard gaussians >= 8, steps >= 1 else { throw ValidationError("--gaussians must be ≥ 8 and --steps ≥ 1") }
    }

    func run() throws {
        try compute.apply()
        try createOutputFolder(output)
        let started = monotonicSeconds()
        func path(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }

        print("1/12 drawing a \(size)×\(size) test picture (seed \(seed))")
        let picture = DemoPicture.draw(size: size, seed: seed)
        try picture.writePNG(to: path("picture.png"))

        print("2/12 fitting \(gaussians) Gaussians (Image-GS recipe, ≤ \(steps) steps, \(ComputeThreads.count) threads)")
        var options = FitOptions()
        options.gaussians = gaussians
        options.steps = steps
        options.seed = seed
        options.growthInterval = Swift.max(1, steps / 10)
        options.plateauPatience = Swift.max(1, steps / 5)
        options.minimumStepsWhenGrowing = steps / 2
        let result = GaussianFitter(image: picture.tensor(), options: options).run(progressInterval: Swift.max(1, steps / 8)) { p in
            print(String(format: "    step %5d/%d  PSNR %6.2f dB  SSIM %.4f  Gaussians %4d  %6.1f steps/s  ETA %@",
                         p.step, p.totalSteps, p.psnr, p.ssim, p.gaussians, p.stepsPerSecond, formatDuration(p.estimatedSecondsLeft) as NSString))
        }
        let set = GaussianSet(gaussians: result.gaussians, width: size, height: size, psnr: Double(result.psnr),
                              ssim: Double(result.ssim), recipe: .fit(.imagegs), steps: result.steps)
        try set.write(to: path("gaussians.h5"))

        print("3/12 rendering at \(size)×\(size) and \(2 * size)×\(2 * size)")
        let reloaded = try GaussianSet(contentsOf: path("gaussians.h5"))
        let renderer = SetRenderer(recipe: reloaded.recipe)
        let render = renderer.render(reloaded.gaussians, fittedWidth: reloaded.width, fittedHeight: reloaded.height, width: size, height: size)
        try RGBImage(tensor: render).writePNG(to: path("render.png"))
        let large = renderer.render(reloaded.gaussians, fittedWidth: reloaded.width, fittedHeight: reloaded.height,
                                    width: 2 * size, height: 2 * size)
        try RGBImage(tensor: large).writePNG(to: path("render_2x.png"))

        print("4/12 checking")
        let target = picture.tensor()
        let display = render.clamped(min: 0, max: 1)
        let quality = (psnr: psnr(display, target), ssim: withoutGradients { ssim(display.unsqueezed(0), target.unsqueezed(0)).item })
        let compression = Double(size * size * 3) / Double(reloaded.gaussians.count)
        let summary = """
            SplatKit demo (seed \(seed))
            picture          \(size)×\(size) RGB (\(size * size * 3) values)
            Gaussians        \(reloaded.gaussians.shape[0]) × 8 parameters (\(reloaded.gaussians.count) values, \(String(format: "%.1f", compression))× fewer)
            fit              \(result.steps) steps in \(String(format: "%.1f", result.seconds)) s
            render quality   PSNR \(String(format: "%.2f", quality.psnr)) dB, SSIM \(String(format: "%.4f", quality.ssim))
            files            picture.png, gaussians.h5, render.png, render_2x.png
            total time       \(String(format: "%.1f", monotonicSeconds() - started)) s

            """
        print(summary, terminator: "")
        try writeAtomically(to: path("summary.txt")) { try summary.write(toFile: $0, atomically: false, encoding: .utf8) }
        guard quality.psnr > 20 else {
            throw ValidationError("demo check failed: render PSNR \(quality.psnr) dB is below 20 dB")
        }
        try compressPicture(target, in: path)
        try compressWithLearnedCodec(picture, in: path)
        if datasetImages > 0 { try runPipeline(in: path) }
        try runInpainting(in: path)
        print("demo OK → \(output)/ (total \(String(format: "%.1f", monotonicSeconds() - started)) s)")
    }

    /// Stage 5: the test picture through the codec at 1 bit per pixel (fast effort), decoded
    /// back from the file and checked against the picture.
    private func compressPicture(_ picture: Tensor, in path: (String) -> String) throws {
        print("5/12 compressing the test picture at ≤ 1 bpp (splatkit compress --bpp 1 --effort fast)")
        var options = CodecOptions()
        options.bitsPerPixel = 1
        options.effort = .fast
        options.seed = seed
        let result = compressImage(picture, options: options)
        try result.compressed.write(to: path("picture.sgi"))
        let decoded = try CompressedGaussianImage(contentsOf: path("picture.sgi")).render()
        try RGBImage(tensor: decoded).writePNG(to: path("picture_decoded.png"))
        let quality = psnr(decoded, picture)
        print(String(format: "    picture.sgi: %d bytes, %.3f bpp, %d Gaussians, PSNR %.2f dB (picture_decoded.png), %.1f s",
                     result.bytes.count, result.bitsPerPixel, result.compressed.symbols.count, quality, result.seconds))
        guard result.bytes.count <= size * size / 8, quality > 20 else {
            throw ValidationError("demo check failed: the codec wrote \(result.bytes.count) bytes (budget \(size * size / 8)) at PSNR \(quality) dB (needs > 20)")
        }
    }

    /// Stage 6: the test picture through the shipped learned codec (models/vae_codec.h5): squeezed
    /// to the model's 96 × 96, fitted with its fixed layout, its latent refined and range-coded,
    /// then decoded from the file and drawn back at the picture's size.
    private func compressWithLearnedCodec(_ picture: RGBImage, in path: (String) -> String) throws {
        print("6/12 coding the test picture with the shipped learned codec (splatkit compress --model \(VAESetCodec.shippedModelPath))")
        let start = monotonicSeconds()
        let codec = try VAESetCodec(checkpoint: try locateShippedFile(VAESetCodec.shippedModelPath, instead: "pass --model to compress"))
        let (code, _) = try codec.compress(image: picture, fitSteps: FitOptions().steps, seed: seed, source: path("picture.png"),
                                           refinement: LatentRefinement())
        try code.write(to: path("picture-learned.sgi"))
        let decoded = try codec.decompress(try LatentCodeFile(contentsOf: path("picture-learned.sgi")), source: path("picture-learned.sgi"))
            .render(width: picture.width, height: picture.height)
        try RGBImage(tensor: decoded).writePNG(to: path("picture-learned_decoded.png"))
        let side = codec.modelImageSize ?? picture.width
        print(String(format: "    picture-learned.sgi: %d bytes (%.3f bits per pixel of the model's %d×%d), PSNR %.2f dB at %d×%d "
                     + "(picture-learned_decoded.png), %.1f s", code.bytes.count, Double(code.bytes.count * 8) / Double(side * side),
                     side, side, psnr(decoded, picture.tensor()), picture.width, picture.height, monotonicSeconds() - start))
    }

    /// Stages 7–12: dataset → VAE training → evaluation → dataset and run reports → inpainting,
    /// through the CLI's own commands.
    private func runPipeline(in path: (String) -> String) throws {
        let threads = ["--threads", String(ComputeThreads.count)]
        print("7/12 building a dataset of \(datasetImages) procedural images (64 px, 512 Gaussians each on a fixed layout)")
        let build = try DatasetBuildCommand.parse(["--procedural", String(datasetImages), "--size", "64", "--gaussians", "512",
                                                    "--recipe", FitRecipe.imagegsGridLayoutRidge.rawValue,
                                                    "--splits", "0.75,0.125,0.125", "--seed", String(seed),
                                                    "--output", path("dataset.h5")])
        try build.run()
        print("8/12 training the demo VAE (\(vaeConfig))")
        try? FileManager.default.removeItem(atPath: path("vae"))  // the demo owns this folder: train anew
        let train = try TrainCommand.parse(["--config", vaeConfig, "--data", path("dataset.h5"), "--output", path("vae"),
                                            "--seed", String(seed)] + threads)
        try train.run()
        print("9/12 evaluating on the test split")
        let evaluate = try EvaluateCommand.parse(["--model", path("vae/best.h5"), "--data", path("dataset.h5"), "--split", "test",
                                                  "--json", path("evaluation.json")] + threads)
        try checkVAEQuality(try evaluate.evaluate())
        print("10/12 writing the dataset report")
        let report = try ReportDatasetCommand.parse([path("dataset.h5"), "--output", path("report"), "--samples", "3"] + threads)
        try report.run()
        print("11/12 writing the training run's report")
        let runReport = try ReportRunCommand.parse([path("vae"), "--output", path("report-run"), "--data", path("dataset.h5"),
                                                    "--samples", "4"] + threads)
        try runReport.run()
    }
}

extension DemoCommand {
    /// The demo VAE's renders on the test split must resemble the fitted sets' renders: a model
    /// that learnt nothing fails the demo (the train split's mean set renders the test sets at 13.9 dB;
    /// the demo VAE at 19.3 dB, a rank-64 PCA of the sets at 19.7 dB).
    fileprivate func checkVAEQuality(_ evaluation: VAEEvaluation) throws {
        guard let psnr = evaluation.vaeVersusFitted.meanPSNR, psnr.isFinite else {
            throw ValidationError("demo check failed: the evaluation has no VAE-vs-fitted PSNR")
        }
        guard psnr > Self.minimumVAEPSNR else {
            throw ValidationError(String(format: "demo check failed: VAE renders are %.2f dB from the fitted sets' renders, below %.0f dB",
                                         psnr, Self.minimumVAEPSNR))
        }
    }

    static let minimumVAEPSNR = 15.0

    /// Stage 12: the shipped inpainting model fills small, large and box holes in the test
    /// picture, and `report inpaint` shows the result.
    fileprivate func runInpainting(in path: (String) -> String) throws {
        let threads = ["--threads", String(ComputeThreads.count)]
        print("12/12 inpainting the test picture with the shipped model (models/inpaint_cpu.h5)")
        let pictures = path("inpaint/images")
        try createOutputFolder(pictures)
        let copy = (pictures as NSString).appendingPathComponent("picture.png")
        try? FileManager.default.removeItem(atPath: copy)  // the demo owns this folder
        try FileManager.default.copyItem(atPath: path("picture.png"), toPath: copy)
        let report = try ReportInpaintCommand.parse(["--images", pictures, "--size", String(size), "--kind", "small", "large", "box",
                                                     "--output", path("report-inpaint")] + threads)
        try report.run()
    }
}

/// A seeded test picture with smooth gradients, hard edges and thin detail: a sky-like vertical
/// gradient, overlapping discs and rectangles in random colours, and a few diagonal stripes.
enum DemoPicture {
    static func draw(size: Int, seed: UInt64) -> RGBImage {
        var generator = RandomGenerator(seed: seed)
        var image = RGBImage(width: size, height: size)
        let top = (generator.nextUniform(), generator.nextUniform(), generator.nextUniform())
        let bottom = (generator.nextUniform(), generator.nextUniform(), generator.nextUniform())
        for y in 0..<size {
            let t = Float(y) / Float(size - 1)
            for x in 0..<size {
                let i = (y * size + x) * 3
                image.pixels[i] = top.0 + (bottom.0 - top.0) * t
                image.pixels[i + 1] = top.1 + (bottom.1 - top.1) * t
                image.pixels[i + 2] = top.2 + (bottom.2 - top.2) * t
            }
        }
        func paint(_ inside: (Float, Float) -> Bool) {
            let colour = (generator.nextUniform(), generator.nextUniform(), generator.nextUniform())
            for y in 0..<size {
                for x in 0..<size where inside(Float(x) + 0.5, Float(y) + 0.5) {
                    let i = (y * size + x) * 3
                    (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) = colour
                }
            }
        }
        let s = Float(size)
        for _ in 0..<6 {
            let (cx, cy, r) = (generator.nextUniform() * s, generator.nextUniform() * s, (0.05 + 0.15 * generator.nextUniform()) * s)
            paint { x, y in (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r }
        }
        for _ in 0..<4 {
            let (x0, y0) = (generator.nextUniform() * s, generator.nextUniform() * s)
            let (w, h) = ((0.1 + 0.3 * generator.nextUniform()) * s, (0.05 + 0.2 * generator.nextUniform()) * s)
            paint { x, y in x >= x0 && x < x0 + w && y >= y0 && y < y0 + h }
        }
        let period = Swift.max(4, Float(size) / 16)
        paint { x, y in x + y > 1.2 * s && Int((x - y + 4 * s) / period) % 2 == 0 && x + y < 1.45 * s }
        return image
    }
}
