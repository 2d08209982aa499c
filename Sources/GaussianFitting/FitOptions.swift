import GaussianRasterizer
import TensorCore

// What a fit is asked for and what it reports: the recipes (described in GaussianFitter.swift),
// starts, options, progress, result, and a caller's revision of the set during a fit.

/// Which published recipe to follow.
public enum FitRecipe: String, CaseIterable, Sendable {
    case imagegs, gaussianimage
    /// SplatKit's variant of imagegs for datasets that models learn from: every Gaussian from
    /// the start on a regular grid in Morton order (GridPlacement.swift; no random placement, no
    /// growth), so the i-th Gaussian of every set starts in the same cell and the sets are alike
    /// where the images are alike. Everything else is imagegs.
    case imagegsGrid = "imagegs-grid"
    /// imagegs-grid with the centres held where the grid put them: shape and colour are fitted,
    /// positions are not (a set's positions are the same for every image).
    case imagegsGridFixed = "imagegs-grid-fixed"
    /// imagegs-grid with centres and shapes held: round Gaussians of one size
    /// (`layoutSigmaPerSpacing`) at the cells' centres; only the colours are fitted.
    case imagegsGridLayout = "imagegs-grid-layout"
    /// imagegs-grid-layout's layout with the colours solved, not descended: the ridge
    /// least-squares colours (`layoutRidge`) of the top-K render, clamped to [0, 1].
    case imagegsGridLayoutRidge = "imagegs-grid-layout-ridge"

    /// Whether every Gaussian starts on the grid in Morton order of the cells, without growth.
    public var placesOnGrid: Bool { self != .imagegs && self != .gaussianimage }
    /// Whether the fit moves the Gaussians' centres.
    public var fitsPositions: Bool { self == .imagegs || self == .gaussianimage || self == .imagegsGrid }
    /// Whether the fit changes the Gaussians' sizes and orientations.
    public var fitsShapes: Bool { !usesFixedLayout }
    /// Whether the fit runs optimisation steps (the ridge layout solves its colours in one go).
    public var takesSteps: Bool { self != .imagegsGridLayoutRidge }
    /// The rasterizer the recipe optimises for, which is the one that draws its sets.
    public var renderer: SetRenderer { self == .gaussianimage ? .additive : .topK }
    /// Whether every Gaussian is round, of one size, at its cell's centre (only colours fitted).
    public var usesFixedLayout: Bool { self == .imagegsGridLayout || self == .imagegsGridLayoutRidge }

    /// The layout's σ over the grid spacing √(W·H/N): the median σ of free imagegs-grid fits of
    /// 512 Gaussians to 96 × 96 crops (2.5 px at a 4.2 px spacing), so neighbours overlap as
    /// much as there.
    public static let layoutSigmaPerSpacing: Float = 0.6

    /// imagegs-grid-layout-ridge's λ over the mean diagonal of AᵀA (see LayoutColourSolver).
    public static let layoutRidge: Float = 0.1

    /// Whether the recipe renders with GaussianImage's additive rasterizer (else top-K).
    public var isAdditive: Bool { self == .gaussianimage }
}

/// How new Gaussians added during Image-GS's growth get their colour.
public enum GrowthColour: String, CaseIterable, Sendable {
    /// The residual (target − render) at the chosen pixel.
    case residual
    /// The target colour at the chosen pixel.
    case target
}

/// How an Image-GS fit places and shapes the Gaussians it starts with (and adds while growing).
public enum FitStart: String, CaseIterable, Sendable {
    /// Image-GS: a uniform share, the rest drawn ∝ squared gradient; round, σ = 1/initialScale.
    case gradient
    /// Drawn from a multi-scale structure prior, shaped by the local structure tensor
    /// (StructureGuidedStart.swift).
    case structure
}

/// A change of the set during an Image-GS fit: after step `step`, `keep` sees the rows (n, 8)
/// and returns the rows to keep (ascending indices) or nil to keep all; the fit goes on with
/// them (the codec's rate probe cuts a set whose stream would exceed its budget).
public struct FitRevision {
    public let step: Int
    public let keep: (Tensor) -> [Int]?

    public init(step: Int, keep: @escaping (Tensor) -> [Int]?) {
        self.step = step
        self.keep = keep
    }
}

/// Settings of a fit; defaults are the recipes' published values.
public struct FitOptions: Sendable {
    public var gaussians = 512
    /// The most optimisation steps to run.
    public var steps = 5000
    public var recipe = FitRecipe.imagegs
    public var seed: UInt64 = 0
    // Image-GS
    public var initialFraction: Float = 0.5
    public var growthBatches = 4
    public var growthInterval = 500
    public var growthColour = GrowthColour.residual
    public var uniformFraction: Float = 0.3
    /// Initial inverse standard deviation (1/px): 0.2 is σ = 5 px.
    public var initialScale: Float = 0.2
    public var start = FitStart.gradient
    /// Weight of the geometry-consistent regulariser (GeometryRegularizer.swift); 0: off.
    public var geometryWeight: Float = 0
    public var learningRateXY: Float = 5e-4
    public var learningRateScale: Float = 2e-3
    public var learningRateRotation: Float = 2e-3
    public var learningRateColour: Float = 5e-3
    public var ssimWeight: Float = 0.1
    /// Weight m of a mean-squared-error term added to Image-GS's L1 + SSIM loss (0: off): PSNR
    /// measures the squared error, which L1 weighs less where errors are large.
    public var mseWeight: Float = 0
    public var plateauPatience = 1000
    public var minimumStepsWhenGrowing = 5000
    public var topK = TopKOptions()
    /// Natural selection (NaturalSelection.swift): start with more Gaussians and end with
    /// exactly `gaussians`; Image-GS recipes placed freely (imagegs), without growth. nil: off.
    public var selection: NaturalSelection?
    // GaussianImage
    public var gaussianImageLearningRate: Float = 1e-3
    public var gaussianImageHalvingInterval = 20_000

    public init() {}
}

/// A progress report, sent every `progressInterval` steps and at the end.
public struct FitProgress: Sendable {
    public let step: Int
    public let totalSteps: Int
    public let gaussians: Int
    public let psnr: Float
    public let ssim: Float
    public let loss: Float
    public let stepsPerSecond: Double
    /// Seconds left at the current rate if every remaining step runs.
    public var estimatedSecondsLeft: Double { Double(totalSteps - step) / Swift.max(stepsPerSecond, 1e-9) }
}

/// The outcome of a fit.
public struct FitResult {
    /// Image-GS parameters (N, 8), whatever the recipe.
    public let gaussians: Tensor
    public let psnr: Float
    public let ssim: Float
    public let steps: Int
    public let seconds: Double
    public let recipe: FitRecipe
}
