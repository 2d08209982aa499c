// Checks every layer against PyTorch, using Fixtures/layers.json made by
// scripts/reference/make_layer_fixtures.py (rerun: python3 scripts/reference/make_layer_fixtures.py).
//
// Each case: the layer is built in a fresh store under scope "layer"; the fixture's
// parameters and buffers are written into the tensors the store holds under the same names
// (a Linear weight is transposed from PyTorch's (out, in) to SplatKit's (in, out)); the layer
// runs in the case's mode; the output must match, then `backward(seed: upstream)` must
// reproduce PyTorch's gradients of sum(output · upstream) for the input and every
// parameter, and training-mode batch norms must leave the expected running statistics.
// Tolerance: |actual − expected| ≤ 1e-4 + 1e-4·|expected|.

import Foundation
import NeuralNetwork
import TensorCore
import TestSupport
import XCTest

// MARK: - Fixture format

/// One case of layers.json.
private struct FixtureCase: Decodable {
    let name: String
    let layer: String
    let params: [String: FixtureParameter]
    let training: Bool
    let input: FixtureTensor
    let parameters: [String: FixtureTensor]
    let buffers: [String: FixtureTensor]
    let output: FixtureTensor
    let upstream: FixtureTensor
    // swiftlint:disable identifier_name
    let grad_input: FixtureTensor
    let grad_parameters: [String: FixtureTensor]
    let updated_buffers: [String: FixtureTensor]
    // swiftlint:enable identifier_name

    func int(_ key: String) throws -> Int { try params.int(key, inCase: name) }
    func ints(_ key: String) throws -> [Int] { try params.ints(key, inCase: name) }
    func bool(_ key: String) throws -> Bool { try params.bool(key, inCase: name) }
    func string(_ key: String) throws -> String { try params.string(key, inCase: name) }

    /// A 2-D hyperparameter stored as [height, width].
    func pair(_ key: String) throws -> IntOrPair {
        let (height, width) = try params.pair(key, inCase: name)
        return IntOrPair(height, width)
    }

    /// A convolution padding: "same", an int (1-D) or [height, width] (2-D).
    func padding(_ key: String) throws -> ConvolutionPadding {
        switch params[key] {
        case .string("same")?: return .same
        case .int(let value)?: return .explicit([value])
        case .ints(let values)?: return .explicit(values)
        default: throw FixtureError.parameter(name, key, "\"same\", an int or a list of ints")
        }
    }

    func convention() throws -> BatchNormConvention {
        switch try string("convention") {
        case "keras": return .keras
        case "pytorch": return .pytorch
        case let other: throw FixtureError.parameter(name, "convention", "keras or pytorch (got \(other))")
        }
    }
}

private struct FixtureFile: Decodable {
    let cases: [FixtureCase]
    let generator: String
    // swiftlint:disable:next identifier_name
    let torch_version: String
}

/// The fixture file, decoded once per test process.
private let fixtureFile = Result { try loadFixtureFile(FixtureFile.self, resource: "layers", bundle: Bundle.module) }

// MARK: - Layer builders

