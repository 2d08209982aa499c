import Foundation
import SplatIO
import TensorCore

// Precomputed global features per image, for inpainting models with `semantic_source:
// precomputed` (the paper's frozen DINOv2 token, computed outside SplatKit):
//   /features   float32 (N, F): one feature vector per image
//   /names      uint8 (N, 256): the image file names they belong to (zero-padded UTF-8)
//   root attributes  format = "splatkit-image-features", format_version = 1,
//                    source (free text: what computed the features, e.g. "dinov2_vitb14 cls")
// h5py writes one with:
//   f.create_dataset("features", data=feats.astype("float32"))
//   f.create_dataset("names", data=np.array([n.encode().ljust(256, b"\0") for n in names], "S256").view("u1").reshape(-1, 256))
//   f.attrs["format"] = "splatkit-image-features"; f.attrs["format_version"] = 1
// Features are looked up by the image's file name (not its path). One vector serves every crop
// and flip of its image during training: the paper's token is of the whole picture.

/// Feature vectors by image name.
public struct ImageFeatures {
    public let names: [String]
    /// (N, F)
    public let features: Tensor
    /// What computed them.
    public let source: String
    /// The file they were read from (named in errors), or "" when built in memory.
    public let path: String

    public static let format = "splatkit-image-features"
    public static let formatVersion: Int64 = 1

    private let rowOfName: [String: Int]

    public init(names: [String], features: Tensor, source: String, path: String = "") {
        precondition(features.rank == 2 && features.shape[0] == names.count,
                     "ImageFeatures: features \(features.shape) for \(names.count) names")
        (self.names, self.features, self.source, self.path) = (names, features, source, path)
        rowOfName = Dictionary(names.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// F, the length of each vector.
    public var dimensions: Int { features.shape[1] }

    /// The vector of image `name` (a file name; a path is reduced to its last component).
    /// - Throws: `FileError` naming the features file when it has no such image.
    public func vector(for name: String) throws -> [Float] {
        let key = (name as NSString).lastPathComponent
        guard let row = rowOfName[key] else {
            throw FileError(path, "has no features for image '\(key)' (it holds \(names.count) images, e.g. "
                            + "\(names.prefix(3).joined(separator: ", ")))")
        }
        return Array(features.scalars[(row * dimensions)..<((row + 1) * dimensions)])
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        try writeAtomically(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.write(features.detached(), to: "features")
            try file.writeNames(names, to: "names")
            try file.setFormat(Self.format, version: Self.formatVersion)
            try file.setAttribute("source", to: source)
            try file.close()
        }
    }

    /// Reads a features file, checking format, shapes and values.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FileError(path, "no such features file") }
        let file = try HDF5File(opening: path)
        defer { try? file.close() }
        try file.checkFormat(Self.format, newestVersion: Self.formatVersion, kind: "image-features file")
        let features = try file.readTensor(from: "features")
        guard features.rank == 2, features.shape[1] >= 1 else {
            throw FileError(path, "dataset 'features' has shape \(features.shape), expected (N, F)")
        }
        guard features.scalars.allSatisfy(\.isFinite) else { throw FileError(path, "dataset 'features' holds NaN or infinite values") }
        let names = try file.readNames(from: "names", count: features.shape[0])
        let source = (try? file.stringAttribute("source")) ?? ""
        self.init(names: names, features: features, source: source, path: path)
    }

    /// Checks the vectors fit a model expecting `dimensions` features.
    public func check(dimensions expected: Int) throws {
        guard dimensions == expected else {
            throw FileError(path, "holds \(dimensions)-long features, but the model's semantic_features is \(expected)")
        }
    }
}
