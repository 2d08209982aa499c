import XCTest
@testable import TensorCore
import TestSupport

// Finite-difference checks of every differentiable op. Each test builds small random inputs,
// applies the op (with the hyperparameters that exercise its edge cases) and requires the
// analytic gradients to match central differences.

final class ElementwiseGradientTests: XCTestCase {
    func testBroadcastArithmetic() {
        let a = randomInput([2, 3, 4], seed: 1), b = randomInput([3, 1], seed: 2, in: 0.5...2)
        assertGradientsMatch([a, b]) { $0[0] + $0[1] }
        assertGradientsMatch([a, b]) { $0[0] - $0[1] }
        assertGradientsMatch([a, b]) { $0[0] * $0[1] }
        assertGradientsMatch([a, b]) { $0[0] / $0[1] }
        assertGradientsMatch([b, a]) { $0[0] / $0[1].abs().clamped(min: 0.3) }
        assertGradientsMatch([a]) { -$0[0] * 3 + 1 }
        let scalar = randomInput([], seed: 3)
        assertGradientsMatch([a, scalar]) { $0[0] * $0[1] - $0[1] }
    }

    func testUnaryMath() {
        let x = randomInput([3, 5], seed: 4)
        let positive = randomInput([3, 5], seed: 5, in: 0.5...2)
        assertGradientsMatch([x]) { $0[0].exp() }
        assertGradientsMatch([positive]) { $0[0].log() }
        assertGradientsMatch([positive]) { $0[0].sqrt() }
        assertGradientsMatch([positive]) { $0[0].pow(2.5) }
        assertGradientsMatch([x]) { $0[0].pow(3) }
        assertGradientsMatch([x]) { $0[0].abs() }
        assertGradientsMatch([x]) { $0[0].squared() }
        assertGradientsMatch([x]) { $0[0].clamped(min: -0.5, max: 0.4) }
        assertGradientsMatch([x]) { $0[0].sin() }
        assertGradientsMatch([x]) { $0[0].cos() }
    }

    func testSelection() {
        let a = distinctInput([2, 4], seed: 6), b = distinctInput([4], seed: 7, spacing: 0.071)
        let mask = Tensor(shape: [2, 1], scalars: [1, 0])
        assertGradientsMatch([a, b]) { Tensor.where(mask, $0[0], $0[1]) }
        assertGradientsMatch([a, b]) { Tensor.minimum($0[0], $0[1]) }
        assertGradientsMatch([a, b]) { Tensor.maximum($0[0], $0[1]) }
    }

    func testActivations() {
        let x = randomInput([4, 6], seed: 8, in: -3...3)
        assertGradientsMatch([x]) { $0[0].relu() }
        assertGradientsMatch([x]) { $0[0].leakyRelu(slope: 0.2) }
        assertGradientsMatch([x]) { $0[0].elu() }
        assertGradientsMatch([x]) { $0[0].gelu() }
        assertGradientsMatch([x]) { $0[0].sigmoid() }
        assertGradientsMatch([x]) { $0[0].normalCDF() }
        assertGradientsMatch([x]) { $0[0].tanh() }
        assertGradientsMatch([x]) { $0[0].softplus() }
        assertGradientsMatch([x]) { $0[0].softmax(alongAxis: 1) }
        assertGradientsMatch([x]) { $0[0].logSoftmax(alongAxis: 0) }
    }
}

final class ReductionGradientTests: XCTestCase {
    func testReductions() {
        let x = distinctInput([2, 3, 4], seed: 9)
        for axes: [Int]? in [nil, [0], [1], [2], [0, 2], [-1, 1]] {
            for keep in [false, true] {
                assertGradientsMatch([x]) { $0[0].sum(alongAxes: axes, keepingDimensions: keep) }
                assertGradientsMatch([x]) { $0[0].mean(alongAxes: axes, keepingDimensions: keep) }
                assertGradientsMatch([x]) { $0[0].max(alongAxes: axes, keepingDimensions: keep) }
                assertGradientsMatch([x]) { $0[0].min(alongAxes: axes, keepingDimensions: keep) }
                assertGradientsMatch([x]) { $0[0].variance(alongAxes: axes, keepingDimensions: keep) }
            }
        }
        assertGradientsMatch([x]) { $0[0].variance(alongAxes: [1], unbiased: true) }
    }
}

