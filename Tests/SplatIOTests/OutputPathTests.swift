import Foundation
import SplatIO
import TestSupport
import XCTest

/// OutputPath.swift: an output never replaces an input, another output, a non-regular file or a
/// read-only file; `writeAtomically` refuses the last two before it writes anything.
final class OutputPathTests: TemporaryDirectoryTestCase {
    private func makeFile(_ name: String, _ text: String = "input", permissions: Int = 0o644) throws -> String {
        let path = temporaryPath(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        return path
    }

    func testAnOutputThatIsAnInputIsRefusedHoweverItIsSpelled() throws {
        let input = try makeFile("image.png")
        let symbolic = temporaryPath("link.png"), hard = temporaryPath("hard.png")
        try FileManager.default.createSymbolicLink(atPath: symbolic, withDestinationPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: hard)
        let spelled = (temporaryPath("sub") as NSString).appendingPathComponent("../image.png")
        try FileManager.default.createDirectory(atPath: temporaryPath("sub"), withIntermediateDirectories: true)
        for output in [input, symbolic, hard, spelled] {
            XCTAssertThrowsError(try requireOutputs([output], notAmong: [nil, input])) { error in
                XCTAssertEqual(error as? FileError, FileError(output, "is an input of this command (\(input)); choose another output path"))
            }
        }
        XCTAssertNoThrow(try requireOutputs([temporaryPath("new.png"), nil], notAmong: [input]))
    }

    func testTwoOutputsOfOneCommandMustDiffer() throws {
        let output = temporaryPath("out.h5")
        XCTAssertThrowsError(try requireOutputs([output, nil, output], notAmong: [])) { error in
            XCTAssertEqual(error as? FileError, FileError(output, "is also another output of this command (\(output)); "
                                                          + "give each output its own path"))
        }
    }

    func testNonRegularOutputsAreRefused() throws {
        let folder = temporaryPath("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (path, kind) in [(folder, "a folder"), ("/dev/null", "a character device")] {
            XCTAssertThrowsError(try requireOutputs([path], notAmong: [])) { error in
                XCTAssertEqual(error as? FileError, FileError(path, "exists and is \(kind), not a regular file; choose another output path"))
            }
            XCTAssertThrowsError(try writeAtomically(to: path) { XCTFail("wrote \($0)") })
        }
        XCTAssertTrue(try directoryEntries() == ["folder"], "nothing written beside it")
    }

    func testAReadOnlyOutputIsLeftAsItIs() throws {
        let readOnly = try makeFile("result.png", "keep me", permissions: 0o444)
        let expected = FileError(readOnly, "exists and is not writable (its permissions forbid it); it is left as it is: "
                                 + "make it writable, remove it, or choose another output path")
        XCTAssertThrowsError(try requireOutputs([readOnly], notAmong: [])) { XCTAssertEqual($0 as? FileError, expected) }
        XCTAssertThrowsError(try writeAtomically(to: readOnly) { XCTFail("wrote \($0)") }) {
            XCTAssertEqual($0 as? FileError, expected)
        }
        XCTAssertEqual(try String(contentsOfFile: readOnly, encoding: .utf8), "keep me")
        XCTAssertEqual(try directoryEntries(), ["result.png"])

        let writable = try makeFile("writable.png", "old")
        try writeAtomically(to: writable) { try Data("new".utf8).write(to: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(try String(contentsOfFile: writable, encoding: .utf8), "new")
    }
}
