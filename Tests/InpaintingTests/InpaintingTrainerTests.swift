import Foundation
import NeuralNetwork
import SplatIO
import TensorCore
import XCTest
@testable import Inpainting

// Training and evaluating the inpainting model on a tiny folder of pictures: seeded batches,
// the trainer's files, exact resume, scores against hand values, the classical fill, the patch
// Gaussian file, evaluation items.

/// A tiny model and recipe: c = 4, one block, P = 16 with pad 2, 32 × 32 crops, batch 2.
private func tinyTrainingConfig(steps: Int = 6) -> InpaintingConfig {
    var model = InpaintingModelConfig()
    (model.baseChannels, model.residualBlocks, model.groupNormGroups, model.featureChannels) = (4, 1, 2, 3)
    (model.patchPadding, model.patchEmbeddingChannels, model.mlpHidden, model.choleskyValues) = (2, 8, 8, 3)
    (model.semanticFeatures, model.globalChannels) = (8, 4)
    var training = InpaintingTrainingConfig()
    (training.batchSize, training.steps, training.cropSize, training.learningRate) = (2, steps, 32, 1e-3)
    (training.checkpointEvery, training.validationEvery, training.validationImages, training.validationSize) = (2, 3, 2, 32)
    return InpaintingConfig(model: model, training: training, seed: 3)
}

/// The config as YAML text (JSON is YAML).
private func yamlText(_ config: InpaintingConfig) throws -> String {
    String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
}

final class InpaintingTrainerTests: XCTestCase {
    private var folder: String!

