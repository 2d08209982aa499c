import GaussianFitting
import XCTest
@testable import GaussianData

// What a build records: the default order per recipe, the steps of stepless recipes, and the
// split fractions as written on a command line.
final class DatasetPolicyTests: XCTestCase {
    func testBuildSettingsFollowTheRecipe() {
        func settings(_ recipe: FitRecipe, order: SpatialOrder? = nil) -> DatasetSettings {
            DatasetSettings.forBuild(setSize: 64, imageSize: 32, steps: 500, recipe: recipe, order: order, seed: 1, splits: [0.8, 0.1, 0.1])
        }
        XCTAssertEqual(settings(.imagegs).order, .morton)
        XCTAssertEqual(settings(.imagegsGrid).order, SpatialOrder.none, "grid sets keep the grid's Morton order of cells")
        XCTAssertEqual(settings(.imagegsGrid, order: .hilbert).order, .hilbert, "an asked order wins")
        XCTAssertEqual(settings(.imagegs).steps, 500)
        XCTAssertEqual(settings(.imagegsGridLayoutRidge).steps, 0, "colours solved: no steps recorded")
        XCTAssertEqual(settings(.gaussianimage).recipe, .fit(.gaussianimage))
    }

    /// Recorded provenance that is not a SplatKit recipe reads as none, and a build refuses it
    /// (before creating any file) instead of fitting with another recipe.
    func testOnlyFittingRecipesBuild() throws {
        var settings = DatasetSettings.forBuild(setSize: 4, imageSize: 16, steps: 2, recipe: .imagegs, order: nil, seed: 1, splits: [1, 0, 0])
        XCTAssertEqual(settings.fitRecipe, .imagegs)
        settings.recipe = .gaussVAEImport
        XCTAssertNil(settings.fitRecipe)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).h5").path
        let builder = DatasetBuilder(source: .procedural(count: 2, seed: 1), output: output, settings: settings, workers: 1)
        XCTAssertThrowsError(try builder.run()) { error in XCTAssertTrue("\(error)".contains("gaussvae-import"), "\(error)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testSplitFractions() throws {
        XCTAssertEqual(try SplitFractions.parse("0.9,0.05,0.05"), [0.9, 0.05, 0.05])
        XCTAssertEqual(try SplitFractions.parse(" 1, 0 ,0"), [1, 0, 0])
        for bad in ["0.9,0.1", "0.5,0.5,0.5", "-0.1,0.6,0.5", "a,b,c", "0.9,,0.1", "nan,0,1", "1,0,0,0"] {
            XCTAssertThrowsError(try SplitFractions.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains(bad), "\(error)")
            }
        }
    }
}
