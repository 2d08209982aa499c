import Foundation
@testable import LatentCoding
import NeuralNetwork
import TensorCore
import TestSupport
import XCTest

/// The scale hyperprior: gradients of its rate by finite differences, the coding-time synthesis
/// against the training graph, the scale tables against the Gaussian they quantise, the scale
/// index's rule, an exact stream whose size is the rate, tables that read back identically, and
/// errors for damaged streams and tables.
final class ScaleHyperpriorTests: XCTestCase {
    /// A small hyperprior (L 6, Z 3, H 5) with every parameter moved by a seeded random amount.
    private func perturbedHyperprior(seed: UInt64, latent: Int = 6, side: Int = 3, hidden: Int = 5) -> (ScaleHyperprior, ParameterStore) {
        let store = ParameterStore(seed: seed)
        let hyperprior = ScaleHyperprior(latentDimensions: latent, sideDimensions: side, hiddenWidth: hidden, scope: store.scope("hyper"))
        var generator = RandomGenerator(seed: seed &+ 1)
        for (_, tensor) in store.parameters {
            tensor.scalars = tensor.scalars.map { $0 + 0.6 * (generator.nextUniform() - 0.5) }
        }
        return (hyperprior, store)
    }

    /// The rate (latent and side bits) in the latent and in every parameter, by central
    /// differences, with the side latent rounded (the noise would change between evaluations).
    func testBitsGradientsByFiniteDifferences() {
        let (hyperprior, store) = perturbedHyperprior(seed: 11)
        var generator = RandomGenerator(seed: 1)
        func rate(_ latent: Tensor) -> Tensor {
            let bits = hyperprior.bits(latent, training: false, generator: &generator)
            return bits.latentBits + bits.sideBits
        }
        let latent = Tensor(shape: [2, 6], scalars: [-2.3, 0.4, 1.7, 3.2, -0.6, 5.1, 0.9, -4.2, 2.6, -1.4, 0.3, -3.7], requiresGrad: true)
        assertGradientsMatch([latent], epsilon: 1e-2, tolerance: 3e-2) { inputs in rate(inputs[0]) }
        // The synthesis and the side prior get gradients through the latent's bits and the side's.
        let fixed = latent.detached()
        let parameters = store.parameters.map(\.tensor)
        assertGradientsMatch(parameters, epsilon: 1e-2, tolerance: 3e-2, maximumElements: 120) { _ in rate(fixed) }
    }

    /// The coding-time loop gives the training graph's log-scales to float rounding, and the same
    /// numbers every time.
    func testCodingSynthesisMatchesTheGraph() {
        let (hyperprior, _) = perturbedHyperprior(seed: 5, latent: 40, side: 7, hidden: 13)
        var generator = RandomGenerator(seed: 2)
        for _ in 0..<20 {
            let side = (0..<7).map { _ in Int32((generator.nextUniform() - 0.5) * 12) }
            let loop = hyperprior.synthesisLogScales(side: side)
            let graph = withoutGradients { hyperprior.logScales(side: Tensor(shape: [1, 7], scalars: side.map(Float.init))) }.scalars
            for (a, b) in zip(loop, graph) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
            XCTAssertEqual(hyperprior.synthesisLogScales(side: side), loop)
        }
    }

    /// Each table scale's frequencies are its Gaussian's bin masses to the 16-bit precision, and
    /// the index rule puts each table log-scale in its own row and clamps the rest.
    func testScaleTablesQuantiseTheGaussianAndTheIndexRule() {
        let tables = GaussianConditional.scaleCodeTables()
        let scales = GaussianConditional.tableScales, boundaries = GaussianConditional.scaleBoundaries
        XCTAssertEqual(tables.channels, GaussianConditional.scaleCount)
        XCTAssertEqual(scales.first!, Double(GaussianConditional.scaleBound), accuracy: 1e-9)
        XCTAssertEqual(scales.last!, GaussianConditional.largestScale, accuracy: 1e-6)
        for (row, scale) in scales.enumerated() where row % 9 == 0 || row == scales.count - 1 {
            let total = Double(FactorizedCodeTables.total)
            for value: Int32 in [0, 1, -2, 5] {
                let index = Int(value) - Int(tables.offsets[row])
                guard (0..<(tables.frequencies[row].count - 1)).contains(index) else { continue }  // outside the support
                let frequency = Double(tables.frequencies[row][index])
                let mass = withoutGradients {
                    GaussianConditional.likelihoods(Tensor(shape: [1], scalars: [Float(value)]), means: Tensor(shape: [1], scalars: [0]),
                                                    scales: Tensor(shape: [1], scalars: [Float(scale)]))
                }.item
                XCTAssertEqual(frequency / total, Double(mass), accuracy: 2e-3 * Double(mass) + Double(tables.frequencies[row].count) / total,
                               "scale \(scale), value \(value)")
            }
        }
        for (row, scale) in scales.enumerated() {
            XCTAssertEqual(GaussianConditional.scaleIndex(logScale: Float(Foundation.log(scale)), boundaries: boundaries), row)
        }
        XCTAssertEqual(GaussianConditional.scaleIndex(logScale: -.infinity, boundaries: boundaries), 0)
        XCTAssertEqual(GaussianConditional.scaleIndex(logScale: 40, boundaries: boundaries), scales.count - 1)
        XCTAssertEqual(GaussianConditional.scaleIndex(logScale: .nan, boundaries: boundaries), scales.count - 1, "NaN: the widest")
    }

