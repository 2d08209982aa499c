// Finite-difference gradient checks of the normalisation layers (compositions of TensorCore
// ops, so these check the composition end to end) and of the residual blocks, with respect
// to the input and to the layers' own parameters. GradientCheck.run perturbs each checked
// tensor in place, so passing a layer's parameter tensors checks d loss / d parameter.
//
// Batch norm is checked in training mode (batch statistics, differentiated through the mean
// and variance); its running-statistic updates do not affect training-mode outputs.
// Dropout is disabled (rate 0) in the blocks so that repeated evaluations agree.

import NeuralNetwork
import TensorCore
import TestSupport
import XCTest

/// A tensor of `shape` with values uniform in `range`, requiring gradients.
/// Gives a layer's γ and β non-trivial values (so their gradients are not the defaults').
private func randomize(_ tensors: [Tensor?], seed: UInt64) {
    var generator = RandomGenerator(seed: seed)
    for tensor in tensors.compactMap({ $0 }) {
        tensor.scalars = tensor.scalars.map { $0 + 0.5 * (generator.nextUniform() - 0.5) }
    }
}

/// Runs the checker on `inputs` and fails unless the worst error is within `tolerance` and
/// few points were kinks.
private func assertGradientsMatch(
    _ inputs: [Tensor?], epsilon: Float = 1e-2, tolerance: Float = 1e-2, file: StaticString = #filePath,
    line: UInt = #line, _ function: @escaping (Tensor) -> Tensor
) {
    let checked = inputs.compactMap { $0 }
    XCTAssertEqual(checked.count, inputs.count, "a parameter to check is missing", file: file, line: line)
    TestSupport.assertGradientsMatch(checked, epsilon: epsilon, tolerance: tolerance, file: file, line: line) { function($0[0]) }
}

final class NormalizationGradientTests: XCTestCase {
    func testBatchNorm1DTrainingBothConventions() {
        for convention in [BatchNormConvention.keras, .pytorch] {
            let store = ParameterStore(seed: 1)
            let nc = BatchNorm1D(featureCount: 3, convention: convention, scope: store.scope("nc"))
            let ncl = BatchNorm1D(featureCount: 3, convention: convention, scope: store.scope("ncl"))
            randomize([nc.gamma, nc.beta, ncl.gamma, ncl.beta], seed: 2)
            assertGradientsMatch([randomInput([5, 3], seed: 3), nc.gamma, nc.beta]) { nc($0, training: true) }
            assertGradientsMatch([randomInput([2, 3, 4], seed: 4), ncl.gamma, ncl.beta]) { ncl($0, training: true) }
        }
    }

    func testBatchNorm2DTraining() {
        let store = ParameterStore(seed: 5)
        let norm = BatchNorm2D(featureCount: 2, convention: .pytorch, scope: store.root)
        randomize([norm.gamma, norm.beta], seed: 6)
        assertGradientsMatch([randomInput([2, 2, 3, 3], seed: 7), norm.gamma, norm.beta]) { norm($0, training: true) }
    }

    func testBatchNormInference() {
        let store = ParameterStore(seed: 8)
        let norm = BatchNorm1D(featureCount: 3, scope: store.root)
        randomize([norm.gamma, norm.beta, norm.runningMean, norm.runningVariance], seed: 9)
        assertGradientsMatch([randomInput([2, 3, 4], seed: 10), norm.gamma, norm.beta]) { norm($0, training: false) }
    }

    func testGroupNorm() {
        let store = ParameterStore(seed: 11)
        let norm = GroupNorm(groupCount: 2, channelCount: 4, scope: store.root)
        randomize([norm.gamma, norm.beta], seed: 12)
        assertGradientsMatch([randomInput([2, 4, 3], seed: 13), norm.gamma, norm.beta]) { norm($0, training: true) }
        assertGradientsMatch([randomInput([2, 4, 2, 3], seed: 14), norm.gamma, norm.beta]) { norm($0, training: false) }
    }

