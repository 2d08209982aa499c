// Checks TensorCore's convolution, pooling and resampling ops (forward values and input /
// weight / bias gradients) against PyTorch, using the fixtures in Fixtures/ops.json made by
// scripts/reference/make_tensor_fixtures.py.
//
// Every case: inputs get requiresGrad, the op runs, the output must match the fixture's shape
// and values, then `backward(seed: upstream)` must reproduce PyTorch's gradients of
// sum(output · upstream). Tolerance: |actual − expected| ≤ 1e-4 + 1e-4·|expected|.

import Foundation
import TestSupport
import XCTest
@testable import TensorCore

// MARK: - Fixture format

/// One case of ops.json.
private struct FixtureCase: Decodable {
    let name: String
    let op: String
    let params: [String: FixtureParameter]
    let input: FixtureTensor
    let weight: FixtureTensor?
    let bias: FixtureTensor?
    let output: FixtureTensor
    let upstream: FixtureTensor
    // swiftlint:disable identifier_name
    let grad_input: FixtureTensor
    let grad_weight: FixtureTensor?
    let grad_bias: FixtureTensor?
    // swiftlint:enable identifier_name

    /// An integer parameter (1-D ops store scalars).
    func int(_ key: String) throws -> Int { try params.int(key, inCase: name) }

    /// A pair parameter (2-D ops store [height, width]).
    func pair(_ key: String) throws -> (Int, Int) { try params.pair(key, inCase: name) }

    func bool(_ key: String) throws -> Bool { try params.bool(key, inCase: name) }
}

private struct FixtureFile: Decodable {
    let cases: [FixtureCase]
    let generator: String
    // swiftlint:disable:next identifier_name
    let torch_version: String
}

/// The fixture file, decoded once per test process.
private let fixtureFile = Result { try loadFixtureFile(FixtureFile.self, resource: "ops", bundle: Bundle.module) }

// MARK: - Tests

final class PyTorchFixtureTests: XCTestCase {
    /// The test family of every op the fixtures may hold. A fixture op missing here fails
    /// `testEveryFixtureOpIsCovered`, so a new op cannot be silently skipped.
    private static let familyOfOp: [String: String] = [
        "conv1d": "conv1d",
        "conv2d": "conv2d",
        "conv_transpose1d": "transposed1d",
        "conv_transpose2d": "transposed2d",
        "max_pool1d": "maxPool",
        "max_pool2d": "maxPool",
        "avg_pool1d": "averagePool",
        "avg_pool2d": "averagePool",
        "upsample_nearest1d": "upsampling",
        "upsample_nearest2d": "upsampling",
        "global_avg_pool1d": "globalPool",
        "global_avg_pool2d": "globalPool",
    ]

    private static let absoluteTolerance: Float = 1e-4
    private static let relativeTolerance: Float = 1e-4

    // MARK: Coverage

