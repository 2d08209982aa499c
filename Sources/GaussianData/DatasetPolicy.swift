import Foundation
import GaussianFitting

// What a dataset build records, decided once for every command that makes or merges datasets:
// the spatial order of a recipe's sets when none is asked for, the steps a recipe records, and
// the train/validation/test fractions as written on a command line.

extension DatasetSettings {
    /// The settings of a build: `order` or the recipe's default order (`defaultOrder(for:)`),
    /// and 0 steps for a recipe that takes none (what the file records).
    public static func forBuild(setSize: Int, imageSize: Int, steps: Int, recipe: FitRecipe, order: SpatialOrder?,
                                seed: UInt64, splits: [Double], crops: Int = 1, flipCrops: Bool = false) -> DatasetSettings {
        DatasetSettings(setSize: setSize, imageSize: imageSize, steps: recipe.takesSteps ? steps : 0, recipe: .fit(recipe),
                        order: order ?? defaultOrder(for: recipe), seed: seed, splits: splits,
                        crops: crops, flipCrops: flipCrops)
    }

    /// The SplatKit recipe that fitted the sets; nil for sets from elsewhere (a GaussVAE import)
    /// or a merge of several recipes.
    public var fitRecipe: FitRecipe? { recipe.fitRecipe }

    /// Morton, except for recipes that place every Gaussian on a grid: their sets keep the grid's
    /// Morton order of cells, so the i-th Gaussian of every set is in the same cell (none).
    public static func defaultOrder(for recipe: FitRecipe) -> SpatialOrder {
        recipe.placesOnGrid ? .none : .morton
    }
}

/// Train, validation and test fractions.
public enum SplitFractions {
    /// Parses "0.9,0.05,0.05": three non-negative fractions that sum to 1 (within 1e-6).
    public static func parse(_ text: String) throws -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }),
              Swift.abs(parts.reduce(0) { $0 + $1! } - 1) < 1e-6 else {
            throw SplitFractionsError(text: text)
        }
        return parts.map { $0! }
    }
}

/// Split fractions that are not three non-negative numbers summing to 1.
public struct SplitFractionsError: Error, CustomStringConvertible {
    public let text: String
    public var description: String {
        "splits '\(text)' must be three non-negative fractions (train, validation, test) that sum to 1, e.g. 0.9,0.05,0.05"
    }
}
