// Behaviour of the layers that PyTorch fixtures do not pin down: parameter naming, default
// initialisers, output shapes (including 'same' padding), dropout statistics and
// determinism, batch-norm running statistics, and a small conv net that learns.

import Foundation
import NeuralNetwork
import TensorCore
import XCTest

final class ParameterNamingTests: XCTestCase {
    /// A Sequential of residual blocks under "encoder.blocks" names every tensor by its path.
    func testResidualBlocksInSequentialUnderEncoder() {
        let store = ParameterStore(seed: 0)
        let blocks = Sequential(count: 2, scope: store.scope("encoder").scope("blocks")) { index, scope in
            ResidualBlock1D(inputChannels: index == 0 ? 2 : 4, outputChannels: 4, scope: scope)
        }
        let block0 = ["conv1.weight", "conv1.bias", "bn1.gamma", "bn1.beta", "conv2.weight", "conv2.bias",
                      "bn2.gamma", "bn2.beta", "projection.weight", "projection.bias"]
        let block1 = block0.filter { !$0.hasPrefix("projection") }  // 4 → 4 channels: identity shortcut
        XCTAssertEqual(store.parameters.map(\.name),
                       block0.map { "encoder.blocks.0.\($0)" } + block1.map { "encoder.blocks.1.\($0)" })
        let buffers = ["bn1.running_mean", "bn1.running_variance", "bn2.running_mean", "bn2.running_variance"]
        XCTAssertEqual(store.buffers.map(\.name),
                       buffers.map { "encoder.blocks.0.\($0)" } + buffers.map { "encoder.blocks.1.\($0)" })
        XCTAssertEqual(store.parameter(named: "encoder.blocks.0.conv1.weight")?.shape, [4, 2, 3])
        XCTAssertEqual(store.parameter(named: "encoder.blocks.0.projection.weight")?.shape, [4, 2, 1])
        XCTAssertEqual(blocks(Tensor.zeros([1, 2, 5]), training: false).shape, [1, 4, 5])
    }

    func testResidualBlock2DNamesWithGroupNorm() {
        let store = ParameterStore(seed: 0)
        let configuration = ResidualBlock2D.Configuration(useBias: false, normalization: .groupNorm(groupCount: 2))
        _ = ResidualBlock2D(inputChannels: 2, outputChannels: 4, configuration: configuration,
                            scope: store.scope("decoder").scope("blocks").scope(1))
        XCTAssertEqual(store.parameters.map(\.name), [
            "decoder.blocks.1.conv1.weight", "decoder.blocks.1.norm1.gamma", "decoder.blocks.1.norm1.beta",
            "decoder.blocks.1.conv2.weight", "decoder.blocks.1.norm2.gamma", "decoder.blocks.1.norm2.beta",
            "decoder.blocks.1.projection.weight",
        ])
        XCTAssertTrue(store.buffers.isEmpty, "GroupNorm keeps no running statistics")
    }

    func testSingleLayerNames() {
        let store = ParameterStore(seed: 0)
        _ = Linear(3, 2, scope: store.scope("head"))
        _ = Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, bias: false, scope: store.scope("stem"))
        _ = LayerNorm(normalizedShape: [4], scope: store.scope("norm"))
        _ = InstanceNorm(channelCount: 2, scope: store.scope("instance"))  // not affine: no parameters
        XCTAssertEqual(store.parameters.map(\.name), ["head.weight", "head.bias", "stem.weight", "norm.gamma", "norm.beta"])
        XCTAssertEqual(store.parameter(named: "head.weight")?.shape, [3, 2], "Linear weight is (in, out)")
    }
}

final class InitializerDefaultTests: XCTestCase {
    func testKernelsGlorotUniformBiasesZeroNormsOnes() {
        let store = ParameterStore(seed: 3)
        let conv = Conv1D(inputChannels: 4, outputChannels: 6, kernelSize: 5, scope: store.scope("conv"))
        let linear = Linear(20, 10, scope: store.scope("linear"))
        let norm = BatchNorm2D(featureCount: 3, scope: store.scope("bn"))
        // Glorot limits: √(6 / (fanIn + fanOut)), conv fans 4·5 and 6·5, linear 20 and 10.
        let convLimit = (6 / Float(4 * 5 + 6 * 5)).squareRoot(), linearLimit = (6 / Float(30)).squareRoot()
        XCTAssertTrue(conv.weight.scalars.allSatisfy { abs($0) <= convLimit })
        XCTAssertGreaterThan(conv.weight.scalars.map(abs).max()!, 0.8 * convLimit, "weights should fill the range")
        XCTAssertTrue(linear.weight.scalars.allSatisfy { abs($0) <= linearLimit })
        XCTAssertEqual(conv.bias?.scalars, [Float](repeating: 0, count: 6))
        XCTAssertEqual(linear.bias?.scalars, [Float](repeating: 0, count: 10))
        XCTAssertEqual(norm.gamma?.scalars, [1, 1, 1])
        XCTAssertEqual(norm.beta?.scalars, [0, 0, 0])
        XCTAssertEqual(norm.runningMean.scalars, [0, 0, 0])
        XCTAssertEqual(norm.runningVariance.scalars, [1, 1, 1])
    }

