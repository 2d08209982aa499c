import Foundation
import GaussianRasterizer
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest
@testable import Inpainting

// The inpainting network on tiny inputs: shapes, the Gaussian head's gradients (finite
// differences, and the fused covariance op against its composition), exact preservation of
// known pixels, a loss that falls under AdamW; masks: ratios per class, determinism, files.

/// A tiny model: c = 4, one block, 2 groups, D = 3, P = 16, pad 2, a 3-value dictionary (28 entries).
private func tinyConfig(source: SemanticSource = .learned) -> InpaintingModelConfig {
    var config = InpaintingModelConfig()
    config.baseChannels = 4
    config.residualBlocks = 1
    config.groupNormGroups = 2
    config.featureChannels = 3
    config.patchSize = 16
    config.patchPadding = 2
    config.patchEmbeddingChannels = 8
    config.mlpHidden = 8
    config.choleskyValues = 3
    config.semanticSource = source
    config.semanticFeatures = 8
    config.globalChannels = 4
    return config
}

/// A smooth test picture (B, 3, H, W) in [0, 1].
private func smoothImage(batch: Int, height: Int, width: Int) -> Tensor {
    var values: [Float] = []
    for item in 0..<batch {
        for channel in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    let u = Float(x) / Float(width), v = Float(y) / Float(height)
                    values.append(0.5 + 0.4 * Foundation.sin(3 * u + 2 * v + Float(channel) + Float(item)))
                }
            }
        }
    }
    return Tensor(shape: [batch, 3, height, width], scalars: values)
}

/// A mask (B, 1, H, W) with a centred square hole of side `hole`.
private func squareHole(batch: Int, height: Int, width: Int, hole: Int) -> Tensor {
    var values = [Float](repeating: 0, count: batch * height * width)
    let (top, left) = ((height - hole) / 2, (width - hole) / 2)
    for item in 0..<batch {
        for y in top..<(top + hole) {
            for x in left..<(left + hole) { values[(item * height + y) * width + x] = 1 }
        }
    }
    return Tensor(shape: [batch, 1, height, width], scalars: values)
}

final class InpaintingTests: XCTestCase {
    // MARK: Configuration

    func testShippedConfigsDecode() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        let cpu = try InpaintingConfig.load(from: configs.appendingPathComponent("inpaint_unet.yaml").path)
        var defaults = InpaintingConfig()
        defaults.model.holeFill = .pushPull  // the one key the CPU config sets away from its default
        XCTAssertEqual(cpu, defaults)
        let paper = try InpaintingConfig.load(from: configs.appendingPathComponent("inpaint_unet_paper.yaml").path)
        XCTAssertEqual(paper.model, InpaintingModelConfig.paper)
        XCTAssertEqual(paper.training, InpaintingTrainingConfig.paper)
        XCTAssertEqual(paper.model.dictionary.count, 730)

