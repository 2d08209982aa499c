import Foundation
import XCTest

// `mpirun -np 2 splatkit dataset build`: ranks fit disjoint items and rank 0 writes them, so the
// file is byte for byte the one a single process writes; a job that loses a rank fails with
// a message and the same command resumes it, with any number of processes.

final class MPIDatasetBuildTests: MPIRunTestCase {
    /// A tiny procedural build: 8 images of 32², 16 Gaussians, 30 steps, into `output`.
    private func build(_ output: String, images: Int = 8) -> [String] {
        ["dataset", "build", "--procedural", String(images), "--size", "32", "--gaussians", "16", "--steps", "30",
         "--seed", "5", "--output", output]
    }

    func testTwoRanksWriteTheBytesOfOneProcess() throws {
        let single = try run(ranks: nil, build("one.h5"))
        XCTAssertEqual(single.status, 0, single.output)
        let job = try run(ranks: 2, build("two.h5"))
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("in each of 2 processes"), job.output)
        XCTAssertEqual(job.output.components(separatedBy: "done: two.h5 is complete").count - 1, 1,
                       "only rank 0 prints: \(job.output)")
        let one = try Data(contentsOf: URL(fileURLWithPath: path("one.h5")))
        let two = try Data(contentsOf: URL(fileURLWithPath: path("two.h5")))
        XCTAssertEqual(one, two, "the 2-rank dataset differs from the 1-process one")

        // An error on rank 0 alone (the output exists with other settings) ends the whole job
        // with its message (MPI_Abort) instead of leaving rank 1 waiting for rank 0.
        var other = build("two.h5")
        other[other.firstIndex(of: "--gaussians")! + 1] = "8"
        let refused = try run(ranks: 2, other)
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("splatkit (rank 0 of 2): Error: two.h5: exists with other settings"), refused.output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("two.h5"))), one, "a refused build must not touch the file")

        // A command that would only repeat its work on every rank is refused under mpirun.
        let repeated = try run(ranks: 2, ["dataset", "info", "two.h5"])
        XCTAssertNotEqual(repeated.status, 0, repeated.output)
        XCTAssertTrue(repeated.output.contains("this command runs in one process"), repeated.output)
    }

    func testAKilledRankFailsTheJobAndTheCommandResumes() throws {
        let images = 16
        var killed: Int32?
        let job = try run(ranks: 2, build("killed.h5", images: images)) { output, mpirun in
            // After the first window is written, kill rank 1 (not the writer).
            guard killed == nil, output.contains("/\(images) images") else { return }
            if let victim = self.rankProcesses(of: mpirun.processIdentifier, rank: 1).first {
                killed = victim
                kill(victim, SIGKILL)
            }
        }
        XCTAssertNotNil(killed, "rank 1 was never found to kill: \(job.output)")
        XCTAssertNotEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("rank 1") && job.output.contains("signal 9"),
                      "mpirun should name the dead rank: \(job.output)")
        let resumed = try run(ranks: 2, build("killed.h5", images: images))
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("done: killed.h5 is complete"), resumed.output)
        XCTAssertFalse(resumed.output.contains(" 0/\(images) images"), resumed.output)
        // A resumed HDF5 file is laid out differently from one written at once (as after a
        // single process's Ctrl-C); its contents are the same: compare them as GaussVAE .npz files.
        let single = try run(ranks: nil, build("single.h5", images: images))
        XCTAssertEqual(single.status, 0, single.output)
        for name in ["killed", "single"] {
            let export = try run(ranks: nil, ["dataset", "export-npz", "\(name).h5", "--output", "\(name)-npz"])
            XCTAssertEqual(export.status, 0, export.output)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: path("single-npz")).sorted()
        XCTAssertEqual(files.filter { $0.hasSuffix(".npz") }.count, images + 1, "\(files)")  // + normalization_stats.npz
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("killed-npz")).sorted(), files)
        for file in files {
            XCTAssertEqual(FileManager.default.contents(atPath: path("killed-npz/\(file)")),
                           FileManager.default.contents(atPath: path("single-npz/\(file)")),
                           "\(file): a killed and resumed build differs from an uninterrupted one")
        }
    }
}