    func testLayerNorm() {
        let store = ParameterStore(seed: 15)
        let last = LayerNorm(normalizedShape: [5], scope: store.scope("last"))
        let lastTwo = LayerNorm(normalizedShape: [3, 4], scope: store.scope("lastTwo"))
        randomize([last.gamma, last.beta, lastTwo.gamma, lastTwo.beta], seed: 16)
        assertGradientsMatch([randomInput([3, 5], seed: 17), last.gamma, last.beta]) { last($0, training: true) }
        assertGradientsMatch([randomInput([2, 3, 4], seed: 18), lastTwo.gamma, lastTwo.beta]) { lastTwo($0, training: true) }
    }

    func testInstanceNorm() {
        let store = ParameterStore(seed: 19)
        let plain = InstanceNorm(channelCount: 3, scope: store.scope("plain"))
        let affine = InstanceNorm(channelCount: 3, affine: true, scope: store.scope("affine"))
        randomize([affine.gamma, affine.beta], seed: 20)
        XCTAssertNil(plain.gamma)
        assertGradientsMatch([randomInput([2, 3, 5], seed: 21)]) { plain($0, training: true) }
        assertGradientsMatch([randomInput([2, 3, 3, 3], seed: 22), affine.gamma, affine.beta]) { affine($0, training: true) }
    }
}

final class ResidualBlockGradientTests: XCTestCase {
    func testResidualBlock1DWithProjection() {
        let store = ParameterStore(seed: 23)
        let configuration = ResidualBlock1D.Configuration(kernelSize: 3, batchNormConvention: .pytorch)
        let block = ResidualBlock1D(inputChannels: 2, outputChannels: 3, configuration: configuration, scope: store.root)
        randomize([block.bn1.gamma, block.bn1.beta, block.bn2.gamma, block.bn2.beta], seed: 24)
        assertGradientsMatch([randomInput([2, 2, 5], seed: 25), block.conv1.weight, block.conv2.bias,
                              block.bn1.gamma, block.bn2.beta, block.projection?.weight]) { block($0, training: true) }
    }

    func testResidualBlock1DIdentityShortcutDilated() {
        let store = ParameterStore(seed: 26)
        let configuration = ResidualBlock1D.Configuration(kernelSize: 3, dilation: 2, useBias: false)
        let block = ResidualBlock1D(inputChannels: 3, outputChannels: 3, configuration: configuration, scope: store.root)
        XCTAssertNil(block.projection)
        assertGradientsMatch([randomInput([2, 3, 6], seed: 27), block.conv1.weight, block.conv2.weight,
                              block.bn2.gamma]) { block($0, training: true) }
    }

    /// A smaller step than the default: with 18 values per channel and Keras's ε = 1e-3, the
    /// batch norms make the loss strongly curved in conv1's weights, and the central
    /// difference's truncation error at step 1e-2 reaches 2% (measured: worst error 2.3e-2 at
    /// step 1e-2, 2.4e-3 at 5e-3, 2.6e-4 at 2.5e-3 — shrinking with the step, as truncation
    /// error does, while the analytic gradient stays fixed).
    func testResidualBlock2DBatchNorm() {
        let store = ParameterStore(seed: 28)
        let block = ResidualBlock2D(inputChannels: 2, outputChannels: 3, scope: store.root)
        assertGradientsMatch([randomInput([2, 2, 3, 3], seed: 29), block.conv1.weight, block.conv2.weight,
                              block.projection?.weight, store.parameter(named: "norm1.gamma")],
                             epsilon: 2.5e-3) { block($0, training: true) }
    }

    func testResidualBlock2DGroupNormGELU() {
        let store = ParameterStore(seed: 30)
        let configuration = ResidualBlock2D.Configuration(normalization: .groupNorm(groupCount: 2), activation: GELU())
        let block = ResidualBlock2D(inputChannels: 4, outputChannels: 4, configuration: configuration, scope: store.root)
        assertGradientsMatch([randomInput([1, 4, 3, 3], seed: 31), block.conv1.weight, block.conv2.bias,
                              store.parameter(named: "norm2.beta")]) { block($0, training: true) }
    }
}