        XCTAssertThrowsError(try InpaintingConfig.decode(yaml: "model:\n  group_norm_groups: 3\n", sourceName: "x.yaml")) {
            let reason = ($0 as? FileError)?.reason ?? ""
            XCTAssertTrue(reason.contains("model.group_norm_groups") && reason.contains("divide"), reason)
        }
        XCTAssertThrowsError(try InpaintingConfig.decode(yaml: "training:\n  learning_rat: 1\n", sourceName: "x.yaml"))
    }

    func testDictionary() {
        let dictionary = CholeskyDictionary(valuesPerElement: 9)
        XCTAssertEqual(dictionary.count, 730)
        XCTAssertEqual(dictionary.scales.first!, 0.5, accuracy: 1e-6)
        XCTAssertEqual(dictionary.scales.last!, 4, accuracy: 1e-5)
        XCTAssertEqual(dictionary.shears, [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2])
        XCTAssertEqual(Array(dictionary.covariances.suffix(3)), [0, 0, 0])
        // Entry (l11, l21, l22) = (scales[1], shears[8], scales[2]) is row (1·9 + 8)·9 + 2.
        let k = (1 * 9 + 8) * 9 + 2
        let (l11, l21, l22) = (dictionary.scales[1], dictionary.shears[8], dictionary.scales[2])
        XCTAssertEqual(Array(dictionary.factors[(3 * k)..<(3 * k + 3)]), [l11, l21, l22])
        XCTAssertEqual(Array(dictionary.covariances[(3 * k)..<(3 * k + 3)]), [l11 * l11, l11 * l21, l21 * l21 + l22 * l22])
    }

    // MARK: Network

    func testShapesThroughTheNetwork() {
        let config = tinyConfig()
        let store = ParameterStore(seed: 1)
        let model = InpaintingModel(config: config, store: store)
        XCTAssertEqual(model.stride, 16)
        XCTAssertTrue(store.parameters.allSatisfy { $0.name.hasPrefix("unet.") || $0.name.hasPrefix("global.") || $0.name.hasPrefix("head.") })
        XCTAssertNotNil(store.parameter(named: "unet.blocks.0.modulation.weight"))
        XCTAssertNotNil(store.parameter(named: "head.covariance.output.weight"))

        // 32 × 48: 2 × 3 patches of 16, G = (16 + 4)² = 400 Gaussians each.
        let image = smoothImage(batch: 2, height: 32, width: 48)
        let mask = squareHole(batch: 2, height: 32, width: 48, hole: 12)
        let G = 400
        let featureMap = model.unet(Tensor.concatenated([image * (1 - mask), mask], alongAxis: 1),
                                    semantics: Tensor.zeros([2, 8]), training: false)
        XCTAssertEqual(featureMap.shape, [2, 3, 32, 48])
        let prediction = model.predict(image, mask: mask)
        XCTAssertEqual(prediction.image.shape, [2, 3, 32, 48])
        XCTAssertEqual(prediction.render.shape, [2, 3, 32, 48])
        XCTAssertEqual(prediction.gaussians.shape, [2, 6, G, 8])
        XCTAssertTrue(prediction.gaussians.scalars.allSatisfy { $0.isFinite })
        // Grid points and offsets: every mean within offset_range of its window's pixel centre.
        let grid = GaussianHead.gridCentres(width: 48, height: 32, options: config.patchOptions)
        for j in stride(from: 0, to: 6 * G, by: 37) {
            XCTAssertLessThanOrEqual(Swift.abs(prediction.gaussians.scalars[8 * j] - grid.scalars[2 * j]), 1)
            XCTAssertLessThanOrEqual(Swift.abs(prediction.gaussians.scalars[8 * j + 1] - grid.scalars[2 * j + 1]), 1)
        }
        XCTAssertEqual(grid[0, 0], -1.5)  // patch 0's window starts pad = 2 pixels left of the image
        XCTAssertEqual(grid[G + 21, 0], 15.5)  // patch 1 (x from 16), window pixel (1, 1): 16 − 2 + 1 + ½
        XCTAssertEqual(grid[G + 21, 1], -0.5)  // y = 0 − 2 + 1 + ½

        // Any size: 20 × 36 is padded to 32 × 48 and cropped back.
        let odd = model.predict(smoothImage(batch: 1, height: 20, width: 36), mask: squareHole(batch: 1, height: 20, width: 36, hole: 6))
        XCTAssertEqual(odd.image.shape, [1, 3, 20, 36])
        XCTAssertEqual(odd.gaussians.shape, [1, 6, G, 8])

        // Precomputed features instead of the learned encoder.
        let precomputedStore = ParameterStore(seed: 2)
        let precomputed = InpaintingModel(config: tinyConfig(source: .precomputed), store: precomputedStore)
        XCTAssertNil(precomputedStore.parameters.first { $0.name.hasPrefix("global.") })
        var generator = RandomGenerator(seed: 3)
        let features = Tensor.normal([1, 8], using: &generator)
        XCTAssertEqual(precomputed.predict(smoothImage(batch: 1, height: 16, width: 16),
                                           mask: squareHole(batch: 1, height: 16, width: 16, hole: 4),
                                           features: features).image.shape, [1, 3, 16, 16])
    }

    func testKnownPixelsArePreservedExactly() {
        for (fill, residual) in [(HoleFill.zero, false), (.pushPull, false), (.pushPull, true)] {
            var config = tinyConfig()
            config.holeFill = fill
            config.residualOverFill = residual
            assertKnownPixelsPreserved(InpaintingModel(config: config, store: ParameterStore(seed: 4)))
        }
    }

    /// With residual_over_fill an untrained model returns the push-pull fill plus a correction of
    /// about 1 % (its colour decoder's output weights start at 1 % of their draw), and the loss's
    /// gradient reaches every part of the network, the U-Net and the Gaussians' shapes included
    /// (with an output starting at exactly zero they had none, and training stayed at the fill).
    func testResidualOverFillStartsNearTheFillAndLearns() {
        var config = tinyConfig()
        config.holeFill = .pushPull
        config.residualOverFill = true
        let store = ParameterStore(seed: 6)
        let model = InpaintingModel(config: config, store: store)
        // 24 × 40 is padded to 32 × 48: the fill is the padded input's, cropped back.
        for (height, width) in [(32, 32), (24, 40)] {
            let image = smoothImage(batch: 1, height: height, width: width)
            let mask = HoleMask.tensor([MaskGenerator(width: width, height: height, seed: 2).mask(index: 0, kind: .large)],
                                       width: width, height: height)
            let s = model.stride
            let (paddedH, paddedW) = ((height + s - 1) / s * s, (width + s - 1) / s * s)
            let filled = model.holeFilled(reflectionPaddedBottomRight(image, height: paddedH, width: paddedW),
                                          hole: reflectionPaddedBottomRight(mask, height: paddedH, width: paddedW))
                .sliced(0..<height, alongAxis: 2).sliced(0..<width, alongAxis: 3)
            let predicted = model.predict(image, mask: mask).image.scalars
            let largest = zip(predicted, filled.scalars).map { abs($0 - $1) }.max()!
            XCTAssertGreaterThan(largest, 0, "\(height)×\(width): a correction, not exactly the fill")
            XCTAssertLessThan(largest, 0.05, "\(height)×\(width): but a small one")
        }
        let image = smoothImage(batch: 1, height: 32, width: 32)
        let mask = squareHole(batch: 1, height: 32, width: 32, hole: 10)
        let loss = (model.predict(image, mask: mask, training: true).image - image).squared().mean()
        loss.backward()
        for name in ["head.colour.output.weight", "head.covariance.output.weight", "head.offset.output.weight",
                     "head.expand.weight", "unet.down.0.conv.weight"] {
            guard let parameter = store.parameter(named: name) else { XCTFail("no parameter \(name)"); continue }
            XCTAssertGreaterThan(parameter.grad?.scalars.map(abs).max() ?? 0, 0, "\(name) takes a gradient")
        }
    }

    /// With hole_fill: push_pull the network's input holds the push-pull fill in the holes and
    /// the image elsewhere; with zero, zeros in the holes.
    func testHoleFillOfTheNetworkInput() {
        let image = smoothImage(batch: 2, height: 16, width: 16)
        let mask = squareHole(batch: 2, height: 16, width: 16, hole: 6)
        var config = tinyConfig()
        config.holeFill = .pushPull
        let filled = InpaintingModel(config: config, store: ParameterStore(seed: 1)).holeFilled(image, hole: mask)
        for item in 0..<2 {
            let expected = pushPullFill(Array(image.scalars[(item * 768)..<((item + 1) * 768)]),
                                        mask: Array(mask.scalars[(item * 256)..<((item + 1) * 256)]), width: 16, height: 16)
            XCTAssertEqual(Array(filled.scalars[(item * 768)..<((item + 1) * 768)]), expected)
        }
        let zeroed = InpaintingModel(config: tinyConfig(), store: ParameterStore(seed: 1)).holeFilled(image, hole: mask)
        XCTAssertEqual(zeroed.scalars, (image * (1 - mask)).scalars)
    }

    private func assertKnownPixelsPreserved(_ model: InpaintingModel, file: StaticString = #filePath, line: UInt = #line) {
        let (height, width) = (32, 32)
        let image = smoothImage(batch: 1, height: height, width: width)
        let mask = HoleMask.tensor([MaskGenerator(width: width, height: height, seed: 5).mask(index: 0, kind: .large)],
                                   width: width, height: height)
        // Garbage under the holes must not matter.
        var corrupted = image.scalars
        for p in 0..<(height * width) where mask.scalars[p] == 1 {
            for channel in 0..<3 { corrupted[channel * height * width + p] = 1000 }
        }
        let clean = model.predict(image, mask: mask)
        let prediction = model.predict(Tensor(shape: image.shape, scalars: corrupted), mask: mask)
        XCTAssertEqual(clean.image.scalars.map { $0.bitPattern }.count, prediction.image.scalars.count)
        for channel in 0..<3 {
            for p in 0..<(height * width) {
                let index = channel * height * width + p
                if mask.scalars[p] == 0 {
                    XCTAssertEqual(prediction.image.scalars[index].bitPattern, image.scalars[index].bitPattern)
                } else {
                    XCTAssertEqual(prediction.image.scalars[index], prediction.render.scalars[index])
                    XCTAssertEqual(prediction.image.scalars[index], clean.image.scalars[index])
                }
            }
        }
    }

    /// The U-Net's full-resolution helpers equal the plain ops: banded convolution (values and
    /// gradients; 64 channels × 7 × 7 at width 58 makes bands of 44 rows, so 58 rows take two) and
    /// reflection padding by concatenation.
    func testBandedConvolutionAndEdgeReflectionMatchThePlainOps() {
        let store = ParameterStore(seed: 14)
        let conv = Conv2D(inputChannels: 64, outputChannels: 3, kernelSize: 7, scope: store.scope("conv"))
        var generator = RandomGenerator(seed: 15)
        let input = Tensor.uniform([1, 64, 64, 64], low: -1, high: 1, using: &generator, requiresGrad: true)
        let upstream = Tensor.uniform([1, 3, 58, 58], low: -1, high: 1, using: &generator)
        let banded = convolvedInBands(conv, input, training: true)
        (banded * upstream).sum().backward()
        let (bandedInput, bandedWeight) = (input.grad!.scalars, conv.weight.grad!.scalars)
        store.zeroGradients()
        input.zeroGrad()
        let whole = conv(input, training: true)
        (whole * upstream).sum().backward()
        XCTAssertEqual(banded.shape, whole.shape)
        for (a, b) in zip(banded.scalars, whole.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for (a, b) in zip(bandedInput, input.grad!.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for (a, b) in zip(bandedWeight, conv.weight.grad!.scalars) { XCTAssertEqual(a, b, accuracy: 1e-3) }

        let small = Tensor.uniform([2, 3, 5, 7], using: &generator)
        XCTAssertEqual(edgeReflected(small, by: 3).scalars, small.reflectionPadded([(0, 0), (0, 0), (3, 3), (3, 3)]).scalars)
    }

    // MARK: Gaussian head

    /// The fused Linear → mixture → conic op equals its composition, values and gradients of all
    /// three inputs; stays finite when the zero entry takes all the weight; passes finite
    /// differences.
    func testDictionaryConicsMatchReference() {
        let dictionary = CholeskyDictionary(valuesPerElement: 3, scaleRange: 0.5...4, shearLimit: 2)
        let K = dictionary.count  // 28: one whole chunk of 16 lanes and a partial one
        var generator = RandomGenerator(seed: 6)
        let hidden = Tensor.uniform([40, 5], low: 0, high: 2, using: &generator, requiresGrad: true)
        hidden.scalars[7] = 0  // a ReLU zero, skipped by the forward
        let weight = Tensor.normal([5, K], using: &generator, requiresGrad: true)
        let bias = Tensor.normal([K], using: &generator, requiresGrad: true)
        let upstream = Tensor.normal([40, 3], using: &generator)
        let fast = dictionaryConics(hidden: hidden, weight: weight, bias: bias, dictionary: dictionary, epsilon: 0.01)
        (fast * upstream).sum().backward()
        let fastGradients = [hidden, weight, bias].map { $0.grad!.scalars }
        for input in [hidden, weight, bias] { input.zeroGrad() }
        let slow = referenceDictionaryConics(hidden: hidden, weight: weight, bias: bias, dictionary: dictionary, epsilon: 0.01)
        (slow * upstream).sum().backward()
        for (a, b) in zip(fast.scalars, slow.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4 * Swift.max(1, Swift.abs(b))) }
        for (fastGradient, input) in zip(fastGradients, [hidden, weight, bias]) {
            for (a, b) in zip(fastGradient, input.grad!.scalars) { XCTAssertEqual(a, b, accuracy: 1e-3 * Swift.max(1, Swift.abs(b))) }
        }

        // All weight on the zero entry: Σ = ε I, conic = I / ε.
        var offBias = [Float](repeating: -30, count: K)
        offBias[K - 1] = 30
        let conic = dictionaryConics(hidden: Tensor.zeros([1, 5]), weight: Tensor.zeros([5, K]), bias: Tensor(offBias),
                                     dictionary: dictionary, epsilon: 0.01)
        XCTAssertEqual(conic.scalars[0], 100, accuracy: 1e-2)
        XCTAssertEqual(conic.scalars[1], 0, accuracy: 1e-4)
        XCTAssertEqual(conic.scalars[2], 100, accuracy: 1e-2)

        let inputs = [Tensor.uniform([6, 5], low: 0, high: 1, using: &generator, requiresGrad: true),
                      Tensor.normal([5, K], using: &generator, requiresGrad: true),
                      Tensor.normal([K], using: &generator, requiresGrad: true)]
        let report = GradientCheck.run(inputs, epsilon: 1e-2) {
            dictionaryConics(hidden: $0[0], weight: $0[1], bias: $0[2], dictionary: dictionary, epsilon: 0.5)
        }
        XCTAssertGreaterThan(report.checked, 0)
        XCTAssertLessThanOrEqual(report.maximumError, 1e-2, "\(report)")
    }

    /// Finite differences through the whole head (P = 4, pad = 1, D = 3, a 9-entry dictionary):
    /// the input feature map and one weight of each stage. The decoders' ReLUs put kinks near
    /// some points (a pre-activation of 2·10⁻⁵ at this seed), so small slope jumps count as kinks.
    func testGaussianHeadGradients() {
        let store = ParameterStore(seed: 7)
        let head = GaussianHead(featureChannels: 3, options: PatchOptions(patchSize: 4, padding: 1), embeddingChannels: 4,
                                hidden: 4, dictionary: CholeskyDictionary(valuesPerElement: 2, scaleRange: 0.8...2, shearLimit: 0.5),
                                covarianceEpsilon: 0.1, scope: store.root)
        var generator = RandomGenerator(seed: 8)
        let input = Tensor.uniform([1, 3, 8, 4], low: -1, high: 1, using: &generator, requiresGrad: true)
        XCTAssertEqual(head(input, training: false).shape, [1, 2, 36, 8])
        let checked = [input, head.patchify.weight, head.expand.weight, head.colour.output.weight,
                       head.offset.hidden.weight, head.covariance.output.weight]
        let report = GradientCheck.run(checked, epsilon: 2e-3, maximumElements: 24, kinkTolerance: 0.02) { _ in head(input, training: false) }
        XCTAssertGreaterThan(report.checked, 100)
        XCTAssertLessThanOrEqual(report.maximumError, 2e-2, "\(report)")
        XCTAssertLessThanOrEqual(report.skippedAtKinks * 5, report.checked, "\(report)")
    }

    // MARK: Training

    /// A tiny model fitted to one image with one mask: the L1 loss of the render falls over 30
    /// AdamW steps.
    func testLossFallsUnderAdamW() {
        let store = ParameterStore(seed: 9)
        let model = InpaintingModel(config: tinyConfig(), store: store)
        let image = smoothImage(batch: 1, height: 32, width: 32)
        let mask = squareHole(batch: 1, height: 32, width: 32, hole: 10)
        let optimizer = Optimizer(AdamW(), learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<30 {
            let prediction = model.predict(image, mask: mask, training: true)
            let loss = l1Loss(prediction.render, image)
            losses.append(loss.item)
            loss.backward()
            _ = clipGradientsByGlobalNorm(store, maxNorm: 1)
            optimizer.update(store)
            store.zeroGradients()
        }
        XCTAssertTrue(losses.allSatisfy { $0.isFinite }, "\(losses)")
        let (first, last) = (losses[0], losses.suffix(3).reduce(0, +) / 3)
        XCTAssertLessThan(last, 0.5 * first, "losses: \(losses)")
    }

    // MARK: Masks

    func testMaskRatiosFallInTheirClassRanges() {
        let generator = MaskGenerator(width: 64, height: 64, seed: 10)
        for kind in MaskKind.allCases {
            let ratios = (0..<20).map { holeRatio(generator.mask(index: $0, kind: kind)) }
            for ratio in ratios { XCTAssertTrue(kind.holeRatioRange.contains(ratio), "\(kind): \(ratio)") }
            XCTAssertGreaterThan(Set(ratios).count, 10, "\(kind): ratios should vary, got \(ratios)")
        }
        let curriculum = MaskCurriculum()
        XCTAssertEqual(curriculum.holeRatio(progress: 0), 0.2)
        XCTAssertEqual(curriculum.holeRatio(progress: 0.5), 0.4, accuracy: 1e-6)
        XCTAssertEqual(curriculum.holeRatio(progress: 2), 0.6, accuracy: 1e-6)
        let late = curriculum.holeRatioRange(progress: 1)
        for index in 0..<5 {
            XCTAssertTrue(late.contains(holeRatio(generator.mask(index: index, holeRatio: late, style: .irregular))))
        }
    }

    func testMasksAreDeterministicPerSeed() {
        let a = MaskGenerator(width: 48, height: 40, seed: 11), b = MaskGenerator(width: 48, height: 40, seed: 11)
        for kind in MaskKind.allCases {
            XCTAssertEqual(a.mask(index: 3, kind: kind), b.mask(index: 3, kind: kind))
            XCTAssertNotEqual(a.mask(index: 3, kind: kind), a.mask(index: 4, kind: kind))
            XCTAssertNotEqual(a.mask(index: 3, kind: kind), MaskGenerator(width: 48, height: 40, seed: 12).mask(index: 3, kind: kind))
        }
    }

    func testMaskFilesRoundTripAndSizeMismatchNamesTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inpainting-masks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mask.png").path
        let mask = MaskGenerator(width: 40, height: 24, seed: 13).mask(index: 0, kind: .small)
        try HoleMask.write(mask, width: 40, height: 24, to: path)
        let read = try HoleMask.read(from: path)
        XCTAssertEqual(read.mask, mask)
        XCTAssertEqual([read.width, read.height], [40, 24])
        // White is the hole in the file.
        let image = try RGBImage(contentsOfPNG: path)
        let hole = mask.firstIndex(of: 1)!
        XCTAssertEqual(image.pixels[3 * hole], 1)

        XCTAssertThrowsError(try HoleMask.read(from: path, width: 64, height: 64, imageName: "photo.png")) { error in
            XCTAssertEqual(error as? FileError, FileError(path, "mask is 40×24 but the image photo.png is 64×64"))
        }
    }
}
