import Foundation
import GaussianData
import GaussianFitting
import GaussianRasterizer
import LatentCoding
import SplatIO
import TensorCore

// The learned codec over Gaussian sets (issue 21): a VAE trained with an entropy model
// (model.entropy_model) codes a fitted set as its quantised latent, range-coded with the code
// tables its checkpoint carries, in an .sgi file of payload kind 2 (LatentCodeFile):
//
//   compress     set (N, 8) → σ rescaled to the model's image size S × S (the size its data was
//                fitted at) → the model's spatial order → ŷ = round(μ) (L integers) → stream
//   decompress   stream → ŷ → decoder → set (N, 8) at S × S → σ rescaled to the recorded width ×
//                height (the source's), which it is drawn at by default
//   image        an image is resized to S × S (the triangle filter of dataset builds, aspect not
//                kept), fitted with the model's recipe and N Gaussians, and compressed as above
//                with its own width × height recorded, so the decoder's rescaling undoes the
//                squeeze; its latent is first refined against the S × S image (LatentRefinement)
//
// The file records the model's fingerprint (code tables and parameters), so decoding with any
// other model is a clear error instead of a wrong picture.

/// A VAE with an entropy model, ready to code sets.
public struct VAESetCodec {
    /// The shipped learned codec's path inside the repository (SplatIO's `locateShippedFile`).
    public static let shippedModelPath = "models/vae_codec.h5"

    public let inference: VAEInference
    public let entropyModel: LatentEntropyModel
    public let fingerprint: UInt32
    /// What writes and reads the latents: the checkpoint's tables, with a hyperprior's networks.
    private let coder: Coder

    private enum Coder {
        case factorized(FactorizedCodeTables)
        case hyperprior(ScaleHyperprior, HyperpriorCodeTables)
    }

    /// The codec of the VAE checkpoint at `path`, which must have an entropy model.
    public init(checkpoint path: String) throws {
        let vae = try loadVAE(from: path)
        guard let tables = vae.codeTables, let entropyModel = vae.model.entropyModel else {
            throw FileError(path, "has no entropy model (model.entropy_model is none), so its latents are not a code: "
                            + "train a model with model.entropy_model: factorized or hyperprior")
        }
        inference = VAEInference(model: vae.model, config: vae.config, normalization: vae.normalization,
                                 representation: vae.representation, trainedOn: vae.trainedOn)
        self.entropyModel = entropyModel
        let parameters = vae.model.store.parameters.map(\.tensor)
        switch (entropyModel, tables) {
        case (.factorized, .factorized(let factorized)):
            coder = .factorized(factorized)
            fingerprint = latentModelFingerprint(tables: [factorized], parameters: parameters)
        case (.hyperprior(let hyperprior), .hyperprior(let hyper)):
            coder = .hyperprior(hyperprior, hyper)
            fingerprint = latentModelFingerprint(tables: [hyper.side, hyper.scales],
                                                 parameters: parameters + [Tensor(shape: [hyper.boundaries.count], scalars: hyper.boundaries)])
        default:
            throw FileError(path, "its code tables are not those of its entropy model (model.entropy_model)")
        }
    }

    /// The side of the images the model's sets were fitted at (nil: unknown, sets taken as they are).
    public var modelImageSize: Int? { inference.trainedOn.fittedImageSize }

    /// The code of `set`, drawn by default at its source size. `source` names the set in errors.
    public func compress(_ set: GaussianSet, source: String) throws -> LatentCodeFile {
        try code(posteriorMean(of: set, source: source).roundedToIntegers(), for: set, source: source)
    }

    /// μ (1, L) of `set`, taken to the model's image size and spatial order.
    func posteriorMean(of set: GaussianSet, source: String) throws -> Tensor {
        try inference.checkSetSize(set.gaussians.shape[0], in: source)
        let order = inference.trainedOn.order ?? .morton
        let rows = modelImageSize.map { scaledForOutput(set.gaussians, fittedWidth: set.width, fittedHeight: set.height, width: $0, height: $0) }
            ?? set.gaussians
        return inference.posterior(normalized: inference.normalizedInput(order.ordered(rows.unsqueezed(0)))).mean
    }