/// The test family of every fixture layer kind, and how to build it from a case.
private let builders: [String: (family: String, build: (FixtureCase, ParameterScope) throws -> Layer)] = [
    "linear": ("linear", { c, scope in
        Linear(try c.int("in"), try c.int("out"), bias: try c.bool("bias"), scope: scope)
    }),
    "conv1d": ("convolution", { c, scope in
        Conv1D(inputChannels: try c.int("in"), outputChannels: try c.int("out"), kernelSize: try c.int("kernel"),
               stride: try c.int("stride"), padding: try c.padding("padding"), dilation: try c.int("dilation"),
               groups: try c.int("groups"), bias: try c.bool("bias"), scope: scope)
    }),
    "conv_transpose1d": ("convolution", { c, scope in
        ConvTranspose1D(inputChannels: try c.int("in"), outputChannels: try c.int("out"), kernelSize: try c.int("kernel"),
                        stride: try c.int("stride"), padding: try c.padding("padding"),
                        outputPadding: try c.int("output_padding"), dilation: try c.int("dilation"),
                        groups: try c.int("groups"), bias: try c.bool("bias"), scope: scope)
    }),
    "conv2d": ("convolution", { c, scope in
        Conv2D(inputChannels: try c.int("in"), outputChannels: try c.int("out"), kernelSize: try c.pair("kernel"),
               stride: try c.pair("stride"), padding: try c.padding("padding"), dilation: try c.pair("dilation"),
               groups: try c.int("groups"), bias: try c.bool("bias"), scope: scope)
    }),
    "conv_transpose2d": ("convolution", { c, scope in
        ConvTranspose2D(inputChannels: try c.int("in"), outputChannels: try c.int("out"), kernelSize: try c.pair("kernel"),
                        stride: try c.pair("stride"), padding: try c.padding("padding"),
                        outputPadding: try c.pair("output_padding"), dilation: try c.pair("dilation"),
                        groups: try c.int("groups"), bias: try c.bool("bias"), scope: scope)
    }),
    "batch_norm1d": ("batchNorm", { c, scope in
        BatchNorm1D(featureCount: try c.int("channels"), convention: try c.convention(), scope: scope)
    }),
    "batch_norm2d": ("batchNorm", { c, scope in
        BatchNorm2D(featureCount: try c.int("channels"), convention: try c.convention(), scope: scope)
    }),
    "group_norm": ("normalization", { c, scope in
        GroupNorm(groupCount: try c.int("groups"), channelCount: try c.int("channels"), scope: scope)
    }),
    "layer_norm": ("normalization", { c, scope in
        LayerNorm(normalizedShape: try c.ints("normalized_shape"), scope: scope)
    }),
    "instance_norm": ("normalization", { c, scope in
        InstanceNorm(channelCount: try c.int("channels"), affine: try c.bool("affine"), scope: scope)
    }),
    "upsampling1d": ("spatial", { c, _ in UpSampling1D(scale: try c.int("scale")) }),
    "upsampling2d": ("spatial", { c, _ in UpSampling2D(scale: try c.int("scale")) }),
    "max_pool1d": ("spatial", { c, _ in
        MaxPool1D(kernelSize: try c.int("kernel"), stride: try c.int("stride"), padding: try c.int("padding"))
    }),
    "max_pool2d": ("spatial", { c, _ in
        MaxPool2D(kernelSize: try c.pair("kernel"), stride: try c.pair("stride"), padding: try c.pair("padding"))
    }),
    "avg_pool1d": ("spatial", { c, _ in
        AvgPool1D(kernelSize: try c.int("kernel"), stride: try c.int("stride"), padding: try c.int("padding"),
                  countIncludesPadding: try c.bool("count_include_pad"))
    }),
    "avg_pool2d": ("spatial", { c, _ in
        AvgPool2D(kernelSize: try c.pair("kernel"), stride: try c.pair("stride"), padding: try c.pair("padding"),
                  countIncludesPadding: try c.bool("count_include_pad"))
    }),
    "global_avg_pool1d": ("spatial", { _, _ in GlobalAveragePool1D() }),
    "global_avg_pool2d": ("spatial", { _, _ in GlobalAveragePool2D() }),
    "reflection_pad1d": ("spatial", { c, _ in
        let p = try c.ints("padding")
        return ReflectionPad1D(left: p[0], right: p[1])
    }),
    "reflection_pad2d": ("spatial", { c, _ in
        let p = try c.ints("padding")  // [top, bottom, left, right]
        return ReflectionPad2D(top: p[0], bottom: p[1], left: p[2], right: p[3])
    }),
    "zero_pad2d": ("spatial", { c, _ in
        let p = try c.ints("padding")  // [top, bottom, left, right]
        return ZeroPad2D(top: p[0], bottom: p[1], left: p[2], right: p[3])
    }),
    "residual_block1d": ("residual", { c, scope in
        let configuration = ResidualBlock1D.Configuration(kernelSize: try c.int("kernel"),
                                                          batchNormConvention: try c.convention())
        return ResidualBlock1D(inputChannels: try c.int("in"), outputChannels: try c.int("out"),
                               configuration: configuration, scope: scope)
    }),
    "residual_block2d": ("residual", { c, scope in
        let configuration = ResidualBlock2D.Configuration(kernelSize: IntOrPair(try c.int("kernel")),
                                                          normalization: .groupNorm(groupCount: try c.int("groups")))
        return ResidualBlock2D(inputChannels: try c.int("in"), outputChannels: try c.int("out"),
                               configuration: configuration, scope: scope)
    }),
]

