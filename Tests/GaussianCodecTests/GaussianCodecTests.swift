import EntropyCoding
import GaussianRasterizer
import SplatIO
import TensorCore
import XCTest
@testable import GaussianCodec

/// Random Image-GS rows (N, 8): positions in the image (some outside), signed scales, any θ,
/// colours a little beyond [0, 1].
private func randomRows(count: Int, seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    var rows: [Float] = []
    for _ in 0..<count {
        let sign: Float = generator.nextUniform() < 0.2 ? -1 : 1
        rows += [generator.nextUniform() * 1.1 - 0.05, generator.nextUniform(), sign * (0.1 + generator.nextUniform()),
                 0.1 + generator.nextUniform(), (generator.nextUniform() - 0.5) * 20,
                 generator.nextUniform() * 1.2 - 0.1, generator.nextUniform(), generator.nextUniform()]
    }
    return Tensor(shape: [count, 8], scalars: rows)
}

/// A smooth test picture (3, H, W) in [0, 1].
private func testPicture(width: Int, height: Int) -> Tensor {
    var scalars = [Float](repeating: 0, count: 3 * width * height)
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                let u = Float(x) / Float(width), v = Float(y) / Float(height)
                scalars[(c * height + y) * width + x] = 0.5 + 0.4 * sin(6 * u + Float(c) + 3 * v * v) * cos(4 * v - Float(c))
            }
        }
    }
    return Tensor(shape: [3, height, width], scalars: scalars)
}

final class GaussianCodecTests: XCTestCase {
    private let bits = QuantizationBits(position: 7, scale: 5, rotation: 6, colour: 6)

