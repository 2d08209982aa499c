import Foundation
import SplatIO

/// A training log as CSV: a header, then one row of numbers per event, appended as they happen.
/// The first column is the run's position (an epoch or a step); a log reopened for a resumed
/// run keeps only the rows at or before the checkpoint's position, so rows a run wrote after
/// the checkpoint (before it was interrupted) are not repeated.
public struct CSVLog {
    public let path: String
    public let header: [String]

    /// Opens (creating or trimming) the log at `path`, keeping rows whose first cell is at most
    /// `position`. An existing log with another header is an error naming the file.
    public init(path: String, header: [String], keepingRowsThrough position: Int) throws {
        self.path = path
        self.header = header
        let headerLine = header.joined(separator: ",")
        var lines = [headerLine]
        if FileManager.default.fileExists(atPath: path) {
            let existing = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            guard existing.first == nil || existing.first == headerLine else {
                throw FileError(path, "has other columns than this run writes (\(existing.first!)); move it away")
            }
            lines += existing.dropFirst().filter { line in
                Double(line.prefix { $0 != "," }).map { $0 <= Double(position) } ?? false
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        try writeAtomically(to: path) { temporary in try text.write(toFile: temporary, atomically: false, encoding: .utf8) }
    }

    /// Appends a row (one value per header column, written with 8 significant digits).
    public func append(_ values: [Double]) throws {
        precondition(values.count == header.count, "CSVLog: \(values.count) values for \(header.count) columns of \(path)")
        let line = values.map { String(format: "%.8g", $0) }.joined(separator: ",") + "\n"
        guard let handle = FileHandle(forWritingAtPath: path) else { throw FileError(path, "cannot open to append") }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            throw FileError(path, "cannot append: \(error.localizedDescription)")
        }
    }
}