// MARK: - Tests

final class LayerFixtureTests: XCTestCase {
    private static let absoluteTolerance: Float = 1e-4
    private static let relativeTolerance: Float = 1e-4

    func testEveryFixtureLayerIsCovered() throws {
        let file = try fixtureFile.get()
        XCTAssertFalse(file.cases.isEmpty, "layers.json has no cases")
        let kinds = Set(file.cases.map(\.layer))
        XCTAssertTrue(kinds.subtracting(builders.keys).isEmpty, "fixture layers with no builder: \(kinds.subtracting(builders.keys).sorted())")
        XCTAssertTrue(Set(builders.keys).subtracting(kinds).isEmpty,
                      "builders without fixture cases: \(Set(builders.keys).subtracting(kinds).sorted())")
        let names = file.cases.map(\.name)
        XCTAssertEqual(names.count, Set(names).count, "case names are not unique")
        print("LayerFixtureTests: \(file.cases.count) cases from \(file.generator) (torch \(file.torch_version))")
    }

    func testLinear() throws { try runFamily("linear") }
    func testConvolutions() throws { try runFamily("convolution") }
    func testBatchNorm() throws { try runFamily("batchNorm") }
    func testGroupLayerInstanceNorm() throws { try runFamily("normalization") }
    func testPoolingUpsamplingPadding() throws { try runFamily("spatial") }
    func testResidualBlocks() throws { try runFamily("residual") }

    /// The fixtures exercise both batch-norm conventions in training mode, with updated
    /// running statistics, and inference mode.
    func testBatchNormFixturesCoverBothConventionsAndModes() throws {
        let cases = try fixtureFile.get().cases.filter { $0.layer.hasPrefix("batch_norm") }
        for convention in ["keras", "pytorch"] {
            let trained = cases.filter { (try? $0.string("convention")) == convention && $0.training }
            XCTAssertGreaterThanOrEqual(trained.count, 3, "\(convention): expected NC, NCL and NCHW training cases")
            for c in trained {
                XCTAssertEqual(Set(c.updated_buffers.keys), ["running_mean", "running_variance"], c.name)
            }
        }
        XCTAssertGreaterThanOrEqual(cases.filter { !$0.training }.count, 2, "expected inference-mode cases")
    }

    // MARK: - Harness

    /// Runs every case whose layer belongs to `family`; prints the worst absolute errors.
    private func runFamily(_ family: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try fixtureFile.get().cases.filter { builders[$0.layer]?.family == family }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for family \(family)", file: file, line: line)
        var worst = (output: Float(0), gradient: Float(0), buffer: Float(0))
        for c in cases {
            let errors = try check(c)
            worst = (max(worst.output, errors.output), max(worst.gradient, errors.gradient), max(worst.buffer, errors.buffer))
        }
        print("LayerFixtureTests \(family): \(cases.count) cases, worst |error| output \(worst.output), "
              + "gradients \(worst.gradient), running statistics \(worst.buffer)")
    }