    private func stream(count: Int = 300, seed: UInt64 = 1) -> CompressedGaussianImage {
        let rows = randomRows(count: count, seed: seed)
        let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(covering: rows, width: 40, height: 30, tail: 0))
        return CompressedGaussianImage(width: 40, height: 30, renderer: .topK, topK: 10, quantizer: quantizer,
                                       symbols: quantizer.quantized(rows))
    }

    func testQuantisedValuesLieOnTheirGrids() {
        let rows = randomRows(count: 500, seed: 2)
        let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(covering: rows, width: 40, height: 30, tail: 0))
        let q = quantizer.quantized(rows)
        for array in [q.x, q.y] { XCTAssertTrue(array.allSatisfy { $0 < 1 << 7 }) }
        for array in [q.scaleX, q.scaleY] { XCTAssertTrue(array.allSatisfy { $0 < 1 << 5 }) }
        XCTAssertTrue(q.rotation.allSatisfy { $0 < 1 << 6 })
        XCTAssertEqual(quantizer.colourLevels[0], 64)
        for (c, array) in q.colour.enumerated() { XCTAssertTrue(array.allSatisfy { Int($0) < quantizer.colourLevels[c] }) }
        XCTAssertTrue(quantizer.colourLevels[1...].allSatisfy { $0 >= 2 && $0 <= 4096 })
        // Projection is idempotent: values on the grid stay where they are.
        let projected = quantizer.projected(rows)
        XCTAssertEqual(quantizer.quantized(projected), q)
        XCTAssertEqual(quantizer.projected(projected).scalars, projected.scalars)
        // Every colour component's grid has the luma step; inside the ranges each component's error is
        // at most half a step, so red's is at most (1/√3 + 1/√2 + 1/√6)·step/2.
        let step = (quantizer.ranges.colour[0].upperBound - quantizer.ranges.colour[0].lowerBound) / 63
        for c in 1...2 {
            let chroma = quantizer.ranges.colour[c]
            XCTAssertEqual((chroma.upperBound - chroma.lowerBound) / Float(quantizer.colourLevels[c] - 1), step, accuracy: step * 1e-4)
        }
        for g in 0..<500 {
            XCTAssertEqual(projected.scalars[g * 8 + 5], rows.scalars[g * 8 + 5], accuracy: 0.846 * step + 1e-5)
            XCTAssertEqual(projected.scalars[g * 8 + 2].sign, rows.scalars[g * 8 + 2].sign, "projection keeps a scale's sign")
        }
    }

    func testMortonCellInvertsMortonCode() {
        var generator = RandomGenerator(seed: 11)
        for _ in 0..<1000 {
            let (column, row) = (UInt32(generator.nextInt(below: 1 << 16)), UInt32(generator.nextInt(below: 1 << 16)))
            let cell = mortonCell(mortonCode(column: column, row: row))
            XCTAssertEqual(cell.column, column)
            XCTAssertEqual(cell.row, row)
        }
        XCTAssertEqual(mortonCode(column: 1, row: 0), 1)
        XCTAssertEqual(mortonCode(column: 0, row: 1), 2)
    }

    func testColourBasisIsOrthonormal() {
        for (r, g, b): (Float, Float, Float) in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0.3, -0.2, 1.7)] {
            let components = ColourBasis.forward(r, g, b)
            XCTAssertEqual(components.map { $0 * $0 }.reduce(0, +), r * r + g * g + b * b, accuracy: 1e-5, "lengths kept")
            let back = ColourBasis.inverse(components)
            XCTAssertEqual(back.red, r, accuracy: 1e-6); XCTAssertEqual(back.green, g, accuracy: 1e-6); XCTAssertEqual(back.blue, b, accuracy: 1e-6)
        }
        XCTAssertEqual(ColourBasis.forward(1, 1, 1)[1], 0, accuracy: 1e-7, "grey has no chroma")
        XCTAssertEqual(ColourBasis.forward(1, 1, 1)[2], 0, accuracy: 1e-7)
    }

    func testCanonicalFormDrawsTheSameEllipses() {
        let rows = randomRows(count: 200, seed: 3)
        let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(covering: rows, width: 40, height: 30, tail: 0))
        let q = quantizer.quantized(rows)
        let canonical = canonicalized(q, bits: bits)
        XCTAssertTrue((0..<canonical.count).allSatisfy { canonical.scaleX[$0] >= canonical.scaleY[$0] })
        // The same multiset of conics: compare screen features sorted.
        func conics(_ t: Tensor) -> [[Float]] {
            let f = imageGSScreenFeatures(t, width: 40, height: 30).scalars
            return (0..<t.shape[0]).map { g in (0..<8).map { (f[g * 8 + $0] * 1000).rounded() / 1000 } }
                .sorted { $0.lexicographicallyPrecedes($1) }
        }
        let before = conics(quantizer.dequantized(q)), after = conics(quantizer.dequantized(canonical))
        for (a, b) in zip(before, after) {
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 2e-3 * Swift.max(1, abs(x))) }
        }
        // Any row order gives the same stream.
        let permutation = Array((0..<200).reversed())
        var shuffled = QuantizedGaussians(count: 200)
        for (i, g) in permutation.enumerated() {
            shuffled.x[i] = q.x[g]; shuffled.y[i] = q.y[g]; shuffled.scaleX[i] = q.scaleX[g]; shuffled.scaleY[i] = q.scaleY[g]
            shuffled.rotation[i] = q.rotation[g]
            for c in 0..<3 { shuffled.colour[c][i] = q.colour[c][g] }
        }
        XCTAssertEqual(canonicalized(shuffled, bits: bits), canonical)
    }

    func testStreamRoundTripsAndRendersBitForBit() throws {
        let original = stream()
        let bytes = original.bytes
        let decoded = try CompressedGaussianImage(bytes: bytes)
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.bytes, bytes)
        XCTAssertEqual(decoded.render().scalars, original.render().scalars)
        XCTAssertEqual(decoded.render(width: 80, height: 60).shape, [3, 60, 80])
        XCTAssertEqual(bytes.count, CompressedGaussianImage.headerSize + original.payload.count + 4)
    }

    func testFileRoundTripAndErrorsNameTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/a.sgi"
        try stream().write(to: path)
        XCTAssertEqual(try CompressedGaussianImage(contentsOf: path), stream())
        var bytes = stream().bytes
        bytes[bytes.count / 2] ^= 0x10
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        XCTAssertThrowsError(try CompressedGaussianImage(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("CRC-32"), "\(error)")
        }
        XCTAssertThrowsError(try CompressedGaussianImage(contentsOf: folder + "/missing.sgi")) { error in
            XCTAssertTrue("\(error)".contains("missing.sgi"), "\(error)")
        }
        XCTAssertThrowsError(try CompressedGaussianImage(contentsOf: folder)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testTruncatedAndForgedHeadersAreClearErrors() {
        let bytes = stream().bytes
        for length in [0, 3, 20, 60, bytes.count - 1] {
            XCTAssertThrowsError(try CompressedGaussianImage(bytes: Array(bytes.prefix(length))), "length \(length)")
        }
        /// Rewrites a header field and fixes the checksum, as a forger would.
        func forged(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var copy = Array(bytes.dropLast(4))
            edit(&copy)
            let crc = crc32(copy)
            return copy + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) }
        }
        let cases: [(String, (inout [UInt8]) -> Void)] = [
            ("magic", { $0[0] = 0x51 }), ("version", { $0[4] = 9 }), ("kind", { $0[5] = 2 }),
            ("width 0", { $0[6] = 0; $0[7] = 0 }), ("renderer", { $0[10] = 7 }), ("top-K 0", { $0[11] = 0 }),
            ("count 0", { $0[12...15] = [0, 0, 0, 0] }), ("count huge", { $0[12...15] = [255, 255, 255, 127] }),
            ("position bits", { $0[16] = 17 }), ("scale bits 0", { $0[17] = 0 }), ("modes", { $0[20] = 0xFF }),
            ("range NaN", { $0[21...24] = [0, 0, 0xC0, 0x7F] }), ("range reversed", { $0[25...28] = [0, 0, 0x80, 0xFF] }),
            ("chroma levels 1", { $0[53...54] = [1, 0] }), ("chroma levels huge", { $0[55...56] = [255, 255] }),
            ("payload size", { $0[57] &+= 1 }),
        ]
        for (name, edit) in cases {
            XCTAssertThrowsError(try CompressedGaussianImage(bytes: forged(edit)), name) { error in
                XCTAssertTrue(error is CodecError, "\(name): \(error)")
            }
        }
    }

    /// A few thousand mutations (bit flips, byte changes, cuts, insertions), half of them with
    /// the checksum fixed so that the symbol decoder itself sees the damage: none may trap, and
    /// every accepted stream renders.
    func testMutatedStreamsNeverCrash() {
        let bytes = stream(count: 60).bytes
        var generator = RandomGenerator(seed: 9)
        var accepted = 0, rejected = 0
        for trial in 0..<3000 {
            var copy = bytes
            switch trial % 4 {
            case 0: for _ in 0...generator.nextInt(below: 4) { copy[generator.nextInt(below: copy.count)] ^= UInt8(1 << generator.nextInt(below: 8)) }
            case 1: copy[generator.nextInt(below: copy.count)] = UInt8(generator.nextInt(below: 256))
            case 2: copy = Array(copy.prefix(generator.nextInt(below: copy.count)))
            default: copy.insert(UInt8(generator.nextInt(below: 256)), at: generator.nextInt(below: copy.count))
            }
            if trial % 2 == 1 && copy.count > 8 {
                // Fix the declared payload size and the checksum: only the fields' validation guards now.
                copy = Array(copy.dropLast(4))
                if copy.count >= 61 {
                    let payload = UInt32(copy.count - 61)
                    for i in 0..<4 { copy[57 + i] = UInt8(truncatingIfNeeded: payload >> (8 * UInt32(i))) }
                }
                let crc = crc32(copy)
                copy += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) }
            }
            if let image = try? CompressedGaussianImage(bytes: copy) {
                accepted += 1
                XCTAssertEqual(image.render().shape, [3, image.height, image.width])
            } else {
                rejected += 1
            }
        }
        print("GaussianCodecTests mutations: \(accepted) accepted (valid after repair), \(rejected) rejected, 0 crashes")
        XCTAssertGreaterThan(rejected, 1500)
    }

    func testEncoderMeetsTheBudgetAndIsDeterministic() {
        let picture = testPicture(width: 32, height: 24)
        var options = CodecOptions()
        options.bitsPerPixel = 1.5  // 144 bytes: the first N overshoots and rate control cuts it
        options.fitSteps = 40
        options.tuningSteps = 6
        options.gaussians = 50
        let fixedCount = compressImage(picture, options: options)
        XCTAssertLessThanOrEqual(fixedCount.bytes.count, 144)
        XCTAssertLessThan(fixedCount.fitted.shape[0], 50, "the rate probe cut the set during the fit")
        XCTAssertLessThanOrEqual(fixedCount.compressed.symbols.count, fixedCount.fitted.shape[0])
        // Without a fit (a given set) there is no probe: the final loop cuts and tunes again.
        var given = options
        given.startingGaussians = randomRows(count: 50, seed: 5)
        let loop = compressImage(picture, options: given)
        XCTAssertLessThanOrEqual(loop.bytes.count, 144)
        XCTAssertGreaterThan(loop.attempts, 1)
        XCTAssertLessThan(loop.compressed.symbols.count, 50)
        let again = compressImage(picture, options: options)
        XCTAssertEqual(again.bytes, fixedCount.bytes, "same options and seed, same bytes")
        // The reported quality is the decoder's.
        let decoded = try! CompressedGaussianImage(bytes: fixedCount.bytes)
        XCTAssertEqual(decoded.render().scalars, fixedCount.decoded.scalars)
        XCTAssertGreaterThan(fixedCount.psnr, 12)
    }

    /// `evaluate-codec` on an image too small for MS-SSIM: the rows and files are written,
    /// results.json says "NaN" for the undefined MS-SSIM, and a second run keeps the rows.
    func testEvaluationWritesRowsAndJSONForSmallImagesAndResumes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codec-eval-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let image = (folder as NSString).appendingPathComponent("small.png")
        try RGBImage(tensor: testPicture(width: 32, height: 24)).writePNG(to: image)
        var options = CodecOptions()
        options.fitSteps = 20
        options.tuningSteps = 3
        options.gaussians = 20
        let output = (folder as NSString).appendingPathComponent("out")
        let rows = try evaluateCodec(images: [image], rates: [2.0], options: options, folder: output) { _, _, _, _ in }
        XCTAssertEqual(rows.count, 1)
        XCTAssertTrue(rows[0].msSSIM.isNaN && rows[0].psnr > 10, "\(rows[0])")
        let json = try String(contentsOfFile: (output as NSString).appendingPathComponent("results.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"ms_ssim\" : \"NaN\"") || json.contains("\"msSSIM\" : \"NaN\""), json)
        XCTAssertTrue(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("small-2.0bpp.sgi")))
        var resumed = 0
        let again = try evaluateCodec(images: [image], rates: [2.0], options: options, folder: output) { _, _, _, fromEarlier in
            if fromEarlier { resumed += 1 }
        }
        XCTAssertEqual(resumed, 1)
        XCTAssertEqual(again.map(\.bytes), rows.map(\.bytes))
    }

    func testABudgetBelowTheSmallestFileIsReportedNotExceededSilently() {
        var options = CodecOptions()
        options.bitsPerPixel = 0.3  // 28 bytes for 32 × 24: less than the 65-byte header and checksum
        options.fitSteps = 5
        options.tuningSteps = 3
        options.gaussians = 20
        let result = compressImage(testPicture(width: 32, height: 24), options: options)
        XCTAssertFalse(result.withinBudget)
        XCTAssertEqual(result.budget, 28)
        XCTAssertEqual(result.compressed.symbols.count, 1, "rate control cut down to one Gaussian before giving up")
        XCTAssertEqual(try CompressedGaussianImage(bytes: result.bytes).render().scalars, result.decoded.scalars)
    }

    func testMostCoveringKeepsTheLargestFootprints() {
        // Two big Gaussians and two tiny ones: the big ones cover the image.
        let rows = Tensor(shape: [4, 8], scalars: [
            0.3, 0.5, 0.05, 0.05, 0, 1, 0, 0,
            0.5, 0.5, 5, 5, 0, 0, 1, 0,
            0.7, 0.5, 0.05, 0.05, 0, 0, 0, 1,
            0.9, 0.9, 5, 5, 0, 1, 1, 1,
        ])
        XCTAssertEqual(mostCovering(rows, keeping: 2, width: 32, height: 32, topK: TopKOptions()), [0, 2])  // scales are 1/σ
    }

    /// The probe codes the set as it stands: within the budget it keeps every row; over it, it
    /// keeps the most covering rows its model allows (ascending), whose stream then nearly fits.
    func testRateProbeCutsInProportionToTheOvershoot() {
        let rows = randomRows(count: 300, seed: 2)
        let bits = QuantizationBits(position: 7)
        let roomy = RateProbe(rows: rows, budget: 100_000, bits: bits, width: 40, height: 30, topK: TopKOptions())
        XCTAssertNil(roomy.kept)
        let budget = roomy.bytes / 2
        let tight = RateProbe(rows: rows, budget: budget, bits: bits, width: 40, height: 30, topK: TopKOptions())
        XCTAssertEqual(tight.bytes, roomy.bytes)
        let kept = try! XCTUnwrap(tight.kept)
        // Fewer than the plain proportion (300 · allowed / payload): a thinner set's gaps cost more.
        let overhead = Double(CompressedGaussianImage.headerSize + CompressedGaussianImage.checksumSize)
        XCTAssertLessThan(kept.count, Int(300 * (Double(budget) - overhead) * 0.98 / (Double(roomy.bytes) - overhead)))
        XCTAssertGreaterThan(kept.count, 100)
        XCTAssertEqual(kept, kept.sorted())
        let smaller = RateProbe(rows: rows.gathered(kept, alongAxis: 0), budget: budget, bits: bits, width: 40, height: 30, topK: TopKOptions())
        // A prediction (the grids' ranges and the other attributes' statistics move too), close
        // enough that the encoder's final loop seldom has to cut after tuning.
        XCTAssertLessThanOrEqual(Double(smaller.bytes), 1.02 * Double(budget))
    }
}