final class MovementGradientTests: XCTestCase {
    func testShapeChanges() {
        let x = randomInput([2, 3, 4], seed: 10)
        assertGradientsMatch([x]) { $0[0].reshaped([4, -1]) }
        assertGradientsMatch([x]) { $0[0].permuted([2, 0, 1]) }
        assertGradientsMatch([x]) { $0[0].transposed(0, 2) }
        assertGradientsMatch([x]) { $0[0].unsqueezed(1).squeezed(1) }
        let column = randomInput([3, 1], seed: 11)
        assertGradientsMatch([column]) { $0[0].expanded(to: [2, 3, 5]) }
        assertGradientsMatch([column]) { $0[0].repeated([2, 3]) }
    }

    func testSliceAndPad() {
        let x = randomInput([2, 5, 6], seed: 12)
        assertGradientsMatch([x]) { $0[0].sliced(1..<4, alongAxis: 1) }
        assertGradientsMatch([x]) { $0[0].sliced(0..<6, alongAxis: -1, step: 4) }
        assertGradientsMatch([x]) { $0[0].padded([(0, 0), (1, 2), (3, 0)]) }
        assertGradientsMatch([x]) { $0[0].reflectionPadded([(0, 0), (2, 1), (3, 3)]) }
    }

    func testJoinSplitGather() {
        let a = randomInput([2, 3], seed: 13), b = randomInput([2, 2], seed: 14)
        assertGradientsMatch([a, b]) { Tensor.concatenated([$0[0], $0[1], $0[0]], alongAxis: 1) }
        assertGradientsMatch([a]) { x in
            let parts = x[0].split(sizes: [1, 2], alongAxis: 1)
            return parts[0] * parts[1]
        }
        assertGradientsMatch([a]) { $0[0].gathered([2, 0, 2, 1], alongAxis: 1) }
    }
}

final class MatMulGradientTests: XCTestCase {
    func testMatrixProducts() {
        let a = randomInput([3, 4], seed: 15), b = randomInput([4, 5], seed: 16)
        assertGradientsMatch([a, b]) { $0[0].matmul($0[1]) }
        let batchA = randomInput([2, 3, 4], seed: 17), batchB = randomInput([2, 4, 5], seed: 18)
        assertGradientsMatch([batchA, batchB]) { $0[0].matmul($0[1]) }
        assertGradientsMatch([batchA, b]) { $0[0].matmul($0[1]) }
        assertGradientsMatch([a, batchB]) { $0[0].matmul($0[1]) }
    }
}

final class ConvolutionGradientTests: XCTestCase {
    func testConv1d() {
        let x = randomInput([2, 4, 9], seed: 19)
        let bias = randomInput([6], seed: 20)
        for (stride, padding, dilation, groups) in [(1, 0, 1, 1), (2, 2, 1, 1), (1, 2, 2, 1), (2, 1, 1, 2), (1, 1, 1, 4)] {
            let w = randomInput([groups == 4 ? 4 : 6, 4 / groups, 3], seed: 21)
            let b = groups == 4 ? randomInput([4], seed: 22) : bias
            assertGradientsMatch([x, w, b]) {
                $0[0].conv1d(weight: $0[1], bias: $0[2], stride: stride, padding: padding, dilation: dilation, groups: groups)
            }
        }
    }

    func testConv2d() {
        let x = randomInput([2, 4, 6, 7], seed: 23)
        for (stride, padding, dilation, groups) in [((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 2), 2), ((2, 2), (1, 1), (2, 1), 4)] {
            let w = randomInput([4, 4 / groups, 3, 2], seed: 24), b = randomInput([4], seed: 25)
            let options = ConvolutionOptions(stride: stride, padding: padding, dilation: dilation, groups: groups)
            assertGradientsMatch([x, w, b]) { $0[0].conv2d(weight: $0[1], bias: $0[2], options: options) }
        }
    }

