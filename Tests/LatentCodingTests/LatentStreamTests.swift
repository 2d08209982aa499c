import EntropyCoding
import Foundation
@testable import LatentCoding
import NeuralNetwork
import TensorCore
import TestSupport
import XCTest

/// The code tables and the latent stream: exact round trips, the coded size against the
/// model's rate, tables that are the same integers however often they are made, and clear
/// errors for bad tables and damaged streams.
final class LatentStreamTests: XCTestCase {
    /// `items` × C values drawn from the tables' own support frequencies (seeded).
    private func sample(_ tables: FactorizedCodeTables, items: Int, seed: UInt64) -> [Int32] {
        var generator = RandomGenerator(seed: seed)
        var values: [Int32] = []
        for _ in 0..<items {
            for channel in 0..<tables.channels {
                let table = tables.frequencies[channel].dropLast()  // support values only
                var target = UInt32(generator.nextUniform() * Float(table.reduce(0, +)))
                var index = 0
                while index < table.count - 1 && target >= table[index] { target -= table[index]; index += 1 }
                values.append(tables.offsets[channel] + Int32(index))
            }
        }
        return values
    }

    /// Round trip, and the stream's size within 1 % of the rate the prior gives the values
    /// (−Σ log2 P, what training minimises).
    func testTheStreamIsExactAndCostsWhatThePriorSays() throws {
        let prior = perturbedPrior(channels: 6, seed: 3)
        let tables = FactorizedCodeTables(prior: prior)
        let values = sample(tables, items: 3000, seed: 9)
        let bytes = LatentStream.encode(values, tables: tables)
        XCTAssertEqual(try LatentStream.decode(bytes, items: 3000, tables: tables), values)
        let rate = withoutGradients { prior.bits(Tensor(shape: [3000, 6], scalars: values.map(Float.init))) }.item
        let coded = Float(bytes.count * 8)
        XCTAssertLessThan(abs(coded - rate) / rate, 0.01, "coded \(coded) bits, rate \(rate) bits")
    }

    /// Values outside every support (escapes), the extremes of Int32 among them, round-trip.
    func testValuesOutsideTheSupportRoundTrip() throws {
        let tables = FactorizedCodeTables(prior: perturbedPrior(channels: 3, seed: 5))
        let values: [Int32] = [Int32.min, Int32.max, 0, -100_000, 70_000, 1, 12, -3, Int32.max - 1]
        let bytes = LatentStream.encode(values, tables: tables)
        XCTAssertEqual(try LatentStream.decode(bytes, items: 3, tables: tables), values)
    }

    /// The tables are integers: made twice from the same prior they are identical, their
    /// frequencies are positive and sum to 2^16, and the support holds all but a sliver.
    func testTablesAreDeterministicAndValid() throws {
        let prior = perturbedPrior(channels: 5, seed: 8)
        let tables = FactorizedCodeTables(prior: prior)
        XCTAssertEqual(tables, FactorizedCodeTables(prior: prior))
        XCTAssertEqual(try FactorizedCodeTables(offsets: tables.offsets, frequencies: tables.frequencies), tables)
        XCTAssertEqual(try FactorizedCodeTables(tensors: tables.tensors), tables, "through a model file's tensors")
        var damaged = tables.tensors
        damaged["counts"] = Tensor(shape: [5], scalars: [1, 3, 3, 3, 3])
        XCTAssertThrowsError(try FactorizedCodeTables(tensors: damaged))
        damaged = tables.tensors
        damaged["offsets"] = Tensor(shape: [5], scalars: [0.5, 0, 0, 0, 0])
        XCTAssertThrowsError(try FactorizedCodeTables(tensors: damaged))
        for table in tables.frequencies {
            XCTAssertEqual(table.reduce(0, +), FactorizedCodeTables.total)
            XCTAssertTrue(table.allSatisfy { $0 >= 1 })
            XCTAssertGreaterThan(table.count, 3)
            XCTAssertLessThan(table.last!, 8, "the escape is rare")
        }
    }

    func testQuantisedFrequenciesKeepEverySymbolAndSumExactly() {
        for masses: [Double] in [[1, 0, 0], [0, 0, 0], [0.5, 0.5], [1e-12, 0.3, 0.7 - 1e-12], Array(repeating: 1.0 / 4095, count: 4095) + [0]] {
            let frequencies = FactorizedCodeTables.quantized(masses)
            XCTAssertEqual(frequencies.reduce(0, +), FactorizedCodeTables.total)
            XCTAssertTrue(frequencies.allSatisfy { $0 >= 1 })
        }
    }

