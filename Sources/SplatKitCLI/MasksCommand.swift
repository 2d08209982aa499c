import ArgumentParser
import Foundation
import Inpainting
import SplatIO
import TensorCore

/// `splatkit masks`: write seeded inpainting hole masks as `DIR/mask_00000.png …` (white = hole).
///
/// Mask i depends only on (seed, i, kind, size) (Masks.swift), so the run is parallel yet
/// deterministic, and resumable: files already present are skipped, and each file is written
/// atomically, so an interrupted run leaves no partial mask.
struct MasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masks",
        abstract: "Write seeded inpainting masks as PNG files, white = hole (parallel, resumable).",
        discussion: """
            Kinds: small = irregular strokes (lines, circles, ellipse arcs, brush strokes) covering 20–40 % \
            of the image; large = the same, 40–60 %; box = rectangles, 20–50 %.
            """)

    @Option(help: "Number of masks.")
    var count: Int

    @Option(help: "Side of the square masks in pixels (16…4096).")
    var size: Int = 256

    @Option(help: "Mask class: small, large or box.")
    var kind: MaskKind = .small

    @Option(help: "Folder for the masks (created if needed).")
    var output: String

    @Option(help: "Collection seed: mask i is the same for the same seed, whatever else changes.")
    var seed: UInt64 = 0

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard (16...4096).contains(size) else { throw ValidationError("--size must be in 16…4096, got \(size)") }
        guard !output.isEmpty else { throw ValidationError("--output must name a folder") }
    }

    func run() throws {
        try compute.apply()
        try createOutputFolder(output)
        let digits = Swift.max(5, String(count - 1).count)
        func path(_ index: Int) -> String {
            let number = String(index)
            let name = "mask_" + String(repeating: "0", count: Swift.max(0, digits - number.count)) + number + ".png"
            return (output as NSString).appendingPathComponent(name)
        }
        let missing = (0..<count).filter { !FileManager.default.fileExists(atPath: path($0)) }
        let range = kind.holeRatioRange
        print("masks: \(count) \(kind.rawValue) masks \(size)×\(size) (\(Int(range.lowerBound * 100))–"
              + "\(Int(range.upperBound * 100)) % hole), seed \(seed), \(ComputeThreads.count) threads → \(output)/")
        if missing.count < count { print("  \(count - missing.count) already exist (skipped), \(missing.count) to write") }
        guard !missing.isEmpty else {
            print("nothing to do")
            return
        }

        let generator = MaskGenerator(width: size, height: size, seed: seed)
        let progress = BatchProgress(total: missing.count, unit: "masks", every: 200)
        let ratios = HoleRatioSum()
        try writeInParallel(missing) { index in
            let mask = generator.mask(index: index, kind: kind)
            try HoleMask.write(mask, width: size, height: size, to: path(index))
            ratios.add(holeRatio(mask))
            progress.finishedOne { done in String(format: "  mean hole %.3f", ratios.mean) }
        }
        let seconds = progress.elapsed
        print(String(format: "wrote %d masks in %.1f s (%.1f masks/s), mean hole ratio %.3f → %@", missing.count, seconds,
                     Double(missing.count) / Swift.max(seconds, 1e-9), ratios.mean, output as NSString))
    }
}

extension MaskKind: ExpressibleByArgument {}

/// A thread-safe running mean of hole ratios.
private final class HoleRatioSum: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = 0.0, count = 0

    func add(_ ratio: Float) {
        lock.lock()
        sum += Double(ratio)
        count += 1
        lock.unlock()
    }

    var mean: Double {
        lock.lock()
        defer { lock.unlock() }
        return sum / Double(Swift.max(count, 1))
    }
}
