import ArgumentParser
import Foundation
import Models
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
        try createMaskFolder(output)
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
        let started = monotonicSeconds()
        let progress = MaskProgress(total: missing.count, started: started)
        let lock = NSLock()
        var firstError: Error?
        parallelItems(missing.count) { item in
            lock.lock()
            let failed = firstError != nil
            lock.unlock()
            if failed { return }
            let index = missing[item]
            let mask = generator.mask(index: index, kind: kind)
            do {
                try HoleMask.write(mask, width: size, height: size, to: path(index))
            } catch {
                lock.lock()
                if firstError == nil { firstError = error }
                lock.unlock()
                return
            }
            progress.finished(holeRatio: holeRatio(mask))
        }
        if let firstError { throw firstError }
        let seconds = monotonicSeconds() - started
        print(String(format: "wrote %d masks in %.1f s (%.1f masks/s), mean hole ratio %.3f → %@", missing.count, seconds,
                     Double(missing.count) / Swift.max(seconds, 1e-9), progress.meanHoleRatio, output as NSString))
    }
}

extension MaskKind: ExpressibleByArgument {}

/// Creates `folder` (and its parents) unless it exists; a file in the way is an error.
private func createMaskFolder(_ folder: String) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw FileError(folder, "exists and is not a folder") }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw FileError(folder, "cannot create the folder: \(error.localizedDescription)")
    }
}

/// Thread-safe progress lines: "done/total masks, masks/s, mean hole ratio, ETA", printed every
/// 200 masks or 2 s, whichever comes first, but at most twice a second, and at the end.
private final class MaskProgress: @unchecked Sendable {
    private let total: Int
    private let started: Double
    private let lock = NSLock()
    private var done = 0
    private var ratioSum = 0.0
    private var lastPrintedCount = 0
    private var lastPrintedTime: Double

    init(total: Int, started: Double) {
        self.total = total
        self.started = started
        lastPrintedTime = started
    }

    var meanHoleRatio: Double {
        lock.lock()
        defer { lock.unlock() }
        return ratioSum / Double(Swift.max(done, 1))
    }

    func finished(holeRatio: Float) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        ratioSum += Double(holeRatio)
        let now = monotonicSeconds()
        let sinceLast = now - lastPrintedTime
        let due = done == total || (sinceLast >= 0.5 && (done - lastPrintedCount >= 200 || sinceLast >= 2))
        guard due else { return }
        lastPrintedCount = done
        lastPrintedTime = now
        let rate = Double(done) / Swift.max(now - started, 1e-9)
        let width = String(total).count
        let counter = String(repeating: " ", count: Swift.max(0, width - String(done).count)) + "\(done)/\(total)"
        print(String(format: "  %@ masks  %7.1f masks/s  mean hole %.3f  ETA %@", counter as NSString, rate,
                     ratioSum / Double(done), formatDuration(Double(total - done) / rate) as NSString))
        fflush(stdout)
    }
}
