import Foundation
import SplatIO
import TensorCore

// What `evaluate-inpaint` writes about its items, so tools outside SplatKit can score other fills
// of exactly the same holes (scripts/reference/inpaint_baselines.py: OpenCV's Telea and
// Navier–Stokes) and check their scoring against ours.
//
// Per-item scores as CSV (`inpaintingScoresCSV`): image, mask, group, hole_ratio, the model's
// six columns (InpaintingScores.columnNames), then the push-pull fill's as `fill_<column>`;
// values with 6 significant digits. With item stems, a first column `item`.
//
// An item folder (`writeItemFiles`), for item i with stem NNNN_<image>_<mask> (names without
// their extension, `/` as `_`, so list entries in subfolders stay in the folder):
//   <stem>_original.png  the image as scored, 8-bit: exact where the image was only cropped (a
//                        photo scaled up to cover the mask was resampled, then rounded here)
//   <stem>_mask.png      the mask as scored, white = hole: exact (HoleMask)
//   <stem>.npz           float32 arrays exactly as scored: original (3, H, W), mask (H, W), 1 = hole,
//                        model (3, H, W) the network's output, push_pull (3, H, W) the classical fill
// and items.csv: the per-item scores with the stems.

extension InpaintingEvaluationItem {
    /// NNNN_<image>_<mask>: the file-name stem of the item at `index` (see the file comment).
    public func fileStem(index: Int) -> String {
        let bare = { (name: String) in ((name as NSString).deletingPathExtension).replacingOccurrences(of: "/", with: "_") }
        return String(format: "%04d_%@_%@", index, bare(imageName) as NSString, bare(maskName) as NSString)
    }
}

/// Per-item scores as CSV text (see the file comment); `itemStems`, one per result, add an `item` column.
public func inpaintingScoresCSV(_ results: [InpaintingEvaluationResult], itemStems: [String]? = nil) -> String {
    precondition(itemStems.map { $0.count == results.count } ?? true, "inpaintingScoresCSV: \(itemStems?.count ?? 0) stems for \(results.count) results")
    let columns = InpaintingScores.columnNames
    let header = (itemStems == nil ? [] : ["item"]) + ["image", "mask", "group", "hole_ratio"] + columns + columns.map { "fill_\($0)" }
    var lines = [header.joined(separator: ",")]
    for (index, result) in results.enumerated() {
        let values = [Double(holeRatio(result.item.mask))] + result.scores.values + result.baselineScores.values
        let names = [result.item.imageName, result.item.maskName, result.item.group]
        lines.append(((itemStems.map { [$0[index]] } ?? []) + names + values.map { String(format: "%.6g", $0) }).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}

extension InpaintingEvaluationResult {
    /// Writes the item's original and mask PNGs and its arrays as scored into `folder` (see the
    /// file comment); returns the stem.
    @discardableResult
    public func writeItemFiles(index: Int, to folder: String) throws -> String {
        let stem = item.fileStem(index: index)
        let (H, W) = (item.image.shape[1], item.image.shape[2])
        let path = { (suffix: String) in (folder as NSString).appendingPathComponent(stem + suffix) }
        try RGBImage(tensor: item.image).writePNG(to: path("_original.png"))
        try HoleMask.write(item.mask, width: W, height: H, to: path("_mask.png"))
        try NPZ.write([("original", NPYArray(shape: [3, H, W], floats: item.image.scalars)),
                       ("mask", NPYArray(shape: [H, W], floats: item.mask)),
                       ("model", NPYArray(shape: [3, H, W], floats: output.image.scalars)),
                       ("push_pull", NPYArray(shape: [3, H, W], floats: baselineOutput.scalars))], to: path(".npz"))
        return stem
    }
}