    /// The file of the integer latent `latent` (1, L), drawn by default at `set`'s size.
    func code(_ latent: Tensor, for set: GaussianSet, source: String) throws -> LatentCodeFile {
        guard let values = quantizedLatents(latent) else {
            throw FileError(source, "its latent is not finite or outside the 32-bit range (a set far from the model's data?)")
        }
        let stream: [UInt8]
        switch coder {
        case .hyperprior(let hyperprior, let hyperTables):
            let side = withoutGradients { hyperprior.sideLatent(of: latent).roundedToIntegers() }  // ẑ = round(h_a(|ŷ|)), (1, Z)
            guard let sides = quantizedLatents(side) else {
                throw FileError(source, "its side latent is not finite or outside the 32-bit range (a set far from the model's data?)")
            }
            stream = HyperpriorStream.encode(latents: values, sides: sides, hyperprior: hyperprior, tables: hyperTables)
        case .factorized(let factorized):
            stream = LatentStream.encode(values, tables: factorized)
        }
        return LatentCodeFile(stream: stream, latentDimensions: inference.latentDimensions, items: 1, fingerprint: fingerprint,
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
        let dimensions = inference.latentDimensions
        guard code.latentDimensions == dimensions else {
            throw FileError(source, "holds latents of \(code.latentDimensions) dimensions; the model's have \(dimensions)")
        }
        let values: [Int32]
        do {
            switch coder {
            case .hyperprior(let hyperprior, let hyperTables):
                values = try HyperpriorStream.decode(code.stream, items: 1, hyperprior: hyperprior, tables: hyperTables).latents
            case .factorized(let factorized):
                values = try code.latents(tables: factorized)
            }
        } catch { throw FileError(source, "\(error)") }
        let latent = Tensor(shape: [1, dimensions], scalars: values.map { Float($0) })
        var rows = inference.decode(latent).squeezed(0)  // (N, 8), at the model's size
        if let side = modelImageSize {
            rows = scaledForOutput(rows, fittedWidth: side, fittedHeight: side, width: code.width, height: code.height)
        }
        return GaussianSet(gaussians: rows, width: code.width, height: code.height, recipe: inference.trainedOn.recipe)
    }

    /// Fits `image` as the model's training data was fitted (its recipe, N Gaussians, at S × S)
    /// and codes the fit, its latent refined against the S × S image unless `refinement` is nil
    /// or takes no steps (LatentRefinement.swift); `fitSteps` and `seed` are the fit's. Returns
    /// the code and the fit.
    public func compress(image: RGBImage, fitSteps: Int, seed: UInt64, source: String, refinement: LatentRefinement? = nil,
                         progress: (FitProgress) -> Void = { _ in }) throws -> (code: LatentCodeFile, fitted: GaussianSet) {
        guard let side = modelImageSize else {
            throw FileError(source, "cannot be compressed with this model: it does not record the image size its sets were "
                            + "fitted at (imported data); fit the image yourself and use compress-set")
        }
        guard let recipe = inference.trainedOn.recipe?.fitRecipe else {
            throw FileError(source, "cannot be compressed with this model: its sets were not made by one SplatKit fitting recipe "
                            + "(\(inference.trainedOn.recipe.map { "\($0)" } ?? "unknown")); fit the image yourself and use compress-set")
        }
        var options = FitOptions()
        options.gaussians = inference.setSize
        options.steps = fitSteps
        options.recipe = recipe
        options.seed = seed
        let square = image.resized(width: side, height: side)
        let fit = GaussianFitter(image: square.tensor(), options: options).run(progressInterval: 100, progress: progress)
        let native = GaussianSet(gaussians: scaledForOutput(fit.gaussians, fittedWidth: side, fittedHeight: side,
                                                            width: image.width, height: image.height),
                                 width: image.width, height: image.height, psnr: Double(fit.psnr), recipe: .fit(recipe), steps: fit.steps)
        var latent = try posteriorMean(of: native, source: source)
        if let refinement, refinement.steps > 0 {
            latent = refinedLatent(from: latent, image: square.tensor(), settings: refinement).latent
        }
        return (try code(latent.roundedToIntegers(), for: native, source: source), native)
    }
}

extension LatentCodeFile {
    /// The largest learned code read (far above any set's: one latent of at most 65,536 values).
    public static let maximumFileBytes = 64 << 20

    /// Reads and validates the learned code at `path` (errors name it).
    public init(contentsOf path: String) throws {
        try self.init(bytes: try readBoundedFile(at: path, maximumBytes: Self.maximumFileBytes, what: "learned codes"), readFrom: path)
    }

    /// Validates the bytes of the learned code at `path`, already read (errors name the file).
    public init(bytes: [UInt8], readFrom path: String) throws {
        do { try self.init(bytes: bytes) } catch { throw FileError(path, "\(error)") }
    }

    /// Writes the file atomically.
    public func write(to path: String) throws { try writeBytesAtomically(bytes, to: path) }
}
