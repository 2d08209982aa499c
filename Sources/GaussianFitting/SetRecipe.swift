import GaussianRasterizer
import SplatIO

// How a set's or a dataset's Gaussians were made, as their files record it (the `recipe`
// attribute of set files, dataset settings and a VAE checkpoint's training data), read and
// checked once when the file is read:
//   "imagegs", "imagegs-grid", …      a SplatKit fit (`FitRecipe`'s raw values)
//   "gaussvae-import"                 sets imported from GaussVAE's files (GaussVAEInterop.swift)
//   "imagegs+imagegs-grid"            a merge of datasets of different recipes, in input order
// A merge needs its inputs drawn by one rasterizer (GaussianDatasetMerge.swift), so every recipe
// has one renderer.

/// How a set's Gaussians were made; decides the rasterizer that draws them.
public enum SetRecipe: Hashable, Sendable, CustomStringConvertible {
    case fit(FitRecipe)
    /// Sets converted from GaussVAE's files (Image-GS fits made elsewhere, drawn top-K).
    case gaussVAEImport
    /// A merge's distinct sources in input order: two or more, none itself a merge.
    case merge([SetRecipe])

    static let gaussVAEImportName = "gaussvae-import"
    static let mergeSeparator: Character = "+"

    /// The recipe a file records as `text`; nil for one SplatKit does not know.
    public init?(recorded text: String) {
        let parts = text.split(separator: SetRecipe.mergeSeparator, omittingEmptySubsequences: false).map(String.init)
        func single(_ name: String) -> SetRecipe? {
            name == SetRecipe.gaussVAEImportName ? .gaussVAEImport : FitRecipe(rawValue: name).map(SetRecipe.fit)
        }
        if parts.count == 1 {
            guard let recipe = single(text) else { return nil }
            self = recipe
            return
        }
        let sources = parts.compactMap(single)
        guard sources.count == parts.count, Set(sources).count == sources.count else { return nil }
        self = .merge(sources)
    }

    /// The recipe `text` recorded in `file` (`what` names the attribute's place in errors);
    /// an unknown one is a `FileError` naming the file and the known recipes.
    public static func read(_ text: String, in file: String, what: String = "recipe") throws -> SetRecipe {
        guard let recipe = SetRecipe(recorded: text) else {
            let known = FitRecipe.allCases.map(\.rawValue) + [gaussVAEImportName]
            throw FileError(file, "\(what) '\(text)' is unknown (expected one of \(known.joined(separator: ", ")), "
                            + "or several joined by '\(mergeSeparator)' for a merge)")
        }
        return recipe
    }

    /// The recipe of a merge of datasets of `recipes` (in input order): their sources, each once;
    /// a single source is itself.
    public static func merging(_ recipes: [SetRecipe]) -> SetRecipe {
        var sources: [SetRecipe] = []
        for recipe in recipes {
            for source in recipe.sources where !sources.contains(source) { sources.append(source) }
        }
        return sources.count == 1 ? sources[0] : .merge(sources)
    }

    /// The text files record.
    public var description: String {
        switch self {
        case .fit(let recipe): recipe.rawValue
        case .gaussVAEImport: SetRecipe.gaussVAEImportName
        case .merge(let sources): sources.map(\.description).joined(separator: String(SetRecipe.mergeSeparator))
        }
    }

    /// The fitting recipe, when the sets are one SplatKit fit's (not an import or a merge).
    public var fitRecipe: FitRecipe? {
        if case .fit(let recipe) = self { return recipe }
        return nil
    }

    /// The rasterizer that draws the sets: the one their fit optimised for (top-K for imports;
    /// a merge's sources share one).
    public var renderer: SetRenderer {
        switch self {
        case .fit(let recipe): recipe.renderer
        case .gaussVAEImport: .topK
        case .merge(let sources): sources[0].renderer
        }
    }

    /// One recipe, or a merge's sources.
    var sources: [SetRecipe] {
        if case .merge(let sources) = self { return sources }
        return [self]
    }
}

extension SetRenderer {
    /// The renderer of sets made by `recipe`; top-K when the file records none.
    public init(recipe: SetRecipe?) {
        self = recipe?.renderer ?? .topK
    }
}
