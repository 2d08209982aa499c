// swift-tools-version:6.1
// SplatKit: learned compression of images as 2D Gaussian splats, CPU-first.
//
// Module graph (acyclic, one job each):
//   CBLAS, CHDF5, CPNG      system C libraries (Debian -dev packages, found with pkg-config)
//   CSystem                 glibc functions Swift does not import (allocator tuning), a vector sqrt
//                           (imported by TensorCore alone; others reach it through TensorCore)
//   CZlib                   zlib (deflate for .npz archives)
//   CMPI                    Open MPI (Debian's libopenmpi-dev), imported by MessagePassing alone
//   TensorCore              float32 tensors with reverse-mode autodiff over OpenBLAS
//   MessagePassing          the job's communicator over MPI (rank, size, allreduce, broadcast, gather)
//   SplatIO                 HDF5 files, PNG images and YAML configs (thin throwing wrappers)
//   NeuralNetwork           layers, named parameters, losses, optimizers, schedules, checkpoints
//   GaussianRasterizer      differentiable 2-D Gaussian rendering (top-K, additive, patch)
//   GaussianFitting         image → Gaussians: the fitting recipes, their starts, the layout colour solve, set files
//   EntropyCoding           range coder, adaptive models, CRC-32 (no dependencies)
//   LatentCoding            latents as bits: learned entropy models, their code tables, the latent stream
//   GaussianCodec           images as files of quantised, entropy-coded Gaussians (compress / decompress)
//   GaussianData            Gaussian-set datasets: procedural images, batch fitting, Morton order, npz
//   GaussianVAE             the VAEs over Gaussian sets: models, objective, training, inference
//   Inpainting              the inpainting U-Net: masks, training, inference, evaluation, classical fills
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
        .library(name: "GaussianFitting", targets: ["GaussianFitting"]),
        .library(name: "EntropyCoding", targets: ["EntropyCoding"]),
        .library(name: "LatentCoding", targets: ["LatentCoding"]),
        .library(name: "GaussianCodec", targets: ["GaussianCodec"]),
        .library(name: "GaussianData", targets: ["GaussianData"]),
        .library(name: "GaussianVAE", targets: ["GaussianVAE"]),
        .library(name: "Inpainting", targets: ["Inpainting"]),
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
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "TensorCore",
            dependencies: ["CBLAS", "CSystem"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // Implements TensorCore's `Communicator` over MPI; only the command line imports it.
        .target(name: "MessagePassing", dependencies: ["CMPI", "TensorCore"]),
        .target(
            name: "SplatIO",
            dependencies: ["CHDF5", "CPNG", "CZlib", "TensorCore", "EntropyCoding", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "NeuralNetwork",
            dependencies: ["TensorCore", "SplatIO"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "GaussianRasterizer",
            dependencies: ["TensorCore"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // No -Ounchecked: it reads set files (the hot kernels are the rasterizer's and the loss's).
        .target(
            name: "GaussianFitting",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer"]
        ),
        // Parses untrusted streams: built with Swift's checks in every configuration.
        .target(name: "EntropyCoding"),
        .target(name: "LatentCoding", dependencies: ["TensorCore", "NeuralNetwork", "EntropyCoding"]),
        // Parses untrusted streams (the decoder): Swift's checks stay on.
        .target(
            name: "GaussianCodec",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "EntropyCoding"]
        ),
        .target(
            name: "GaussianData",
            dependencies: ["TensorCore", "SplatIO", "GaussianRasterizer", "GaussianFitting"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "GaussianVAE",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "GaussianData", "LatentCoding"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "Inpainting",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "Reports",
            dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "GaussianCodec", "GaussianData", "GaussianVAE", "Inpainting"]
        ),
        .executableTarget(
            name: "SplatKitCLI",
            dependencies: [
                "TensorCore", "MessagePassing", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "LatentCoding", "GaussianCodec", "GaussianData", "GaussianVAE", "Inpainting", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (random inputs, gradient assertions, python3 runner).
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SplatIOTests", dependencies: ["TensorCore", "SplatIO", "CPNG", "TestSupport"]),
        .testTarget(name: "GaussianRasterizerTests", dependencies: ["TensorCore", "GaussianRasterizer", "TestSupport"]),
        .testTarget(name: "GaussianDataTests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "GaussianData", "TestSupport"]),
        .testTarget(name: "EntropyCodingTests", dependencies: ["TensorCore", "EntropyCoding"]),
        .testTarget(name: "LatentCodingTests", dependencies: ["TensorCore", "NeuralNetwork", "EntropyCoding", "LatentCoding", "TestSupport"]),
        .testTarget(name: "GaussianCodecTests", dependencies: ["TensorCore", "SplatIO", "GaussianRasterizer", "EntropyCoding", "GaussianCodec"]),
        .testTarget(name: "GaussianFittingTests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "TestSupport"]),
        .testTarget(name: "GaussianVAETests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "GaussianData", "GaussianVAE", "LatentCoding"]),
        .testTarget(name: "InpaintingTests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "Inpainting", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "GaussianRasterizer", "GaussianFitting", "GaussianData", "GaussianVAE", "Inpainting", "Reports"]),
        // Reads docs/ARCHITECTURE.md, Package.swift and every import line; imports no module.
        .testTarget(name: "ArchitectureTests"),
        // Runs the built splatkit under mpirun; reads the checkpoints it writes with SplatIO.
        .testTarget(name: "ScalingTests", dependencies: ["SplatIO", "TestSupport"]),
        .testTarget(name: "NeuralNetworkTests", dependencies: ["TensorCore", "SplatIO", "NeuralNetwork", "TestSupport"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