    func testEveryFixtureOpIsCovered() throws {
        let file = try fixtureFile.get()
        XCTAssertFalse(file.cases.isEmpty, "ops.json has no cases")
        let unknown = Set(file.cases.map(\.op)).subtracting(Self.familyOfOp.keys)
        XCTAssertTrue(unknown.isEmpty, "fixture ops with no test: \(unknown.sorted())")
        let names = file.cases.map(\.name)
        XCTAssertEqual(names.count, Set(names).count, "case names are not unique")
        // Every op the tests know about should still have fixtures.
        let missing = Set(Self.familyOfOp.keys).subtracting(file.cases.map(\.op))
        XCTAssertTrue(missing.isEmpty, "known ops without fixture cases: \(missing.sorted())")
        var perOp: [String: Int] = [:]
        for c in file.cases { perOp[c.op, default: 0] += 1 }
        print("PyTorchFixtureTests: \(file.cases.count) cases from \(file.generator) (torch \(file.torch_version)): "
              + perOp.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
    }

    // MARK: Convolutions

    func testConv1d() throws {
        try runFamily("conv1d") { c, x, w, b in
            x.conv1d(weight: w!, bias: b, stride: try c.int("stride"), padding: try c.int("padding"),
                     dilation: try c.int("dilation"), groups: try c.int("groups"))
        }
    }

    func testConv2d() throws {
        try runFamily("conv2d") { c, x, w, b in
            let options = ConvolutionOptions(stride: try c.pair("stride"), padding: try c.pair("padding"),
                                             dilation: try c.pair("dilation"), groups: try c.int("groups"))
            return x.conv2d(weight: w!, bias: b, options: options)
        }
    }

    func testTransposedConv1d() throws {
        try runFamily("transposed1d") { c, x, w, b in
            x.transposedConv1d(weight: w!, bias: b, stride: try c.int("stride"), padding: try c.int("padding"),
                               outputPadding: try c.int("output_padding"), dilation: try c.int("dilation"),
                               groups: try c.int("groups"))
        }
    }

    func testTransposedConv2d() throws {
        try runFamily("transposed2d") { c, x, w, b in
            let options = ConvolutionOptions(stride: try c.pair("stride"), padding: try c.pair("padding"),
                                             dilation: try c.pair("dilation"), groups: try c.int("groups"))
            return x.transposedConv2d(weight: w!, bias: b, options: options, outputPadding: try c.pair("output_padding"))
        }
    }

    // MARK: Pooling and resampling

    func testMaxPools() throws {
        try runFamily("maxPool") { c, x, _, _ in
            switch c.op {
            case "max_pool1d":
                return x.maxPool1d(kernel: try c.int("kernel"), stride: try c.int("stride"), padding: try c.int("padding"))
            default:
                return x.maxPool2d(kernel: try c.pair("kernel"), stride: try c.pair("stride"), padding: try c.pair("padding"))
            }
        }
    }

    func testAveragePools() throws {
        try runFamily("averagePool") { c, x, _, _ in
            switch c.op {
            case "avg_pool1d":
                return x.averagePool1d(kernel: try c.int("kernel"), stride: try c.int("stride"), padding: try c.int("padding"),
                                       countIncludesPadding: try c.bool("count_include_pad"))
            default:
                return x.averagePool2d(kernel: try c.pair("kernel"), stride: try c.pair("stride"), padding: try c.pair("padding"),
                                       countIncludesPadding: try c.bool("count_include_pad"))
            }
        }
    }

    func testNearestUpsampling() throws {
        try runFamily("upsampling") { c, x, _, _ in
            x.upsampledNearest(scale: try c.int("scale"))
        }
    }

    func testGlobalAveragePools() throws {
        try runFamily("globalPool") { _, x, _, _ in
            x.globalAveragePool()
        }
    }

    // MARK: - Harness

    /// Runs every case whose op belongs to `family` through `op(case, input, weight, bias)`.
    private func runFamily(_ family: String, file: StaticString = #filePath, line: UInt = #line,
                           _ op: (FixtureCase, Tensor, Tensor?, Tensor?) throws -> Tensor) throws {
        let cases = try fixtureFile.get().cases.filter { Self.familyOfOp[$0.op] == family }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for family \(family)", file: file, line: line)
        var worstOutput: Float = 0, worstGradient: Float = 0
        for c in cases {
            let (output, gradient) = try check(c, op)
            worstOutput = max(worstOutput, output)
            worstGradient = max(worstGradient, gradient)
        }
        print("PyTorchFixtureTests \(family): \(cases.count) cases, worst |error| output \(worstOutput), gradients \(worstGradient)")
    }

    /// Checks one case; returns the largest absolute error of the output and of the gradients.
    private func check(_ c: FixtureCase, _ op: (FixtureCase, Tensor, Tensor?, Tensor?) throws -> Tensor) throws -> (Float, Float) {
        let x = makeTensor(c.input, "input", c)
        let w = c.weight.map { makeTensor($0, "weight", c) }
        let b = c.bias.map { makeTensor($0, "bias", c) }
        XCTAssertEqual(c.weight == nil, c.grad_weight == nil, "\(c.name): weight and grad_weight disagree")
        XCTAssertEqual(c.bias == nil, c.grad_bias == nil, "\(c.name): bias and grad_bias disagree")

        let y = try op(c, x, w, b)
        guard y.shape == c.output.shape else {
            XCTFail("\(c.name): output shape \(y.shape), expected \(c.output.shape)")
            return (.infinity, .infinity)
        }
        let outputError = assertClose(y.scalars, c.output.data, "\(c.name) output")

        guard y.requiresGrad else {
            XCTFail("\(c.name): output does not require gradients")
            return (outputError, .infinity)
        }
        XCTAssertEqual(c.upstream.shape, c.output.shape, "\(c.name): upstream shape")
        y.backward(seed: Tensor(shape: c.upstream.shape, scalars: c.upstream.data))

        var gradientError = compareGradient(of: x, c.grad_input, "input", c)
        if let w, let expected = c.grad_weight { gradientError = max(gradientError, compareGradient(of: w, expected, "weight", c)) }
        if let b, let expected = c.grad_bias { gradientError = max(gradientError, compareGradient(of: b, expected, "bias", c)) }
        return (outputError, gradientError)
    }

    private func makeTensor(_ fixture: FixtureTensor, _ role: String, _ c: FixtureCase) -> Tensor {
        precondition(fixture.shape.reduce(1, *) == fixture.data.count,
                     "\(c.name): \(role) shape \(fixture.shape) does not hold \(fixture.data.count) values")
        return Tensor(shape: fixture.shape, scalars: fixture.data, requiresGrad: true)
    }

    private func compareGradient(of tensor: Tensor, _ expected: FixtureTensor, _ role: String, _ c: FixtureCase) -> Float {
        guard let grad = tensor.grad else {
            XCTFail("\(c.name): \(role) received no gradient")
            return .infinity
        }
        guard grad.shape == expected.shape else {
            XCTFail("\(c.name): grad \(role) shape \(grad.shape), expected \(expected.shape)")
            return .infinity
        }
        return assertClose(grad.scalars, expected.data, "\(c.name) grad \(role)")
    }

    /// Asserts |actual − expected| ≤ 1e-4 + 1e-4·|expected| elementwise (NaN fails); reports the
    /// first few offending indices. Returns the largest absolute error.
    @discardableResult
    private func assertClose(_ actual: [Float], _ expected: [Float], _ what: String,
                             absoluteTolerance: Float = PyTorchFixtureTests.absoluteTolerance,
                             relativeTolerance: Float = PyTorchFixtureTests.relativeTolerance,
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
            if !(error <= absoluteTolerance + relativeTolerance * abs(expected[i])) {
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
