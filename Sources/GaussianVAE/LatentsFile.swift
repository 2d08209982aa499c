import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore

// Latent codes of Gaussian sets on disk (HDF5; docs/FORMATS.md, "Latents"), written by
// `splatkit encode` and read by `splatkit decode`:
//
//   /latents              float32 (k, L): μ of each set, or a sample z when `sampled` = 1
//   /names                uint8 (k, 256): UTF-8 names, zero-padded (the dataset's layout)
//   root attributes       format = "splatkit-latents", format_version = 1 (int64),
//                         model (the checkpoint's path as given), representation (plain or
//                         canonical), sampled (int64 0/1), seed (int64 bit pattern, when sampled),
//                         set_size (int64, N the model decodes to), order (the spatial order
//                         the inputs were put in), width, height (int64, the size in pixels of
//                         the images the sets were fitted to, when known), source (the input
//                         file), split (when the input was a dataset)

/// Latent codes of Gaussian sets with the facts needed to decode them.
public struct LatentsFile {
    public static let format = "splatkit-latents"
    public static let formatVersion: Int64 = 1
    /// Bytes reserved per name in `/names` (as in datasets).
    public static let nameLength = GaussianDatasetFile.nameLength

    /// (k, L)
    public var latents: Tensor
    /// k names.
    public var names: [String]
    /// The checkpoint that encoded the sets.
    public var checkpoint: String
    public var representation: SetRepresentation
    /// Whether `latents` are samples z rather than the means μ.
    public var sampled: Bool
    /// The seed of the samples, when sampled.
    public var seed: UInt64?
    /// N, the Gaussians per decoded set.
    public var setSize: Int
    public var order: SpatialOrder
    /// Size of the images the sets were fitted to, when known.
    public var width: Int?
    public var height: Int?
    /// The encoded file, and its split when it was a dataset.
    public var source: String?
    public var split: String?

    public init(latents: Tensor, names: [String], checkpoint: String, representation: SetRepresentation, sampled: Bool,
                seed: UInt64? = nil, setSize: Int, order: SpatialOrder, width: Int? = nil, height: Int? = nil,
                source: String? = nil, split: String? = nil) {
        precondition(latents.rank == 2 && latents.shape[0] == names.count,
                     "LatentsFile: latents \(latents.shape) must be (k, L) for \(names.count) names")
        self.latents = latents
        self.names = names
        self.checkpoint = checkpoint
        self.representation = representation
        self.sampled = sampled
        self.seed = seed
        self.setSize = setSize
        self.order = order
        self.width = width
        self.height = height
        self.source = source
        self.split = split
    }

    /// k, the number of sets.
    public var count: Int { latents.shape[0] }
    /// L.
    public var latentDimensions: Int { latents.shape[1] }

    /// Writes the file atomically (temporary file, then rename). Names longer than 256 bytes
    /// are cut at a character boundary.
    public func write(to path: String) throws {
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write(latents.detached(), to: "latents")
            try file.writeNames(names, to: "names", length: Self.nameLength)
            try file.setFormat(Self.format, version: Self.formatVersion)
            try file.setAttribute("model", to: checkpoint)
            try file.setAttribute("representation", to: representation.rawValue)
            try file.setAttribute("sampled", to: Int64(sampled ? 1 : 0))
            if let seed { try file.setAttribute("seed", to: Int64(bitPattern: seed)) }
            try file.setAttribute("set_size", to: setSize)
            try file.setAttribute("order", to: order.rawValue)
            if let width, let height {
                try file.setAttribute("width", to: width)
                try file.setAttribute("height", to: height)
            }
            if let source { try file.setAttribute("source", to: source) }
            if let split { try file.setAttribute("split", to: split) }
            try file.close()
        }
    }

    /// Reads a file written by `write(to:)`, checking its format, version, shapes and values.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such file") }
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        try file.checkFormat(Self.format, newestVersion: Self.formatVersion, kind: "latents file") { found in
            found == GaussianDatasetFile.format || found == GaussianSet.format
                ? "; it holds Gaussian sets: encode it first with `splatkit encode`" : ""
        }
        let latents = try file.readTensor(from: "latents")
        guard latents.rank == 2, latents.shape[1] >= 1 else {
            throw FileError(path, "dataset 'latents' has shape \(latents.shape), expected (k, L)")
        }
        guard latents.scalars.allSatisfy(\.isFinite) else { throw FileError(path, "dataset 'latents' holds NaN or infinite values") }
        let names = try file.readNames(from: "names", count: latents.shape[0], length: Self.nameLength)
        let representationName = try file.stringAttribute("representation")
        guard let representation = SetRepresentation(rawValue: representationName) else {
            let known = SetRepresentation.allCases.map(\.rawValue).joined(separator: ", ")
            throw FileError(path, "unknown representation '\(representationName)' (\(known))")
        }
        let orderName = try file.stringAttribute("order")
        guard let order = SpatialOrder(rawValue: orderName) else {
            throw FileError(path, "unknown order '\(orderName)' (morton, hilbert or none)")
        }
        let setSize = Int(try file.int64Attribute("set_size"))
        guard (1...GaussianDatasetFile.maximumSetSize).contains(setSize) else {
            throw FileError(path, "set_size \(setSize) is invalid (a set holds 1...\(GaussianDatasetFile.maximumSetSize) Gaussians)")
        }
        let sampled = try file.int64Attribute("sampled") != 0
        func optionalInt(_ name: String) throws -> Int? {
            try file.hasAttribute(name) ? Int(try file.int64Attribute(name)) : nil
        }
        let width = try optionalInt("width"), height = try optionalInt("height")
        for side in [width, height].compactMap({ $0 }) where !(1...GaussianSet.maximumSide).contains(side) {
            throw FileError(path, "image size \(width.map(String.init) ?? "?")×\(height.map(String.init) ?? "?") is invalid "
                            + "(sides must be 1...\(GaussianSet.maximumSide))")
        }
        self.init(latents: latents, names: names, checkpoint: try file.stringAttribute("model"),
                  representation: representation, sampled: sampled,
                  seed: try file.hasAttribute("seed") ? UInt64(bitPattern: try file.int64Attribute("seed")) : nil,
                  setSize: setSize, order: order, width: width, height: height,
                  source: try file.hasAttribute("source") ? try file.stringAttribute("source") : nil,
                  split: try file.hasAttribute("split") ? try file.stringAttribute("split") : nil)
    }

    /// Throws unless `vae` can decode these latents (latent size, set size, representation).
    public func checkCompatible(with vae: VAEInference, checkpoint path: String, latentsPath: String) throws {
        guard latentDimensions == vae.latentDimensions else {
            throw FileError(latentsPath, "holds \(latentDimensions)-dimensional latents but \(path) has a "
                            + "\(vae.latentDimensions)-dimensional latent space; decode with the checkpoint that "
                            + "encoded them (\(checkpoint))")
        }
        guard setSize == vae.setSize else {
            throw FileError(latentsPath, "was encoded for sets of \(setSize) Gaussians but \(path) decodes \(vae.setSize); "
                            + "decode with the checkpoint that encoded them (\(checkpoint))")
        }
        guard representation == vae.representation else {
            throw FileError(latentsPath, "was encoded with the \(representation.rawValue) representation but \(path) "
                            + "uses \(vae.representation.rawValue); decode with the checkpoint that encoded them (\(checkpoint))")
        }
    }
}