    /// Checks one case; returns the largest absolute errors of output, gradients and buffers.
    private func check(_ c: FixtureCase) throws -> (output: Float, gradient: Float, buffer: Float) {
        guard let builder = builders[c.layer] else { throw FixtureError.unknown("no layer builder for fixture layer \(c.layer)") }
        let store = ParameterStore(seed: 1)
        let layer = try builder.build(c, store.scope("layer"))

        // Every parameter and buffer the layer made must come from the fixture, and vice versa.
        XCTAssertEqual(Set(store.parameters.map(\.name)), Set(c.parameters.keys.map { "layer.\($0)" }), "\(c.name): parameter names")
        XCTAssertEqual(Set(store.buffers.map(\.name)), Set(c.buffers.keys.map { "layer.\($0)" }), "\(c.name): buffer names")
        for (name, value) in c.parameters {
            guard let tensor = store.parameter(named: "layer.\(name)") else { continue }
            load(layout(value, c, name), into: tensor, "\(c.name) parameter \(name)")
        }
        for (name, value) in c.buffers {
            guard let tensor = store.buffer(named: "layer.\(name)") else { continue }
            load(value, into: tensor, "\(c.name) buffer \(name)")
        }

        let x = Tensor(shape: c.input.shape, scalars: c.input.data, requiresGrad: true)
        let y = layer(x, training: c.training)
        guard y.shape == c.output.shape else {
            XCTFail("\(c.name): output shape \(y.shape), expected \(c.output.shape)")
            return (.infinity, .infinity, .infinity)
        }
        let outputError = assertClose(y.scalars, c.output.data, "\(c.name) output")

        var bufferError: Float = 0
        for (name, expected) in c.updated_buffers {
            guard let tensor = store.buffer(named: "layer.\(name)") else {
                XCTFail("\(c.name): no buffer \(name)")
                continue
            }
            XCTAssertFalse(tensor.requiresGrad || tensor.hasGradientHistory, "\(c.name): buffer \(name) joined the graph")
            bufferError = max(bufferError, assertClose(tensor.scalars, expected.data, "\(c.name) updated \(name)"))
        }
        if !c.training {
            for (name, initial) in c.buffers {
                XCTAssertEqual(store.buffer(named: "layer.\(name)")?.scalars, initial.data, "\(c.name): inference changed \(name)")
            }
        }

        XCTAssertTrue(y.requiresGrad, "\(c.name): output does not require gradients")
        XCTAssertEqual(c.upstream.shape, c.output.shape, "\(c.name): upstream shape")
        y.backward(seed: Tensor(shape: c.upstream.shape, scalars: c.upstream.data))
        var gradientError = compareGradient(of: x, c.grad_input, "\(c.name) grad input")
        XCTAssertEqual(Set(c.grad_parameters.keys), Set(c.parameters.keys), "\(c.name): gradients for every parameter")
        for (name, expected) in c.grad_parameters {
            guard let tensor = store.parameter(named: "layer.\(name)") else { continue }
            gradientError = max(gradientError, compareGradient(of: tensor, layout(expected, c, name), "\(c.name) grad \(name)"))
        }
        return (outputError, gradientError, bufferError)
    }

    /// A fixture parameter (or its gradient) in SplatKit's layout: Linear weights are
    /// transposed from PyTorch's (out, in) to (in, out).
    private func layout(_ value: FixtureTensor, _ c: FixtureCase, _ name: String) -> FixtureTensor {
        guard c.layer == "linear" && name == "weight" else { return value }
        let rows = value.shape[0], columns = value.shape[1]
        var data = [Float](repeating: 0, count: value.data.count)
        for r in 0..<rows {
            for k in 0..<columns { data[k * rows + r] = value.data[r * columns + k] }
        }
        return FixtureTensor(shape: [columns, rows], data: data)
    }

    private func load(_ value: FixtureTensor, into tensor: Tensor, _ what: String) {
        XCTAssertEqual(tensor.shape, value.shape, "\(what): shape")
        guard tensor.shape == value.shape else { return }
        tensor.scalars = value.data
    }

    private func compareGradient(of tensor: Tensor, _ expected: FixtureTensor, _ what: String) -> Float {
        guard let grad = tensor.grad else {
            XCTFail("\(what): no gradient")
            return .infinity
        }
        guard grad.shape == expected.shape else {
            XCTFail("\(what): shape \(grad.shape), expected \(expected.shape)")
            return .infinity
        }
        return assertClose(grad.scalars, expected.data, what)
    }

    /// Asserts |actual − expected| ≤ 1e-4 + 1e-4·|expected| elementwise (NaN fails); reports
    /// the first few offending indices. Returns the largest absolute error.
    @discardableResult
    private func assertClose(_ actual: [Float], _ expected: [Float], _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) -> Float {
        guard actual.count == expected.count else {
            XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
            return .infinity
        }
        var worst: Float = 0
        var failures: [String] = []
        var failureCount = 0
        for i in actual.indices {
            let error = abs(actual[i] - expected[i])
            worst = error.isNaN ? .nan : max(worst, error)
            if !(error <= Self.absoluteTolerance + Self.relativeTolerance * abs(expected[i])) {
                failureCount += 1
                if failures.count < 5 { failures.append("[\(i)] \(actual[i]) vs \(expected[i])") }
            }
        }
        if failureCount > 0 {
            XCTFail("\(what): \(failureCount) of \(actual.count) values off (worst |error| \(worst)): "
                    + failures.joined(separator: ", "), file: file, line: line)
        }
        return worst
    }
}