    func testInitializerOverrides() {
        let store = ParameterStore(seed: 4)
        let conv = Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: [1, 3], weightInitializer: .constant(0.5),
                          biasInitializer: .ones, scope: store.scope("conv"))
        XCTAssertEqual(conv.weight.shape, [2, 2, 1, 3])
        XCTAssertTrue(conv.weight.scalars.allSatisfy { $0 == 0.5 })
        XCTAssertEqual(conv.bias?.scalars, [1, 1])
        let block = ResidualBlock1D(inputChannels: 1, outputChannels: 2,
                                    configuration: .init(kernelInitializer: { _ in .zeros }), scope: store.scope("block"))
        XCTAssertTrue(block.conv1.weight.scalars.allSatisfy { $0 == 0 })
        XCTAssertTrue(block.projection!.weight.scalars.allSatisfy { $0 == 0 })
    }
}

final class LayerShapeTests: XCTestCase {
    func testSamePaddingKeepsSpatialExtents() {
        let store = ParameterStore(seed: 5)
        let conv1 = Conv1D(inputChannels: 2, outputChannels: 3, kernelSize: 5, padding: .same, dilation: 2, scope: store.scope("a"))
        XCTAssertEqual(conv1.paddingAmount, 4)
        XCTAssertEqual(conv1(Tensor.zeros([2, 2, 9]), training: false).shape, [2, 3, 9])
        let conv2 = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: [3, 5], padding: .same, scope: store.scope("b"))
        XCTAssertEqual(conv2.paddingAmount, IntOrPair(1, 2))
        XCTAssertEqual(conv2(Tensor.zeros([1, 2, 4, 6]), training: false).shape, [1, 3, 4, 6])
        let transposed = ConvTranspose2D(inputChannels: 2, outputChannels: 1, kernelSize: 3, padding: .same, scope: store.scope("c"))
        XCTAssertEqual(transposed(Tensor.zeros([1, 2, 4, 5]), training: false).shape, [1, 1, 4, 5])
    }

    func testStridedAndTransposedExtents() {
        let store = ParameterStore(seed: 6)
        // L_out = ⌊(9 + 2 − 2·2 − 1)/2⌋ + 1 = 4
        let conv = Conv1D(inputChannels: 1, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1, dilation: 2, scope: store.scope("a"))
        XCTAssertEqual(conv(Tensor.zeros([1, 1, 9]), training: false).shape, [1, 2, 4])
        // L_out = (5 − 1)·2 − 2 + 3 + 1 = 10
        let up = ConvTranspose1D(inputChannels: 2, outputChannels: 1, kernelSize: 3, stride: 2, padding: 1,
                                 outputPadding: 1, scope: store.scope("b"))
        XCTAssertEqual(up(Tensor.zeros([3, 2, 5]), training: false).shape, [3, 1, 10])
        let up2 = ConvTranspose2D(inputChannels: 2, outputChannels: 4, kernelSize: 2, stride: 2, groups: 2, scope: store.scope("c"))
        XCTAssertEqual(up2.weight.shape, [2, 2, 2, 2])
        XCTAssertEqual(up2(Tensor.zeros([1, 2, 3, 4]), training: false).shape, [1, 4, 6, 8])
    }

    func testLinearOverLeadingAxes() {
        let store = ParameterStore(seed: 7)
        let linear = Linear(4, 3, scope: store.root)
        let x = Tensor.uniform([2, 5, 4], low: -1, high: 1, using: &store.random.generator)
        let y = linear(x, training: false)
        XCTAssertEqual(y.shape, [2, 5, 3])
        // Row (1, 2) equals that row alone through the layer.
        let row = Tensor(shape: [1, 4], scalars: Array(x.scalars[(7 * 4)..<(8 * 4)]))
        let expected = linear(row, training: false).scalars
        for (a, b) in zip(Array(y.scalars[(7 * 3)..<(8 * 3)]), expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testParameterFreeLayers() {
        let x = Tensor(shape: [2, 3, 4, 6], scalars: (0..<144).map(Float.init))
        XCTAssertEqual(MaxPool2D(kernelSize: 2)(x, training: false).shape, [2, 3, 2, 3])
        XCTAssertEqual(AvgPool2D(kernelSize: [2, 3], stride: 1)(x, training: false).shape, [2, 3, 3, 4])
        XCTAssertEqual(GlobalAveragePool2D()(x, training: false).shape, [2, 3])
        XCTAssertEqual(UpSampling2D()(x, training: false).shape, [2, 3, 8, 12])
        XCTAssertEqual(ReflectionPad2D(1)(x, training: false).shape, [2, 3, 6, 8])
        XCTAssertEqual(ZeroPad2D(top: 0, bottom: 1, left: 2, right: 0)(x, training: false).shape, [2, 3, 5, 8])
        XCTAssertEqual(Flatten()(x, training: false).shape, [2, 72])
        XCTAssertEqual(Reshape([6, -1])(x, training: false).shape, [2, 6, 12])
        let sequence = Tensor(shape: [1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(ZeroPad1D(left: 1, right: 0)(sequence, training: false).scalars, [0, 1, 2, 3, 4, 0, 5, 6, 7, 8])
        XCTAssertEqual(ReflectionPad1D(left: 2, right: 1)(sequence, training: false).scalars,
                       [3, 2, 1, 2, 3, 4, 3, 7, 6, 5, 6, 7, 8, 7])
        XCTAssertEqual(MaxPool1D(kernelSize: 2)(sequence, training: false).scalars, [2, 4, 6, 8])
        XCTAssertEqual(AvgPool1D(kernelSize: 2)(sequence, training: false).scalars, [1.5, 3.5, 5.5, 7.5])
        XCTAssertEqual(GlobalAveragePool1D()(sequence, training: false).scalars, [2.5, 6.5])
        XCTAssertEqual(UpSampling1D(scale: 2)(sequence, training: false).shape, [1, 2, 8])
    }

    func testActivationLayersAndSequential() {
        let x = Tensor([-2, -0.5, 0, 1.5])
        XCTAssertEqual(ReLU()(x, training: false).scalars, [0, 0, 0, 1.5])
        XCTAssertEqual(LeakyReLU(slope: 0.1)(x, training: false).scalars, [-0.2, -0.05, 0, 1.5])
        XCTAssertEqual(ELU()(x, training: false).scalars[0], Float(expm1(-2.0)), accuracy: 1e-6)
        XCTAssertEqual(GELU()(x, training: false).scalars[3], 1.5 * 0.5 * (1 + Float(erf(1.5 / 2.0.squareRoot()))), accuracy: 1e-6)
        XCTAssertEqual(Sigmoid()(x, training: false).scalars[2], 0.5)
        XCTAssertEqual(Tanh()(x, training: false).scalars[3], Float(tanh(1.5)), accuracy: 1e-6)
        XCTAssertEqual(Softplus()(x, training: false).scalars[2], Float(log(2.0)), accuracy: 1e-6)
        // Applied in order: ReLU then LeakyReLU leaves no negatives; the reverse order does.
        XCTAssertEqual(Sequential(ReLU(), LeakyReLU(slope: 0.1))(x, training: false).scalars, [0, 0, 0, 1.5])
        XCTAssertEqual(Sequential([LeakyReLU(slope: 0.1), Tanh()])(x, training: false).scalars[0], Float(tanh(-0.2)), accuracy: 1e-6)
    }

    func testPerSampleNormalizationStatistics() {
        let store = ParameterStore(seed: 8)
        let x = Tensor.normal([2, 4, 3, 5], mean: 2, std: 3, using: &store.random.generator)
        let instance = InstanceNorm(channelCount: 4, scope: store.scope("instance"))(x, training: false)
        let group = GroupNorm(groupCount: 2, channelCount: 4, scope: store.scope("group"))(x, training: false)
        let layer = LayerNorm(normalizedShape: [4, 3, 5], scope: store.scope("layer"))(x, training: false)
        for (y, grouped) in [(instance, [2, 4, 15]), (group, [2, 2, 30]), (layer, [2, 1, 60])] {
            let view = y.reshaped(grouped)
            for m in view.mean(alongAxes: [2]).scalars { XCTAssertEqual(m, 0, accuracy: 1e-5) }
            for v in view.variance(alongAxes: [2]).scalars { XCTAssertEqual(v, 1, accuracy: 1e-3) }
        }
    }
}

final class BatchNormRunningStatisticsTests: XCTestCase {
    /// Keras: running = 0.99·running + 0.01·batch with the biased variance; PyTorch:
    /// running = 0.9·running + 0.1·batch with the unbiased one. Values worked by hand for one
    /// channel holding [1, 2, 3, 6] (mean 3, biased variance 3.5, unbiased 14/3).
    func testUpdateFormulas() {
        let x = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 6])
        let store = ParameterStore(seed: 9)
        let keras = BatchNorm1D(featureCount: 1, convention: .keras, scope: store.scope("keras"))
        let pytorch = BatchNorm1D(featureCount: 1, convention: .pytorch, scope: store.scope("pytorch"))
        XCTAssertEqual(keras.momentum, 0.99)
        XCTAssertEqual(keras.epsilon, 1e-3)
        XCTAssertEqual(pytorch.momentum, 0.1)
        XCTAssertEqual(pytorch.epsilon, 1e-5)
        _ = keras(x, training: true)
        _ = pytorch(x, training: true)
        XCTAssertEqual(keras.runningMean.item, 0.99 * 0 + 0.01 * 3, accuracy: 1e-6)
        XCTAssertEqual(keras.runningVariance.item, 0.99 * 1 + 0.01 * 3.5, accuracy: 1e-6)
        XCTAssertEqual(pytorch.runningMean.item, 0.9 * 0 + 0.1 * 3, accuracy: 1e-6)
        XCTAssertEqual(pytorch.runningVariance.item, 0.9 * 1 + 0.1 * 14 / 3, accuracy: 1e-6)
        // Training normalises with the biased batch variance and ε: (1 − 3)/√(3.5 + 1e-3).
        let y = keras(x, training: true)
        XCTAssertEqual(y.scalars[0], -2 / (3.5 + 1e-3).squareRoot(), accuracy: 1e-6)
    }

    func testInferenceUsesRunningStatisticsAndLeavesThemAlone() {
        let store = ParameterStore(seed: 10)
        let norm = BatchNorm2D(featureCount: 2, convention: .pytorch, momentum: 0.5, epsilon: 1e-4, scope: store.root)
        norm.runningMean.scalars = [1, -1]
        norm.runningVariance.scalars = [4, 0.25]
        let x = Tensor(shape: [1, 2, 1, 2], scalars: [3, 5, 0, -1], requiresGrad: true)
        let y = norm(x, training: false)
        let expected: [Float] = [2 / (4 + 1e-4).squareRoot(), 4 / (4 + 1e-4).squareRoot(),
                                 1 / (0.25 + 1e-4).squareRoot(), 0]
        for (a, b) in zip(y.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(norm.runningMean.scalars, [1, -1])
        XCTAssertEqual(norm.runningVariance.scalars, [4, 0.25])
        // A training step with momentum 0.5 moves them halfway, outside the graph.
        let trained = norm(x, training: true)
        trained.sum().backward()
        XCTAssertEqual(norm.runningMean.scalars[0], 0.5 * 1 + 0.5 * 4, accuracy: 1e-6)
        XCTAssertFalse(norm.runningMean.requiresGrad)
        XCTAssertNil(norm.runningMean.grad)
        XCTAssertNotNil(norm.gamma?.grad)
    }
}

final class DropoutTests: XCTestCase {
    func testRateScalingDeterminismAndInference() {
        let rate: Float = 0.3
        let x = Tensor(shape: [50, 200], scalars: (0..<10_000).map { 1 + Float($0 % 7) }, requiresGrad: true)
        let first = Dropout(rate: rate, random: RandomSource(seed: 42))(x, training: true)
        let again = Dropout(rate: rate, random: RandomSource(seed: 42))(x, training: true)
        let other = Dropout(rate: rate, random: RandomSource(seed: 43))(x, training: true)
        XCTAssertEqual(first.scalars, again.scalars, "same seed, same mask")
        XCTAssertNotEqual(first.scalars, other.scalars, "another seed, another mask")

        let dropped = first.scalars.filter { $0 == 0 }.count
        // 10 000 Bernoulli(0.3) draws: standard deviation ≈ 0.0046, so 0.02 is over 4σ.
        XCTAssertEqual(Float(dropped) / Float(x.count), rate, accuracy: 0.02)
        for (output, input) in zip(first.scalars, x.scalars) where output != 0 {
            XCTAssertEqual(output, input / (1 - rate), accuracy: 1e-5)
        }
        // The gradient is the mask: 1/(1 − rate) where kept, 0 where dropped.
        first.sum().backward()
        for (gradient, output) in zip(x.grad!.scalars, first.scalars) {
            XCTAssertEqual(gradient, output == 0 ? 0 : 1 / (1 - rate), accuracy: 1e-6)
        }

        let random = RandomSource(seed: 42)
        let before = random.generator
        let inference = Dropout(rate: rate, random: random)(x, training: false)
        XCTAssertTrue(inference === x, "inference is the identity")
        XCTAssertEqual(random.generator, before, "inference draws no random numbers")
    }

    func testSharedStreamGivesFreshMasksAndStoreSeedReproduces() {
        func twoMasks(seed: UInt64) -> ([Float], [Float]) {
            let store = ParameterStore(seed: seed)
            let dropout = Dropout(rate: 0.5, scope: store.root)
            let x = Tensor.ones([64])
            return (dropout(x, training: true).scalars, dropout(x, training: true).scalars)
        }
        let (a, b) = twoMasks(seed: 7)
        XCTAssertNotEqual(a, b, "successive calls draw new masks")
        XCTAssertEqual(twoMasks(seed: 7).0, a)
        XCTAssertEqual(twoMasks(seed: 7).1, b)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || $0 == 2 })
        XCTAssertEqual(Dropout(rate: 0, scope: ParameterStore().root)(Tensor.ones([3]), training: true).scalars, [1, 1, 1])
    }
}

