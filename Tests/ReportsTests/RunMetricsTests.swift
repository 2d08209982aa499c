// Reading a training run's metrics.csv: columns, loss groups, the best epoch, and errors that
// name the file and the line for every kind of malformed input.

import Foundation
import SplatIO
import XCTest
@testable import Reports

final class RunMetricsTests: XCTestCase {
    private let source = "runs/x/metrics.csv"
    private let header = "epoch,train_total,train_reconstruction,train_kl,train_xy,train_scale,train_rotation,train_colour,"
        + "val_total,val_reconstruction,val_kl,val_xy,val_scale,val_rotation,val_colour,beta,learning_rate,seconds"

    /// A row of the standard header: epoch, then `total` for both totals and 1s elsewhere.
    private func row(_ epoch: Int, train: String = "1", validation: String) -> String {
        "\(epoch),\(train),1,1,1,1,1,1,\(validation),1,1,1,1,1,1,0.05,0.002,0.5"
    }

    /// The FileError `text` raises; fails the test when it parses.
    private func parseError(_ text: String, line: UInt = #line) -> FileError? {
        do {
            _ = try RunMetrics(csv: text, path: source)
            XCTFail("parsed malformed input:\n\(text)", line: line)
        } catch let error as FileError {
            XCTAssertEqual(error.path, source, line: line)
            return error
        } catch {
            XCTFail("not a FileError: \(error)", line: line)
        }
        return nil
    }

    func testColumnsGroupsAndValues() throws {
        // Windows line endings, spaces, a blank line and a diverged (nan) epoch are all accepted.
        let text = [header, row(1, train: "5.5", validation: "4"), " " + row(2, validation: "nan") + " ", "",
                    row(3, train: "2.25e-1", validation: "inf")].joined(separator: "\r\n") + "\r\n\n"
        let metrics = try RunMetrics(csv: text, path: source)
        XCTAssertEqual(metrics.columns.count, 18)
        XCTAssertEqual(metrics.rows.count, 3)
        XCTAssertEqual(metrics.epochs, [1, 2, 3])
        XCTAssertEqual(metrics.groupNames, ["xy", "scale", "rotation", "colour"])
        XCTAssertEqual(metrics.values("train_total"), [5.5, 1, 0.225])
        XCTAssertEqual(metrics.values("learning_rate"), [0.002, 0.002, 0.002])
        XCTAssertTrue(metrics.values("val_total")![1].isNaN)
        XCTAssertEqual(metrics.values("val_total")![2], .infinity)
        XCTAssertNil(metrics.values("val_render"))
        XCTAssertEqual(metrics.path, source)
    }

    func testRenderIsAGroupAndOneSidedColumnsAreNot() throws {
        let text = "epoch,train_total,train_render,train_extra,val_total,val_render\n1,2,0.5,7,3,0.4\n"
        let metrics = try RunMetrics(csv: text, path: source)
        XCTAssertEqual(metrics.groupNames, ["render"])
        XCTAssertEqual(metrics.values("train_extra"), [7])
    }

    func testBestEpochIsTheFirstLowestFiniteValidationTotal() throws {
        let totals = ["3", "2", "nan", "2", "2.5", "-inf"]
        let text = ([header] + totals.enumerated().map { row($0.offset + 1, validation: $0.element) }).joined(separator: "\n")
        let best = try XCTUnwrap(try RunMetrics(csv: text, path: source).bestEpoch)
        XCTAssertEqual(best.epoch, 2, "ties keep the earlier epoch; NaN and -inf are not improvements")
        XCTAssertEqual(best.validationTotal, 2)

        XCTAssertNil(try RunMetrics(csv: header + "\n" + row(1, validation: "nan"), path: source).bestEpoch)
        XCTAssertNil(try RunMetrics(csv: header, path: source).bestEpoch, "a header alone is a run with no epochs yet")
        XCTAssertEqual(try RunMetrics(csv: header, path: source).rows.count, 0)
    }

    func testMalformedInputNamesTheFileAndLine() {
        XCTAssertEqual(parseError("")?.reason.contains("is empty"), true)
        XCTAssertEqual(parseError(" \n\n")?.reason.contains("is empty"), true)
        XCTAssertEqual(parseError("step,loss\n1,2\n")?.reason.contains("line 1: the header must start with 'epoch'"), true)
        XCTAssertEqual(parseError("epoch,train_total,val_loss\n1,2,3\n")?.reason.contains("no 'val_total' column"), true)
        XCTAssertEqual(parseError("epoch,train_total,val_total,val_total\n")?.reason.contains("'val_total' appears twice"), true)
        // Line numbers count blank lines, as an editor shows them.
        let short = parseError([header, row(1, validation: "2"), "", "2,1,1"].joined(separator: "\n"))
        XCTAssertEqual(short?.reason, "line 4 has 3 values, but the header has 18 columns")
        let word = parseError([header, row(1, train: "abc", validation: "2")].joined(separator: "\n"))
        XCTAssertEqual(word?.reason, "line 2, column train_total: 'abc' is not a number")
        let empty = parseError([header, row(1, train: "", validation: "2")].joined(separator: "\n"))
        XCTAssertEqual(empty?.reason, "line 2, column train_total: '' is not a number")
        let epoch = parseError([header, "nan" + row(1, validation: "2").dropFirst()].joined(separator: "\n"))
        XCTAssertEqual(epoch?.reason.hasPrefix("line 2: the epoch is nan"), true)
    }

    func testMissingFileOrFolderIsAFileError() {
        let missing = (NSTemporaryDirectory() as NSString).appendingPathComponent("no-such-run-\(UUID().uuidString)/metrics.csv")
        XCTAssertThrowsError(try RunMetrics(contentsOf: missing)) { error in
            XCTAssertEqual((error as? FileError)?.path, missing)
            XCTAssertEqual((error as? FileError)?.reason.hasPrefix("no such file; the training commands write their logs"), true)
        }
        XCTAssertThrowsError(try RunMetrics(contentsOf: NSTemporaryDirectory())) { error in
            XCTAssertEqual((error as? FileError)?.reason, "is a folder, not a file")
        }
    }
}
