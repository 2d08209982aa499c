import Foundation
import SplatIO
import XCTest

// `mpirun -np 2 splatkit train-inpaint` and `train`: synchronous data parallelism on tiny runs.
// The inpainting model has no batch norm and no randomness of its own, so 2 ranks × 2 images
// compute the gradient of 1 process × 4 images, up to float summation order (compared through
// Adam's first moment after one step, m = 0.1·g: the parameters themselves move by ≈ η·sign(g),
// which turns summation-order noise in gradients near zero into differences of η; the
// parameters' equality over several steps is DataParallelTests' with SGD); the VAE (whose conv
// blocks always hold batch norm, normalised per rank) must run, agree across ranks (the
// trainer compares the replicas bit for bit at every epoch), write one run folder as a single
// process does, and resume with another number of processes.

final class MPITrainingTests: MPIRunTestCase {
    /// A tiny inpainting U-Net (c = 4, one block, 32² crops) and recipe: batch 4, `steps` steps.
    private func writeInpaintingConfig(steps: Int) throws -> String {
        let yaml = """
            model: {base_channels: 4, residual_blocks: 1, group_norm_groups: 2, feature_channels: 3, patch_padding: 2,
                    patch_embedding_channels: 8, mlp_hidden: 8, cholesky_values: 3, semantic_features: 8, global_channels: 4}
            training: {batch_size: 4, steps: \(steps), crop_size: 32, learning_rate: 1.0e-3, checkpoint_every: \(steps),
                       validation_every: \(steps), validation_images: 2, validation_size: 32}
            seed: 3
            """
        try yaml.write(toFile: path("inpaint.yaml"), atomically: true, encoding: .utf8)
        return path("inpaint.yaml")
    }

    /// Every tensor under `group` (/parameters, /optimizer) of a checkpoint, by path.
    private func tensors(_ checkpoint: String, under group: String) throws -> [String: [Float]] {
        let file = try HDF5File(opening: checkpoint)
        var result: [String: [Float]] = [:]
        func walk(_ group: String) throws {
            for child in try file.children(of: group) {
                let childPath = group + "/" + child.name
                if child.kind == .group { try walk(childPath) } else { result[childPath] = try file.read(Float.self, from: childPath).values }
            }
        }
        try walk(group)
        return result
    }

    /// The sorted names in a run folder.
    private func runFiles(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(folder)).sorted()
    }

    func testInpaintingOnTwoRanksOfTwoComputesTheGradientOfOneProcessOfFour() throws {
        let images = try run(ranks: nil, ["dataset", "images", "--count", "6", "--size", "48", "--output", "images", "--seed", "2"])
        XCTAssertEqual(images.status, 0, images.output)
        let config = try writeInpaintingConfig(steps: 1)
        let single = try run(ranks: nil, ["train-inpaint", "--config", config, "--images", "images", "--output", "one"])
        XCTAssertEqual(single.status, 0, single.output)
        let job = try run(ranks: 2, ["train-inpaint", "--config", config, "--images", "images", "--output", "two"])
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("data parallel: 2 processes share each batch of 4"), job.output)
        XCTAssertEqual(try runFiles("two"), try runFiles("one"), "rank 0 alone should write the run folder")

        let one = try tensors(path("one/last.h5"), under: "/optimizer"), two = try tensors(path("two/last.h5"), under: "/optimizer")
        XCTAssertEqual(Set(one.keys), Set(two.keys))
        let moments = one.keys.filter { $0.hasSuffix("/m") }
        XCTAssertGreaterThan(moments.count, 10)
        for name in moments {
            // Two half-batch means summed vs one batch mean: relative to the tensor's largest element.
            let scale = one[name]!.map(abs).max()! + 1e-20
            for (a, b) in zip(one[name]!, two[name]!) { XCTAssertEqual(a / scale, b / scale, accuracy: 2e-5, name) }
        }

        // The 2-rank run resumes in one process.
        let resumed = try run(ranks: nil, ["train-inpaint", "--resume", path("two/last.h5"), "--images", "images", "--output", "two",
                                           "--steps", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
    }

    func testVAEOnTwoRanksWritesOneRunFolderAndResumesInOneProcess() throws {
        let data = try run(ranks: nil, ["dataset", "build", "--procedural", "24", "--size", "32", "--gaussians", "16", "--steps", "20",
                                        "--seed", "2", "--output", "sets.h5"])
        XCTAssertEqual(data.status, 0, data.output)
        let config = Self.repositoryRoot.appendingPathComponent("configs/test_tiny.yaml").path
        let single = try run(ranks: nil, ["train", "--config", config, "--data", "sets.h5", "--output", "one", "--epochs", "2"])
        XCTAssertEqual(single.status, 0, single.output)
        let job = try run(ranks: 2, ["train", "--config", config, "--data", "sets.h5", "--output", "two", "--epochs", "2"])
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("data parallel: 2 processes share each batch of 4"), job.output)
        XCTAssertEqual(job.output.components(separatedBy: "\nepoch 2:").count - 1, 1, "only rank 0 prints: \(job.output)")
        XCTAssertEqual(try runFiles("two"), try runFiles("one"), "rank 0 alone should write the run folder")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("two/logs")).count, 1, "one TensorBoard file")

        let resumed = try run(ranks: nil, ["train", "--resume", path("two/last.h5"), "--data", "sets.h5", "--output", "two",
                                           "--epochs", "3"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed from") && resumed.output.contains("epoch 3:"), resumed.output)
    }
}