    func testTransposedConvolutions() {
        let x1 = randomInput([2, 4, 5], seed: 26)
        let w1 = randomInput([4, 3, 3], seed: 27), b1 = randomInput([6], seed: 28)
        assertGradientsMatch([x1, w1, b1]) {
            $0[0].transposedConv1d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1, dilation: 1, groups: 2)
        }
        assertGradientsMatch([x1, w1]) { $0[0].transposedConv1d(weight: $0[1], stride: 3, padding: 0, outputPadding: 2, dilation: 2) }
        let x2 = randomInput([2, 4, 3, 4], seed: 29)
        let w2 = randomInput([4, 2, 3, 2], seed: 30), b2 = randomInput([4], seed: 31)
        let options = ConvolutionOptions(stride: (2, 3), padding: (1, 0), dilation: (1, 2), groups: 2)
        assertGradientsMatch([x2, w2, b2]) {
            $0[0].transposedConv2d(weight: $0[1], bias: $0[2], options: options, outputPadding: (1, 2))
        }
    }

    func testSeparableFilter() {
        let x = randomInput([2, 3, 7, 9], seed: 34)
        assertGradientsMatch([x]) { $0[0].separableFiltered(horizontal: [0.2, 0.5, 0.3], vertical: [0.1, 0.6, 0.2, 0.1]) }
        // Equals a grouped conv2d with the outer-product kernel.
        let kernel = Tensor(shape: [1, 1, 4, 3], scalars: [0.1, 0.6, 0.2, 0.1].flatMap { u in [0.2, 0.5, 0.3].map { u * $0 } })
        let grouped = x.conv2d(weight: kernel.repeated([3, 1, 1, 1]), options: ConvolutionOptions(groups: 3))
        let separable = x.separableFiltered(horizontal: [0.2, 0.5, 0.3], vertical: [0.1, 0.6, 0.2, 0.1])
        XCTAssertEqual(separable.shape, grouped.shape)
        for (a, b) in zip(separable.scalars, grouped.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testPoolingAndUpsampling() {
        let x = distinctInput([2, 3, 6, 7], seed: 32)
        assertGradientsMatch([x]) { $0[0].maxPool2d(kernel: (2, 2)) }
        assertGradientsMatch([x]) { $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        assertGradientsMatch([x]) { $0[0].averagePool2d(kernel: (3, 2), stride: (2, 1), padding: (1, 1)) }
        assertGradientsMatch([x]) { $0[0].averagePool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludesPadding: false) }
        assertGradientsMatch([x]) { $0[0].globalAveragePool() }
        assertGradientsMatch([x]) { $0[0].upsampledNearest(scale: 2) }
        let sequence = distinctInput([2, 3, 8], seed: 33)
        assertGradientsMatch([sequence]) { $0[0].maxPool1d(kernel: 2) }
        assertGradientsMatch([sequence]) { $0[0].maxPool1d(kernel: 3, stride: 2, padding: 1) }
        assertGradientsMatch([sequence]) { $0[0].averagePool1d(kernel: 3, stride: 2, padding: 1, countIncludesPadding: false) }
        assertGradientsMatch([sequence]) { $0[0].upsampledNearest(scale: 3) }
        assertGradientsMatch([sequence]) { $0[0].globalAveragePool() }
        let volume = distinctInput([2, 2, 2, 3, 2], seed: 34)
        assertGradientsMatch([volume]) { $0[0].upsampledNearest(scale: 2) }
    }

    /// Nearest upsampling equals its definition as reshape → expand → reshape (each element
    /// repeated along an inserted axis per spatial axis), in values and gradients, for 1 to 3
    /// spatial axes.
    func testUpsamplingMatchesTheExpandComposition() {
        for (index, shape) in [[2, 3, 5], [2, 2, 3, 4], [1, 2, 2, 3, 2]].enumerated() {
            let x = randomInput(shape, seed: 40 + UInt64(index)), scale = 3
            let spatial = Array(shape[2...])
            let interleaved = Array(shape[..<2]) + spatial.flatMap { [$0, 1] }
            let expanded = Array(shape[..<2]) + spatial.flatMap { [$0, scale] }
            let reference = x.reshaped(interleaved).expanded(to: expanded).reshaped(Array(shape[..<2]) + spatial.map { $0 * scale })
            let weights = randomInput(reference.shape, seed: 50 + UInt64(index))
            (reference * weights).sum().backward()
            let referenceGradient = x.grad!.scalars
            x.zeroGrad()
            let upsampled = x.upsampledNearest(scale: scale)
            (upsampled * weights).sum().backward()
            XCTAssertEqual(upsampled.shape, reference.shape)
            XCTAssertEqual(upsampled.scalars, reference.scalars)
            for (a, b) in zip(x.grad!.scalars, referenceGradient) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }
}