final class SmallNetworkTrainingTests: XCTestCase {
    /// Conv1D → BatchNorm1D → ELU → GlobalAveragePool1D → Linear learns a regression on
    /// synthetic sequences with plain full-batch SGD; the loss must fall by at least half.
    func testConvNetLossFallsWithSGD() {
        let store = ParameterStore(seed: 11)
        let model = Sequential(
            Conv1D(inputChannels: 2, outputChannels: 8, kernelSize: 3, padding: .same, scope: store.scope("conv")),
            BatchNorm1D(featureCount: 8, convention: .pytorch, scope: store.scope("bn")),
            ELU(),
            GlobalAveragePool1D(),
            Linear(8, 1, scope: store.scope("head")))

        // 32 sequences (2 channels, length 12); the target mixes each channel's level and
        // the first channel's roughness: t = mean(x₀) − 0.5·mean(x₁) + mean|Δx₀|.
        var generator = RandomGenerator(seed: 12)
        let x = Tensor.normal([32, 2, 12], using: &generator)
        for sample in 0..<32 {  // give each sequence its own offset per channel
            for channel in 0..<2 {
                let offset = generator.nextNormal()
                for t in 0..<12 { x.scalars[(sample * 2 + channel) * 12 + t] += offset }
            }
        }
        let targets = Tensor(shape: [32, 1], scalars: (0..<32).map { sample in
            let c0 = Array(x.scalars[(sample * 24)..<(sample * 24 + 12)])
            let c1 = Array(x.scalars[(sample * 24 + 12)..<(sample * 24 + 24)])
            let roughness = zip(c0.dropFirst(), c0).map { abs($0 - $1) }.reduce(0, +) / 11
            return c0.reduce(0, +) / 12 - 0.5 * c1.reduce(0, +) / 12 + roughness
        })

        func loss() -> Tensor { (model(x, training: true) - targets).squared().mean() }
        let learningRate: Float = 0.05
        let initial = withoutGradients { loss().item }
        for _ in 0..<150 {
            store.zeroGradients()
            loss().backward()
            for (_, parameter) in store.parameters {
                guard let gradient = parameter.grad else { continue }
                for i in parameter.scalars.indices { parameter.scalars[i] -= learningRate * gradient.scalars[i] }
            }
        }
        let final = withoutGradients { loss().item }
        print("SmallNetworkTrainingTests: loss \(initial) → \(final)")
        XCTAssertTrue(final.isFinite)
        XCTAssertLessThanOrEqual(final, 0.5 * initial, "loss fell from \(initial) only to \(final)")
        XCTAssertTrue(store.parameters.allSatisfy { $0.tensor.grad != nil }, "every parameter received a gradient")
    }
}
