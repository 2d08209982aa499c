import Foundation
import GaussianFitting
import GaussianRasterizer
import SplatIO
import TensorCore
import TestSupport
import XCTest

/// A set's recipe is read and checked once, where its file is read (issue 24): every recorded
/// form round-trips, an unknown one is an error naming the file, and the recipe picks the renderer.
final class SetRecipeTests: TemporaryDirectoryTestCase {
    func testEveryRecordedFormRoundTrips() {
        let recipes: [SetRecipe] = FitRecipe.allCases.map(SetRecipe.fit)
            + [.gaussVAEImport, .merge([.fit(.imagegs), .fit(.imagegsGrid)]), .merge([.gaussVAEImport, .fit(.imagegs)])]
        for recipe in recipes { XCTAssertEqual(SetRecipe(recorded: recipe.description), recipe, recipe.description) }
        XCTAssertEqual(SetRecipe.fit(.imagegsGridFixed).description, "imagegs-grid-fixed")
        XCTAssertEqual(SetRecipe.merge([.fit(.imagegs), .gaussVAEImport]).description, "imagegs+gaussvae-import")
        for bad in ["", "synthetic", "imagegs+", "+imagegs", "imagegs+imagegs", "imagegs++imagegs-grid", "IMAGEGS"] {
            XCTAssertNil(SetRecipe(recorded: bad), bad)
        }
    }

    func testMergingKeepsInputOrderAndEachSourceOnce() {
        XCTAssertEqual(SetRecipe.merging([.fit(.imagegs), .fit(.imagegs)]), .fit(.imagegs))
        XCTAssertEqual(SetRecipe.merging([.fit(.imagegsGrid), .merge([.fit(.imagegs), .fit(.imagegsGrid)]), .gaussVAEImport]),
                       .merge([.fit(.imagegsGrid), .fit(.imagegs), .gaussVAEImport]))
        XCTAssertEqual(SetRecipe.merge([.fit(.imagegs), .fit(.imagegsGrid)]).fitRecipe, nil)
        XCTAssertEqual(SetRecipe.fit(.imagegsGrid).fitRecipe, .imagegsGrid)
    }

    func testTheRecipePicksTheRenderer() {
        XCTAssertEqual(SetRenderer(recipe: .fit(.gaussianimage)), .additive)
        XCTAssertEqual(SetRenderer(recipe: .merge([.fit(.gaussianimage)])), .additive)
        for recipe: SetRecipe? in [nil, .gaussVAEImport, .fit(.imagegs), .fit(.imagegsGridLayoutRidge)] {
            XCTAssertEqual(SetRenderer(recipe: recipe), .topK, "\(String(describing: recipe))")
        }
    }

    /// A set file whose recipe attribute SplatKit does not know is refused when read, naming the
    /// file and the value, instead of being drawn by a guessed rasterizer.
    func testASetFileWithAnUnknownRecipeIsAFileError() throws {
        let path = temporaryPath("forged.h5")
        let file = try HDF5File(creating: path)
        try file.write(randomImageGSParameters(count: 3, width: 8, height: 8, seed: 1).detached(), to: "gaussians")
        try file.setFormat(GaussianSet.format, version: GaussianSet.formatVersion)
        try file.setAttribute("convention", to: "imagegs")
        try file.setAttribute("width", to: 8)
        try file.setAttribute("height", to: 8)
        try file.setAttribute("recipe", to: "imagegs-turbo")
        try file.close()
        XCTAssertThrowsError(try GaussianSet(contentsOf: path)) { error in
            XCTAssertEqual((error as? FileError)?.path, path)
            XCTAssertTrue("\(error)".contains("imagegs-turbo"), "\(error)")
        }
        let known = temporaryPath("known.h5")
        try GaussianSet(gaussians: randomImageGSParameters(count: 3, width: 8, height: 8, seed: 1).detached(), width: 8, height: 8,
                        recipe: .merge([.fit(.imagegs), .gaussVAEImport])).write(to: known)
        XCTAssertEqual(try GaussianSet(contentsOf: known).recipe, .merge([.fit(.imagegs), .gaussVAEImport]))
    }
}