    /// Six smooth pictures of different sizes (some smaller than the crop) in a temporary folder.
    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("inpaint-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        for index in 0..<6 {
            let (width, height) = (24 + 8 * index, 40 - 2 * index)
            var pixels: [Float] = []
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 {
                        pixels.append(0.5 + 0.4 * Foundation.sin(Float(x) / 5 + Float(y * (c + 1)) / 7 + Float(index)))
                    }
                }
            }
            try RGBImage(width: width, height: height, pixels: pixels).writePNG(to: folder + "/images/picture_\(index).png")
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func images(config: InpaintingConfig) throws -> InpaintingImageSet {
        try InpaintingImageSet(folder: folder + "/images", validationCount: config.training.validationImages)
    }

    func testSplitAndBatchesAreSeededFunctionsOfTheStep() throws {
        let config = tinyTrainingConfig()
        let set = try images(config: config)
        XCTAssertEqual(set.validationNames, ["picture_2.png", "picture_5.png"])  // every 3rd, from the 3rd
        XCTAssertEqual(set.trainNames.count, 4)
        let sampler = InpaintingBatchSampler(images: set, cropSize: 32, batchSize: 3, seed: 5, curriculum: MaskCurriculum())
        let first = sampler.batch(step: 7, steps: 10)
        let (a, masks) = (first.images, first.masks)
        XCTAssertNil(first.features)
        let again = sampler.batch(step: 7, steps: 10)
        XCTAssertEqual(a.shape, [3, 3, 32, 32])
        XCTAssertEqual(masks.shape, [3, 1, 32, 32])
        XCTAssertEqual(a.scalars, again.images.scalars)
        XCTAssertEqual(masks.scalars, again.masks.scalars)
        XCTAssertNotEqual(a.scalars, sampler.batch(step: 8, steps: 10).images.scalars)
        XCTAssertTrue(a.scalars.allSatisfy { (0...1).contains($0) })
        // Masks follow the curriculum: at progress 0.7 the target is 0.48 ± 0.1.
        let range = MaskCurriculum().holeRatioRange(progress: 0.7)
        for item in 0..<3 {
            let ratio = holeRatio(Array(masks.scalars[(item * 1024)..<((item + 1) * 1024)]))
            XCTAssertTrue(range.contains(ratio), "item \(item): \(ratio) outside \(range)")
        }
        let validation = sampler.validationBatch(size: 32)
        XCTAssertEqual(validation.images.shape, [4, 3, 32, 32])
        XCTAssertEqual(validation.images.sliced(0..<1, alongAxis: 0).scalars, validation.images.sliced(1..<2, alongAxis: 0).scalars)
        XCTAssertTrue(MaskKind.small.holeRatioRange.contains(holeRatio(Array(validation.masks.scalars[0..<1024]))))
        XCTAssertTrue(MaskKind.large.holeRatioRange.contains(holeRatio(Array(validation.masks.scalars[1024..<2048]))))
    }

    func testTrainingWritesItsFilesAndResumesBitForBit() throws {
        var config = tinyTrainingConfig()  // a cosine schedule, so the resumed run must pick up its rate
        (config.training.learningRateSchedule, config.training.warmupSteps, config.training.minimumLearningRate) = (.cosine, 2, 1e-4)
        let text = try yamlText(config)
        let straight = try InpaintingTrainer(config: config, configText: text, images: try images(config: config),
                                             outputDirectory: folder + "/straight")
        straight.progressInterval = 1
        var validations: [InpaintingScores] = []
        XCTAssertTrue(try straight.run { event in
            if case let .validated(_, small, large, _) = event { validations += [small, large] }
        })
        XCTAssertEqual(validations.count, 4)  // steps 3 and 6, small and large
        XCTAssertTrue(validations.allSatisfy { $0.holePSNR.isFinite && $0.psnr > $0.holePSNR })
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: folder + "/straight"))
        XCTAssertTrue(files.isSuperset(of: ["config.yaml", "validation.txt", "last.h5", "best.h5", "model.h5", "train.csv",
                                            "validation.csv", "logs"]), "\(files)")
        // train.csv's learning-rate column (logged after step s, so the rate of update s − 1) follows
        // the warm-up and cosine decay over the 6 steps.
        let trainRows = try String(contentsOfFile: folder + "/straight/train.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").compactMap { Double($0) } }
        let schedule = CosineWarmupSchedule(peakLearningRate: 1e-3, warmupSteps: 2, totalSteps: 6, minimumLearningRate: 1e-4)
        XCTAssertEqual(trainRows.map { Int($0[0]) }, Array(1...6))
        for row in trainRows {
            XCTAssertEqual(row[5], Double(schedule.learningRate(at: Int(row[0]) - 1)), accuracy: 1e-9, "step \(row[0])")
        }
        XCTAssertEqual(trainRows[0][5], 0)  // warm-up starts from 0
        XCTAssertEqual(trainRows[2][5], 1e-3, accuracy: 1e-9)  // the peak at update 2
        let validationCSV = try String(contentsOfFile: folder + "/straight/validation.csv", encoding: .utf8)
        XCTAssertEqual(validationCSV.split(separator: "\n").count, 3)

        // Interrupted after step 4 (a checkpoint step is not needed: last.h5 is written on stop).
        let first = try InpaintingTrainer(config: config, configText: text, images: try images(config: config),
                                          outputDirectory: folder + "/resumed")
        XCTAssertFalse(try first.run(shouldStop: { first.step == 4 }))
        let second = try InpaintingTrainer(resumingFrom: folder + "/resumed/last.h5", config: config, configText: text,
                                           images: try images(config: config), outputDirectory: folder + "/resumed")
        XCTAssertEqual(second.step, 4)
        XCTAssertTrue(try second.run())
        for ((name, a), (_, b)) in zip(straight.store.parameters, second.store.parameters) {
            XCTAssertEqual(a.scalars, b.scalars, "parameter \(name) differs after resuming")
        }
        XCTAssertEqual(second.bestStep, straight.bestStep)
        XCTAssertEqual(try String(contentsOfFile: folder + "/resumed/validation.csv", encoding: .utf8), validationCSV)

        // model.h5 loads with the best parameters and no optimizer state.
        let loaded = try loadInpaintingModel(from: folder + "/straight/model.h5")
        XCTAssertEqual(loaded.config, config)
        let best = try loadInpaintingModel(from: folder + "/straight/best.h5")
        XCTAssertEqual(loaded.store.parameters.map(\.tensor.scalars), best.store.parameters.map(\.tensor.scalars))
        let modelSize = try FileManager.default.attributesOfItem(atPath: folder + "/straight/model.h5")[.size] as! Int
        let lastSize = try FileManager.default.attributesOfItem(atPath: folder + "/straight/last.h5")[.size] as! Int
        XCTAssertLessThan(modelSize, lastSize / 2)
    }

    /// loss_image: composite takes the loss of the output, whose known pixels are the image's: the
    /// same model and batch lose less than on the whole render (which differs there too).
    func testTheCompositeLossLeavesOutTheKnownPixels() throws {
        var losses: [InpaintingLossImage: Double] = [:]
        for lossImage in [InpaintingLossImage.render, .composite] {
            var config = tinyTrainingConfig(steps: 1)
            config.training.lossImage = lossImage
            let trainer = try InpaintingTrainer(config: config, configText: try yamlText(config), images: try images(config: config),
                                                outputDirectory: folder + "/\(lossImage.rawValue)")
            trainer.progressInterval = 1
            var loss = Double.nan
            XCTAssertTrue(try trainer.run { event in if case let .progress(p) = event { loss = p.loss } })
            losses[lossImage] = loss
        }
        let (render, composite) = (losses[.render]!, losses[.composite]!)
        XCTAssertTrue(render.isFinite && composite.isFinite && composite > 0, "\(losses)")
        XCTAssertLessThan(composite, render)
    }

    func testResumingWithAnotherConfigOrAnotherModelsCheckpointNamesTheFile() throws {
        let config = tinyTrainingConfig(steps: 2)
        let trainer = try InpaintingTrainer(config: config, configText: try yamlText(config), images: try images(config: config),
                                            outputDirectory: folder + "/run")
        try trainer.run()
        var other = config
        other.training.learningRate = 5e-4
        let last = folder + "/run/last.h5"
        XCTAssertThrowsError(try InpaintingTrainer(resumingFrom: last, config: other, configText: try yamlText(other),
                                                   images: try images(config: other), outputDirectory: folder + "/run")) { error in
            XCTAssertTrue("\(error)".contains(last) && "\(error)".contains("another configuration"), "\(error)")
        }
        XCTAssertThrowsError(try loadInpaintingModel(from: folder + "/images/picture_0.png")) { error in
            XCTAssertTrue("\(error)".contains("picture_0.png"), "\(error)")
        }
    }

    /// semantic_source: precomputed reads each image's vector from an ImageFeatures file, for
    /// training batches (by source image), validation, model loading and evaluation items.
    func testPrecomputedFeaturesFlowFromTheFeaturesFile() throws {
        var config = tinyTrainingConfig(steps: 3)
        config.model.semanticSource = .precomputed
        let names = try pngNames(in: folder + "/images")
        let vectors = Tensor(shape: [names.count, 8], scalars: (0..<(names.count * 8)).map { Float($0 % 8) / 8 + Float($0 / 8) })
        let featuresPath = folder + "/features.h5"
        try ImageFeatures(names: names, features: vectors, source: "test").write(to: featuresPath)
        let table = try ImageFeatures(contentsOf: featuresPath)
        XCTAssertEqual(table.names, names)
        XCTAssertEqual(try table.vector(for: "/any/folder/picture_1.png"), Array(vectors.scalars[8..<16]))

        XCTAssertThrowsError(try InpaintingTrainer(config: config, configText: try yamlText(config), images: try images(config: config),
                                                   outputDirectory: folder + "/nofeatures")) { error in
            XCTAssertTrue("\(error)".contains("--features"), "\(error)")
        }
        let set = try InpaintingImageSet(folder: folder + "/images", validationCount: 2, features: table)
        let batch = InpaintingBatchSampler(images: set, cropSize: 32, batchSize: 3, seed: 1, curriculum: MaskCurriculum())
            .batch(step: 0, steps: 3)
        XCTAssertEqual(batch.features?.shape, [3, 8])
        for item in 0..<3 {  // every row is one of the training images' vectors
            let row = Array(batch.features!.scalars[(item * 8)..<((item + 1) * 8)])
            XCTAssertTrue(set.trainFeatures!.contains(row))
        }
        let trainer = try InpaintingTrainer(config: config, configText: try yamlText(config), images: set,
                                            outputDirectory: folder + "/precomputed")
        XCTAssertTrue(try trainer.run())
        let loaded = try loadInpaintingModel(from: folder + "/precomputed/model.h5")
        // The model/features rules: a precomputed-features model needs the file; one that
        // learns its own refuses it.
        let modelPath = folder + "/precomputed/model.h5"
        XCTAssertEqual(try InpaintingCheckpoint.resolve(model: modelPath, features: featuresPath).features?.names, names)
        XCTAssertThrowsError(try InpaintingCheckpoint.resolve(model: modelPath)) { error in
            XCTAssertTrue("\(error)".contains(modelPath) && "\(error)".contains("precomputed"), "\(error)")
        }
        let learned = try InpaintingTrainer(config: tinyTrainingConfig(steps: 1), configText: try yamlText(tinyTrainingConfig(steps: 1)),
                                            images: try images(config: tinyTrainingConfig(steps: 1)), outputDirectory: folder + "/learned")
        XCTAssertTrue(try learned.run())
        let resolved = try InpaintingCheckpoint.resolve(model: folder + "/learned/model.h5")
        XCTAssertNil(resolved.features)
        // The resolved store is the given model's (what `bench inpaint --model` times and trains).
        let direct = try loadInpaintingModel(from: folder + "/learned/model.h5")
        XCTAssertEqual(resolved.store.parameters.map(\.name), direct.store.parameters.map(\.name))
        XCTAssertEqual(resolved.store.parameters.map(\.tensor.scalars), direct.store.parameters.map(\.tensor.scalars))
        XCTAssertEqual(resolved.path, folder + "/learned/model.h5")
        XCTAssertThrowsError(try InpaintingCheckpoint.resolve(model: folder + "/learned/model.h5", features: featuresPath)) { error in
            XCTAssertTrue("\(error)".contains(featuresPath), "\(error)")
        }
        let items = try InpaintingEvaluationSet.items(images: folder + "/images", kinds: [.small], size: 32, limit: 2, features: table)
        XCTAssertEqual(items[1].features, Array(vectors.scalars[8..<16]))
        XCTAssertTrue(loaded.model.evaluate(items[0]).scores.psnr.isFinite)

        let partial = folder + "/partial.h5"
        try ImageFeatures(names: ["picture_0.png"], features: Tensor(shape: [1, 8], scalars: [Float](repeating: 0, count: 8)),
                          source: "test").write(to: partial)
        XCTAssertThrowsError(try InpaintingImageSet(folder: folder + "/images", validationCount: 2,
                                                    features: try ImageFeatures(contentsOf: partial))) { error in
            XCTAssertTrue("\(error)".contains(partial) && "\(error)".contains("picture_1.png"), "\(error)")
        }
    }

    // MARK: Scores and the classical fill

    func testScoresMatchHandValues() {
        let (H, W) = (16, 16)
        let target = Tensor(shape: [1, 3, H, W], scalars: (0..<(3 * H * W)).map { Float($0 % 7) / 10 })
        var maskValues = [Float](repeating: 0, count: H * W)
        let holes = (6 * W)..<(10 * W)  // rows 6–9: a quarter of the pixels, where windows are centred
        for p in holes { maskValues[p] = 1 }
        let mask = Tensor(shape: [1, 1, H, W], scalars: maskValues)
        var output = target.scalars
        for c in 0..<3 { for p in holes { output[c * H * W + p] += 0.1 } }
        let scores = inpaintingScores(output: Tensor(shape: [1, 3, H, W], scalars: output), target: target, mask: mask)[0]
        XCTAssertEqual(scores.holePSNR, 20, accuracy: 1e-4)  // MSE 0.01 in the holes
        XCTAssertEqual(scores.holeL1, 0.1, accuracy: 1e-6)
        XCTAssertEqual(holeL1(Tensor(shape: [1, 3, H, W], scalars: output), target, masks: mask).item, 0.1, accuracy: 1e-6)  // the loss term
        XCTAssertEqual(scores.l1, 0.025, accuracy: 1e-6)
        XCTAssertEqual(scores.psnr, 10 * log10(1 / 0.0025), accuracy: 1e-4)
        XCTAssertLessThan(scores.holeSSIM, scores.ssim)  // the windows centred in the holes are the changed ones
        let perfect = inpaintingScores(output: target, target: target, mask: mask)[0]
        XCTAssertEqual([perfect.psnr, perfect.holePSNR, perfect.ssim, perfect.holeL1], [100, 100, 1, 0])
        let noHoles = inpaintingScores(output: target, target: target, mask: Tensor.zeros([1, 1, H, W]))[0]
        XCTAssertTrue(noHoles.holePSNR.isNaN && noHoles.holeSSIM.isNaN)
        XCTAssertEqual(InpaintingScores.mean([noHoles, scores]).holePSNR, 20, accuracy: 1e-4)  // NaNs skipped
    }

    func testPushPullFillKeepsKnownPixelsAndInterpolatesSmoothly() {
        let (W, H) = (20, 12)
        var pixels: [Float] = []
        for c in 0..<3 { for _ in 0..<H { for x in 0..<W { pixels.append(Float(x) / Float(W - 1) * Float(c + 1) / 3) } } }
        var mask = [Float](repeating: 0, count: W * H)
        for y in 3..<9 { for x in 6..<14 { mask[y * W + x] = 1 } }
        let filled = pushPullFill(pixels, mask: mask, width: W, height: H, smoothing: 200)
        for i in 0..<(3 * W * H) where mask[i % (W * H)] < 0.5 { XCTAssertEqual(filled[i], pixels[i]) }
        // A horizontal ramp is harmonic: many sweeps recover it inside the hole.
        var worst: Float = 0
        for i in 0..<(3 * W * H) where mask[i % (W * H)] >= 0.5 { worst = max(worst, abs(filled[i] - pixels[i])) }
        XCTAssertLessThan(worst, 0.02)
        let constant = pushPullFill([Float](repeating: 0.3, count: 3 * W * H), mask: mask, width: W, height: H)
        XCTAssertTrue(constant.allSatisfy { abs($0 - 0.3) < 1e-6 })
        let allHoles = pushPullFill(pixels, mask: [Float](repeating: 1, count: W * H), width: W, height: H)
        XCTAssertTrue(allHoles.allSatisfy { $0 == 0.5 })
    }

    // MARK: Inference files and evaluation items

    func testPatchGaussianFileRoundTripsAndRendersTheInpaintedImage() throws {
        let config = tinyTrainingConfig()
        let model = InpaintingModel(config: config.model, store: ParameterStore(seed: 1))
        let picture = try RGBImage(contentsOfPNG: folder + "/images/picture_1.png")  // 32 × 38: padded to 32 × 48
        let mask = MaskGenerator(width: picture.width, height: picture.height, seed: 2).mask(index: 0, kind: .small)
        let result = model.inpaint(picture.tensor(), mask: mask)
        XCTAssertEqual(result.image.shape, [3, 38, 32])
        XCTAssertEqual([result.gaussians.width, result.gaussians.height], [32, 48])
        let path = folder + "/gaussians.h5"
        try result.gaussians.write(to: path)
        let read = try PatchGaussianSet(contentsOf: path)
        XCTAssertEqual(read.gaussians.scalars, result.gaussians.gaussians.scalars)
        XCTAssertEqual(read.render().scalars, result.render.scalars)
        XCTAssertThrowsError(try PatchGaussianSet(contentsOf: folder + "/straight-missing.h5")) { error in
            XCTAssertTrue("\(error)".contains("straight-missing.h5"), "\(error)")
        }
    }

    func testEvaluationItemsPairImagesWithMasksAndCheckTheList() throws {
        let generated = try InpaintingEvaluationSet.items(images: folder + "/images", kinds: [.small, .box], size: 32, limit: 2)
        XCTAssertEqual(generated.map(\.group), ["small", "box", "small", "box"])
        XCTAssertTrue(generated.allSatisfy { $0.image.shape == [3, 32, 32] && $0.mask.count == 1024 })
        try FileManager.default.createDirectory(atPath: folder + "/masks", withIntermediateDirectories: true)
        for index in 0..<2 {
            try HoleMask.write(MaskGenerator(width: 16, height: 24, seed: 4).mask(index: index, kind: .large), width: 16, height: 24,
                               to: folder + "/masks/m\(index).png")
        }
        let list = folder + "/list.txt"
        try "# held out\npicture_3.png\n\npicture_4.png\npicture_5.png\n".write(toFile: list, atomically: true, encoding: .utf8)
        let paired = try InpaintingEvaluationSet.items(images: folder + "/images", list: list, masks: folder + "/masks")
        XCTAssertEqual(paired.map(\.imageName), ["picture_3.png", "picture_4.png", "picture_5.png"])
        XCTAssertEqual(paired.map(\.maskName), ["m0.png", "m1.png", "m0.png"])
        XCTAssertTrue(paired.allSatisfy { $0.image.shape == [3, 24, 16] })
        try "picture_9.png\n".write(toFile: list, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try InpaintingEvaluationSet.items(images: folder + "/images", list: list)) { error in
            XCTAssertTrue("\(error)".contains(list) && "\(error)".contains("picture_9.png"), "\(error)")
        }
    }
}
