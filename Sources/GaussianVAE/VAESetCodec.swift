import Foundation
import GaussianData
import GaussianFitting
import LatentCoding
import SplatIO
import TensorCore

// The learned codec over Gaussian sets (issue 21): a VAE trained with an entropy model
// (model.entropy_model) codes a fitted set as its quantised latent, range-coded with the code
// tables its checkpoint carries, in an .sgi file of payload kind 2 (LatentCodeFile):
//
//   compress     set (N, 8) → the model's spatial order → ŷ = round(μ) (L integers) → stream
//   decompress   stream → ŷ → decoder → set (N, 8), drawn at the recorded width × height
//
// The file records the model's fingerprint (code tables and parameters), so decoding with any
// other model is a clear error instead of a wrong picture.

/// A VAE with an entropy model, ready to code sets.
public struct VAESetCodec {
    public let inference: VAEInference
    public let tables: FactorizedCodeTables
    public let fingerprint: UInt32

    /// The codec of the VAE checkpoint at `path`, which must have an entropy model.
    public init(checkpoint path: String) throws {
        let vae = try loadVAE(from: path)
        guard let tables = vae.codeTables else {
            throw FileError(path, "has no entropy model (model.entropy_model is none), so its latents are not a code: "
                            + "train a model with model.entropy_model: factorized")
        }
        inference = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization,
                                 representation: vae.representation, trainedOn: vae.trainedOn)
        self.tables = tables
        fingerprint = latentModelFingerprint(tables: tables, parameters: vae.model.store.parameters.map(\.tensor))
    }

    /// The code of `set`, drawn by default at its source size. `source` names the set in errors.
    public func compress(_ set: GaussianSet, source: String) throws -> LatentCodeFile {
        try inference.checkSetSize(set.gaussians.shape[0], in: source)
        let order = inference.trainedOn.order ?? .morton
        let latent = inference.latents(of: set.gaussians.unsqueezed(0), order: order)  // (1, L), round(μ)
        guard let values = quantizedLatents(latent) else {
            throw FileError(source, "its latent is not finite or outside the 32-bit range (a set far from the model's data?)")
        }
        return LatentCodeFile(latents: values, tables: tables, fingerprint: fingerprint,
                              width: Swift.min(set.width, LatentCodeFile.maximumSide), height: Swift.min(set.height, LatentCodeFile.maximumSide))
    }

    /// The set a code decodes to (recording the model's training recipe), or a `FileError`
    /// naming `source` when the code is for another model or damaged.
    public func decompress(_ code: LatentCodeFile, source: String) throws -> GaussianSet {
        guard code.fingerprint == fingerprint else {
            throw FileError(source, String(format: "was coded with another model (fingerprint %08x, this model's %08x)",
                                           code.fingerprint, fingerprint))
        }
        guard code.items == 1 else { throw FileError(source, "holds \(code.items) latents; a set's code holds one") }
        let values: [Int32]
        do { values = try code.latents(tables: tables) } catch { throw FileError(source, "\(error)") }
        let latent = Tensor(shape: [1, tables.channels], scalars: values.map { Float($0) })
        let set = inference.decode(latent).squeezed(0)  // (N, 8)
        return GaussianSet(gaussians: set, width: code.width, height: code.height, recipe: inference.trainedOn.recipe)
    }
}

extension LatentCodeFile {
    /// The largest learned code read (far above any set's: one latent of at most 65,536 values).
    public static let maximumFileBytes = 64 << 20

    /// Reads and validates the learned code at `path` (errors name it).
    public init(contentsOf path: String) throws {
        let bytes = try readBoundedFile(at: path, maximumBytes: Self.maximumFileBytes, what: "learned codes")
        do { try self.init(bytes: bytes) } catch { throw FileError(path, "\(error)") }
    }

    /// Writes the file atomically.
    public func write(to path: String) throws { try writeBytesAtomically(bytes, to: path) }
}