    /// Round trip of latents drawn at the predicted scales (escapes among them), and the stream
    /// within 1 % of the rate −Σ log2 P(ẑ) − Σ log2 P(ŷ | σ) the model gives the same values.
    func testTheStreamIsExactAndCostsWhatTheModelSays() throws {
        let (hyperprior, _) = perturbedHyperprior(seed: 8, latent: 24, side: 4, hidden: 9)
        let tables = HyperpriorCodeTables(hyperprior: hyperprior)
        var generator = RandomGenerator(seed: 4)
        let items = 400
        var sides: [Int32] = [], latents: [Int32] = []
        for _ in 0..<items {
            let side = (0..<4).map { _ in Int32(((generator.nextUniform() - 0.5) * 6).rounded()) }
            sides += side
            for logScale in hyperprior.synthesisLogScales(side: side) {
                latents.append(Int32((Foundation.exp(logScale) * generator.nextNormal()).rounded()))
            }
        }
        latents[7] = 1_000_000  // far outside every support: escaped
        latents[8] = Int32.min
        let bytes = HyperpriorStream.encode(latents: latents, sides: sides, hyperprior: hyperprior, tables: tables)
        let decoded = try HyperpriorStream.decode(bytes, items: items, hyperprior: hyperprior, tables: tables)
        XCTAssertEqual(decoded.latents, latents)
        XCTAssertEqual(decoded.sides, sides)

        latents[7] = 0
        latents[8] = 0
        let plain = HyperpriorStream.encode(latents: latents, sides: sides, hyperprior: hyperprior, tables: tables)
        let rate = withoutGradients {
            let side = Tensor(shape: [items, 4], scalars: sides.map(Float.init))
            let scales = hyperprior.logScales(side: side).exp()
            let latent = Tensor(shape: [items, 24], scalars: latents.map(Float.init))
            return GaussianConditional.bits(latent, means: Tensor.zeros(latent.shape), scales: scales) + hyperprior.sidePrior.bits(side)
        }.item
        let coded = Float(plain.count * 8)
        XCTAssertLessThan(abs(coded - rate) / rate, 0.01, "coded \(coded) bits, rate \(rate) bits")
    }

    /// The tables as a model file stores them read back to the same integers; bad boundaries and
    /// damaged streams are errors, not crashes.
    func testTablesReadBackAndDamageIsAnError() throws {
        let (hyperprior, _) = perturbedHyperprior(seed: 9)
        let tables = HyperpriorCodeTables(hyperprior: hyperprior)
        XCTAssertEqual(try HyperpriorCodeTables(tensors: tables.tensors), tables)
        XCTAssertEqual(tables.tensors["scales.frequencies"]?.rank, 1, "the scale tables are stored packed")
        for packed in [false, true] {
            XCTAssertEqual(try FactorizedCodeTables(tensors: tables.scales.tensors(packed: packed)), tables.scales)
        }
        var short = tables.scales.tensors(packed: true)
        short["frequencies"] = Tensor(shape: [10], scalars: Array(short["frequencies"]!.scalars.prefix(10)))
        XCTAssertThrowsError(try FactorizedCodeTables(tensors: short)) { XCTAssertTrue("\($0)".contains("frequencies"), "\($0)") }
        XCTAssertEqual(HyperpriorCodeTables(hyperprior: hyperprior), tables, "made again: the same integers")
        var tensors = tables.tensors
        tensors["boundaries"] = Tensor(shape: [3], scalars: [0, 1, 2])
        XCTAssertThrowsError(try HyperpriorCodeTables(tensors: tensors)) { XCTAssertTrue("\($0)".contains("boundaries"), "\($0)") }
        var reversed = tables.boundaries
        reversed.swapAt(0, 1)
        XCTAssertThrowsError(try HyperpriorCodeTables(side: tables.side, scales: tables.scales, boundaries: reversed))

        var generator = RandomGenerator(seed: 3)
        let sides = (0..<(5 * 3)).map { _ in Int32(((generator.nextUniform() - 0.5) * 4).rounded()) }
        let latents = (0..<(5 * 6)).map { _ in Int32(((generator.nextUniform() - 0.5) * 10).rounded()) }
        let bytes = HyperpriorStream.encode(latents: latents, sides: sides, hyperprior: hyperprior, tables: tables)
        XCTAssertThrowsError(try HyperpriorStream.decode(Array(bytes.prefix(bytes.count / 3)), items: 5, hyperprior: hyperprior, tables: tables))
        XCTAssertThrowsError(try HyperpriorStream.decode(bytes, items: -1, hyperprior: hyperprior, tables: tables))
        for trial in 0..<200 {  // random damage: an error or some values, never a crash or a hang
            var damaged = bytes
            damaged[trial % damaged.count] ^= UInt8(1 + trial % 255)
            _ = try? HyperpriorStream.decode(damaged, items: 5, hyperprior: hyperprior, tables: tables)
        }
    }
}
