import EntropyCoding
import GaussianRasterizer
import TensorCore

// The .sgi container of a coded Gaussian image (byte layout in docs/FORMATS.md, "Compressed
// images"): a fixed 61-byte header, the range-coded symbols, a CRC-32 of everything before it.
// The reader checks the size, the checksum and then every field before it allocates or indexes.

/// A Gaussian image as the codec stores it: the grids, the canonical symbols and how to draw them.
public struct CompressedGaussianImage: Equatable {
    public static let headerSize = 61, checksumSize = 4
    /// The largest image side and Gaussian count a stream may declare.
    public static let maximumSide = 16_384, maximumCount = 1 << 22

    public let width: Int, height: Int
    public let renderer: SetRenderer
    /// Gaussians blended per pixel by the top-K renderer (its ε is the default 1e-4).
    public let topK: Int
    public let quantizer: GaussianQuantizer
    public let modes: SymbolCodingModes
    /// Canonical symbols (see GaussianSymbolCoding.swift).
    public let symbols: QuantizedGaussians
    /// The coded symbols as stored.
    let payload: [UInt8]

    /// Codes `symbols` (any order; they are put in canonical form) for a width × height image.
    public init(width: Int, height: Int, renderer: SetRenderer, topK: Int, quantizer: GaussianQuantizer, symbols: QuantizedGaussians) {
        precondition(width >= 1 && width <= Self.maximumSide && height >= 1 && height <= Self.maximumSide,
                     "CompressedGaussianImage: size \(width)×\(height) outside 1...\(Self.maximumSide)")
        precondition(symbols.count >= 1 && symbols.count <= Self.maximumCount, "CompressedGaussianImage: \(symbols.count) Gaussians")
        precondition(topK >= 1 && topK <= 255, "CompressedGaussianImage: top-K \(topK) outside 1...255")
        let canonical = canonicalized(symbols, bits: quantizer.bits)
        let (payload, modes) = encodeSymbols(canonical, quantizer: quantizer)
        (self.width, self.height, self.renderer, self.topK) = (width, height, renderer, topK)
        (self.quantizer, self.modes, self.symbols, self.payload) = (quantizer, modes, canonical, payload)
    }

    /// The file's bytes.
    public var bytes: [UInt8] {
        var out = CodedFilePreamble.bytes(.gaussianSet)
        appendLittleEndian(UInt16(width), to: &out)
        appendLittleEndian(UInt16(height), to: &out)
        out.append(renderer == .additive ? 1 : 0)
        out.append(UInt8(topK))
        appendLittleEndian(UInt32(symbols.count), to: &out)
        let bits = quantizer.bits
        out += [UInt8(bits.position), UInt8(bits.scale), UInt8(bits.rotation), UInt8(bits.colour), modes.byte]
        let ranges = [quantizer.ranges.logScale] + quantizer.ranges.colour
        for range in ranges {
            appendLittleEndian(range.lowerBound.bitPattern, to: &out)
            appendLittleEndian(range.upperBound.bitPattern, to: &out)
        }
        appendLittleEndian(UInt16(quantizer.colourLevels[1]), to: &out)
        appendLittleEndian(UInt16(quantizer.colourLevels[2]), to: &out)
        appendLittleEndian(UInt32(payload.count), to: &out)
        assert(out.count == Self.headerSize)
        out += payload
        appendLittleEndian(crc32(out), to: &out)
        return out
    }

    /// Reads a stream, checking every field; damaged, truncated or forged streams throw.
    public init(bytes: [UInt8]) throws {
        if let problem = CodedFilePreamble.problem(in: bytes, expecting: .gaussianSet, minimumSize: Self.headerSize + Self.checksumSize) {
            throw CodecError(problem)
        }
        var reader = LittleEndianReader(bytes: bytes, offset: CodedFilePreamble.size)
        let width = Int(reader.uint16()), height = Int(reader.uint16())
        let rendererCode = reader.byte(), topK = Int(reader.byte()), count = Int(reader.uint32())
        let bits = QuantizationBits(position: Int(reader.byte()), scale: Int(reader.byte()), rotation: Int(reader.byte()), colour: Int(reader.byte()))
        let modesByte = reader.byte()
        var ranges: [ClosedRange<Float>] = []
        for _ in 0..<4 {
            let low = Float(bitPattern: reader.uint32()), high = Float(bitPattern: reader.uint32())
            guard low.isFinite && high.isFinite && low <= high else { throw CodecError("has an invalid quantisation range [\(low), \(high)]") }
            ranges.append(low...high)
        }
        let chromaLevels = [Int(reader.uint16()), Int(reader.uint16())]
        let payloadSize = Int(reader.uint32())
        guard payloadSize == bytes.count - Self.headerSize - Self.checksumSize else {
            throw CodecError("declares \(payloadSize) payload bytes but holds \(bytes.count - Self.headerSize - Self.checksumSize) (truncated or extended)")
        }
        guard CodedFilePreamble.checksumMatches(bytes) else { throw CodecError("fails its CRC-32 check (damaged)") }
        guard (1...Self.maximumSide).contains(width) && (1...Self.maximumSide).contains(height) else {
            throw CodecError("declares an image of \(width)×\(height); sides must be 1...\(Self.maximumSide)")
        }
        guard rendererCode <= 1 else { throw CodecError("names renderer \(rendererCode); known: 0 top-K, 1 additive") }
        guard topK >= 1 else { throw CodecError("declares top-K 0") }
        guard count >= 1 && count <= Swift.min(Self.maximumCount, width * height) else {
            throw CodecError("declares \(count) Gaussians; a \(width)×\(height) image holds 1...\(Swift.min(Self.maximumCount, width * height))")
        }
        guard bits.isValid else { throw CodecError("declares invalid bit widths \(bits)") }
        guard let modes = SymbolCodingModes(byte: modesByte) else { throw CodecError("sets unknown coding mode bits \(modesByte)") }
        guard chromaLevels.allSatisfy({ (2...GaussianQuantizer.maximumColourLevels).contains($0) }) else {
            throw CodecError("declares chroma grids of \(chromaLevels) levels; each must have 2...\(GaussianQuantizer.maximumColourLevels)")
        }
        let quantizer = GaussianQuantizer(bits: bits, ranges: QuantizationRanges(logScale: ranges[0], colour: Array(ranges[1...])),
                                          colourLevels: [1 << bits.colour] + chromaLevels)
        let payload = Array(bytes[Self.headerSize..<(Self.headerSize + payloadSize)])
        let symbols = try decodeSymbols(payload, count: count, quantizer: quantizer, modes: modes)
        (self.width, self.height, self.renderer, self.topK) = (width, height, rendererCode == 1 ? .additive : .topK, topK)
        self.quantizer = quantizer
        (self.modes, self.symbols, self.payload) = (modes, symbols, payload)
    }

    /// Image-GS rows (N, 8) of the coded Gaussians, in canonical order.
    public var gaussians: Tensor { quantizer.dequantized(symbols) }

    /// The decoded image at `outputWidth` × `outputHeight` (default: the coded size), clamped to
    /// [0, 1]: (3, H, W). At the coded size it equals the encoder's final render bit for bit.
    public func render(width outputWidth: Int? = nil, height outputHeight: Int? = nil) -> Tensor {
        let w = outputWidth ?? width, h = outputHeight ?? height
        let rows = scaledForOutput(gaussians, fittedWidth: width, fittedHeight: height, width: w, height: h)
        return withoutGradients { renderer.render(rows, width: w, height: h, topK: TopKOptions(k: topK)).clamped(min: 0, max: 1) }
    }
}
