// swift-tools-version:6.1
// SplatKit: learned compression of images as 2D Gaussian splats, CPU-first.
//
// Module graph (acyclic, one job each):
//   CBLAS, CHDF5, CPNG      system C libraries (Debian -dev packages, found with pkg-config)
//   CSystem                 glibc functions Swift does not import (allocator tuning), a vector sqrt
//   CZlib                   zlib (deflate for .npz archives)
//   TensorCore              float32 tensors with reverse-mode autodiff over OpenBLAS
//   SplatIO                 HDF5 files, PNG images and YAML configs (thin throwing wrappers)
//   NeuralNetwork           layers, named parameters, losses, optimizers, schedules, checkpoints
//   GaussianRasterizer      differentiable 2-D Gaussian rendering, image → Gaussians fitting, metrics
//   GaussianData            Gaussian-set datasets: procedural images, batch fitting, Morton order, npz
//   Models                  the VAEs over Gaussian sets and the inpainting U-Net
//   Reports                 static HTML reports with SVG charts and PNG figures
//   SplatKitCLI             the `splatkit` command line
import PackageDescription

let package = Package(
    name: "SplatKit",
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "SplatIO", targets: ["SplatIO"]),
        .library(name: "NeuralNetwork", targets: ["NeuralNetwork"]),
        .library(name: "GaussianRasterizer", targets: ["GaussianRasterizer"]),
        .library(name: "GaussianData", targets: ["GaussianData"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Reports", targets: ["Reports"]),
        .executable(name: "splatkit", targets: ["SplatKitCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // `providers:` only prints a hint; scripts/install-deps installs the packages.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSystem"),  // glibc's mallopt (omitted by Swift's Glibc module), a vector sqrt
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "TensorCore",
            dependencies: ["CBLAS", "CSystem"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "SplatIO",
            dependencies: ["CHDF5", "CPNG", "CZlib", "TensorCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "NeuralNetwork",
            dependencies: ["TensorCore", "SplatIO", "CSystem"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "GaussianRasterizer",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "GaussianData",
            dependencies: ["TensorCore", "SplatIO", "GaussianRasterizer"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "Models",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianData"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "Reports",
            dependencies: ["TensorCore", "SplatIO", "GaussianRasterizer", "GaussianData", "Models"]
        ),
        .executableTarget(
            name: "SplatKitCLI",
            dependencies: [
                "TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianData", "Models", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (random inputs, gradient assertions, python3 runner).
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SplatIOTests", dependencies: ["SplatIO", "TestSupport"]),
        .testTarget(name: "GaussianRasterizerTests", dependencies: ["GaussianRasterizer", "TestSupport"]),
        .testTarget(name: "GaussianDataTests", dependencies: ["GaussianData", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
        .testTarget(name: "NeuralNetworkTests", dependencies: ["NeuralNetwork", "TestSupport"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