    func testBadTablesAreRefused() {
        let good: [UInt32] = [FactorizedCodeTables.total - 2, 1, 1]
        XCTAssertThrowsError(try FactorizedCodeTables(offsets: [], frequencies: []))
        XCTAssertThrowsError(try FactorizedCodeTables(offsets: [0, 0], frequencies: [good]))
        XCTAssertThrowsError(try FactorizedCodeTables(offsets: [0], frequencies: [[FactorizedCodeTables.total - 2, 1, 0, 1]]))
        XCTAssertThrowsError(try FactorizedCodeTables(offsets: [0], frequencies: [[5, 6]]))
        XCTAssertThrowsError(try FactorizedCodeTables(offsets: [Int32.max], frequencies: [good]))
        XCTAssertNoThrow(try FactorizedCodeTables(offsets: [-7], frequencies: [good]))
    }

    /// Truncated streams are errors; flipped bytes give an error or other values, never a crash.
    func testDamagedStreamsGiveErrorsNotCrashes() throws {
        let tables = FactorizedCodeTables(prior: perturbedPrior(channels: 4, seed: 2))
        let values = sample(tables, items: 200, seed: 1)
        let bytes = LatentStream.encode(values, tables: tables)
        for cut in [0, 1, bytes.count / 2, bytes.count - 5] {
            XCTAssertThrowsError(try LatentStream.decode(Array(bytes.prefix(cut)), items: 200, tables: tables), "cut at \(cut)") { error in
                XCTAssertTrue("\(error)".contains("corrupt latent stream"), "\(error)")
            }
        }
        var generator = RandomGenerator(seed: 12)
        for _ in 0..<500 {
            var damaged = bytes
            damaged[Int(generator.nextUniform() * Float(damaged.count - 1))] ^= UInt8(1 + Int(generator.nextUniform() * 254))
            _ = try? LatentStream.decode(damaged, items: 200, tables: tables)
        }
        XCTAssertThrowsError(try LatentStream.decode(bytes, items: -1, tables: tables))
    }
}

/// The learned code's container: exact round trip, and every damaged, truncated or forged file
/// is an error (thousands of random mutations, none crashes).
final class LatentCodeFileTests: XCTestCase {
    func testRoundTripAndDamage() throws {
        let tables = FactorizedCodeTables(prior: perturbedPrior(channels: 8, seed: 6))
        let latents: [Int32] = [0, 1, -2, 3, 40, -1, 0, 2]
        let fingerprint = latentModelFingerprint(tables: [tables], parameters: [Tensor(shape: [2], scalars: [1, 2])])
        let code = LatentCodeFile(latents: latents, tables: tables, fingerprint: fingerprint, width: 768, height: 512)
        let bytes = code.bytes
        XCTAssertTrue(LatentCodeFile.isLatentCode(bytes))
        let read = try LatentCodeFile(bytes: bytes)
        XCTAssertEqual(read, code)
        XCTAssertEqual(try read.latents(tables: tables), latents)
        XCTAssertEqual(bytes.count, LatentCodeFile.headerSize + code.stream.count + LatentCodeFile.checksumSize)
        XCTAssertNotEqual(fingerprint, latentModelFingerprint(tables: [tables], parameters: [Tensor(shape: [2], scalars: [1, 2.0001])]))

        for cut in [0, 5, 23, bytes.count - 1] {
            XCTAssertThrowsError(try LatentCodeFile(bytes: Array(bytes.prefix(cut))), "cut at \(cut)")
        }
        var generator = RandomGenerator(seed: 3)
        var rejected = 0
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<(1 + Int(generator.nextUniform() * 3)) {
                damaged[Int(generator.nextUniform() * Float(damaged.count - 1))] ^= UInt8(1 + Int(generator.nextUniform() * 254))
            }
            if (try? LatentCodeFile(bytes: damaged).latents(tables: tables)) == nil { rejected += 1 }
        }
        XCTAssertEqual(rejected, 2000, "the CRC-32 catches every damaged file")
        // A forged header with a valid checksum: a wrong latent size is refused by the tables.
        var forged = Array(bytes[0..<(bytes.count - 4)])
        forged[14] = 9  // L = 9
        appendLittleEndian(crc32(forged), to: &forged)
        XCTAssertThrowsError(try LatentCodeFile(bytes: forged).latents(tables: tables)) { error in
            XCTAssertTrue("\(error)".contains("9 dimensions"), "\(error)")
        }
        XCTAssertFalse(LatentCodeFile.isLatentCode(Array("SKGC\u{1}\u{1}".utf8)))
    }
}

extension LatentStreamTests {
    /// A diverged prior (NaN parameters) still gives valid tables instead of a trap (its
    /// checkpoint is refused later, for its non-finite parameters).
    func testADivergedPriorGivesValidTables() throws {
        let prior = perturbedPrior(channels: 2, seed: 1)
        prior.biases[0].scalars = prior.biases[0].scalars.map { _ in Float.nan }
        let tables = FactorizedCodeTables(prior: prior)
        XCTAssertEqual(tables.channels, 2)
        XCTAssertTrue(tables.frequencies.allSatisfy { $0.reduce(0, +) == FactorizedCodeTables.total })
    }
}
