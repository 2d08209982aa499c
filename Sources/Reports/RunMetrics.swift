import Foundation
import SplatIO

// The `metrics.csv` of a VAE training run (written by Models' MetricsLog), read back for the
// run report: a header, then one row of numbers per epoch, epochs counted from 1:
//
//   epoch, train_total, train_reconstruction, train_kl, train_<group>… [, train_render],
//   val_total, val_reconstruction, val_kl, val_<group>… [, val_render], beta, learning_rate, seconds
//
// Reading is strict where the report depends on it and lenient elsewhere: the header must
// start with `epoch` and hold `train_total` and `val_total`, names must be unique, every row
// must have one number per column (`nan` and `inf` are numbers: a diverged epoch is still
// drawn, as a gap). Other columns are optional, so logs of older or newer runs still read.
// Every problem is a `FileError` naming the file and, for a row, its line number.

/// The per-epoch numbers of a training run.
public struct RunMetrics: Sendable {
    /// The file the numbers came from (named in errors and in the report).
    public let path: String
    /// Column names in file order; the first is "epoch".
    public let columns: [String]
    /// rows[i][j] is the value of column j in the i-th epoch row, in file order.
    public let rows: [[Double]]

    /// Reads and checks `path` (see the file comment).
    ///
    /// - Parameters:
    ///   - position: the first column's name: "epoch" for `splatkit train`'s metrics.csv, "step"
    ///     for the train.csv and validation.csv of `splatkit train-inpaint`.
    ///   - required: columns the header must hold.
    public init(contentsOf path: String, position: String = "epoch", required: [String] = ["train_total", "val_total"]) throws {
        let text = try readTextFile(path, missingHint: "; the training commands write their logs into their --output folder")
        try self.init(csv: text, path: path, position: position, required: required)
    }

    /// Parses CSV `text`; `path` names the source in errors.
    public init(csv text: String, path: String, position: String = "epoch", required: [String] = ["train_total", "val_total"]) throws {
        self.path = path
        // (line number from 1, cells) of every non-blank line; "\n", "\r\n" and "\r" end lines.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().compactMap { index, line in
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : (number: index + 1, cells: trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) })
        }
        guard let header = lines.first else {
            throw FileError(path, "is empty; expected a header line (\(([position] + required).joined(separator: ",")),…) and a row per \(position)")
        }
        let columns = header.cells
        guard columns.first == position else {
            throw FileError(path, "line \(header.number): the header must start with '\(position)', found '\(columns[0])'; "
                            + "is this a log of the training command that writes it?")
        }
        for required in required where !columns.contains(required) {
            throw FileError(path, "line \(header.number): the header has no '\(required)' column")
        }
        if let repeated = columns.enumerated().first(where: { columns[..<$0.offset].contains($0.element) }) {
            throw FileError(path, "line \(header.number): column '\(repeated.element)' appears twice")
        }
        let rows = try lines.dropFirst().map { line in
            guard line.cells.count == header.cells.count else {
                throw FileError(path, "line \(line.number) has \(line.cells.count) values, but the header has \(header.cells.count) columns")
            }
            return try zip(line.cells, header.cells).map { cell, column in
                guard let value = Double(cell) else {
                    throw FileError(path, "line \(line.number), column \(column): '\(cell)' is not a number")
                }
                return value
            }
        }
        if let bad = rows.firstIndex(where: { !$0[0].isFinite }) {
            throw FileError(path, "line \(lines[bad + 1].number): the \(position) is \(rows[bad][0]), not a number")
        }
        self.columns = columns
        self.rows = rows
    }

    /// The values of `column`, one per epoch row; nil when the file has no such column.
    public func values(_ column: String) -> [Double]? {
        columns.firstIndex(of: column).map { index in rows.map { $0[index] } }
    }

    /// The epoch of each row (from 1) of an epoch-indexed log.
    public var epochs: [Double] { positions }

    /// The first column of each row (epochs or steps).
    public var positions: [Double] { rows.map { $0[0] } }

    /// The loss groups logged for both training and validation besides total, reconstruction
    /// and KL, in column order: xy, scale, rotation, colour (plain representation), and render
    /// when the render loss was on.
    public var groupNames: [String] {
        columns.compactMap { column -> String? in
            guard column.hasPrefix("train_") else { return nil }
            let name = String(column.dropFirst("train_".count))
            return ["total", "reconstruction", "kl"].contains(name) || !columns.contains("val_" + name) ? nil : name
        }
    }

    /// The epoch with the lowest finite validation total, the first of equal ones (as the
    /// trainer keeps best.h5: only a strict improvement replaces it); nil with no finite value.
    public var bestEpoch: (epoch: Int, validationTotal: Double)? {
        guard let totals = values("val_total") else { return nil }
        var best: (epoch: Int, validationTotal: Double)?
        for (epoch, total) in zip(epochs, totals) where total.isFinite && total < (best?.validationTotal ?? .infinity) {
            best = (Int(epoch), total)
        }
        return best
    }
}
