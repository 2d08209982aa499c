import Foundation
import SplatIO
import TestSupport
import XCTest

/// `.npy` / `.npz` reading and writing: round trips, byte-for-byte agreement with numpy's
/// writer, numpy as a client both ways (skipped when `python3 -c 'import numpy'` fails), and
/// damaged inputs, which must throw a `FileError` naming the file — never crash.
final class NPZTests: TemporaryDirectoryTestCase {
    /// One array of every supported dtype, including a scalar, an empty and a 3-D array.
    private let sampleArrays: [(name: String, array: NPYArray)] = [
        ("gaussians", NPYArray(shape: [4, 8], floats: (0..<32).map { Float($0) * 0.37 - 5 })),
        ("psnr", NPYArray(shape: [], values: .float64([31.25]))),
        ("counts", NPYArray(shape: [2, 1, 3], values: .int64([-(1 << 40), -1, 0, 1, 2, .max]))),
        ("small", NPYArray(shape: [3], values: .int32([.min, 7, .max]))),
        ("bytes", NPYArray(shape: [2, 2], values: .uint8([0, 1, 128, 255]))),
        ("mask", NPYArray(shape: [3], values: .bool([true, false, true]))),
        ("empty", NPYArray(shape: [0, 8], floats: [])),
        ("specials", NPYArray(shape: [4], values: .float64([-0.0, .infinity, 1e-310, .pi]))),
    ]

    // MARK: Round trips

    func testRoundTripStoredAndDeflatedKeepsValuesAndOrder() throws {
        for compressed in [false, true] {
            let path = temporaryPath(compressed ? "deflated.npz" : "stored.npz")
            try NPZ.write(sampleArrays, to: path, compressed: compressed)
            let entries = try NPZ.readEntries(path)
            XCTAssertEqual(entries.map(\.name), sampleArrays.map(\.name), "compressed: \(compressed)")
            XCTAssertEqual(entries.map(\.array), sampleArrays.map(\.array), "compressed: \(compressed)")
            XCTAssertEqual(try NPZ.read(path)["gaussians"], sampleArrays[0].array)
        }
        // Regular data compresses: the deflated archive is the smaller one.
        let repetitive = [("zeros", NPYArray(shape: [512, 8], floats: [Float](repeating: 0, count: 4096)))]
        try NPZ.write(repetitive, to: temporaryPath("z-stored.npz"), compressed: false)
        try NPZ.write(repetitive, to: temporaryPath("z-deflated.npz"), compressed: true)
        let storedSize = try XCTUnwrap(FileManager.default.contents(atPath: temporaryPath("z-stored.npz"))).count
        let deflatedSize = try XCTUnwrap(FileManager.default.contents(atPath: temporaryPath("z-deflated.npz"))).count
        XCTAssertGreaterThan(storedSize, 16_384)
        XCTAssertLessThan(deflatedSize, 1_000)
        XCTAssertEqual(try NPZ.read(temporaryPath("z-deflated.npz"))["zeros"], repetitive[0].1)
    }

    func testNPYFileRoundTripAndConversions() throws {
        let path = temporaryPath("array.npy")
        let array = NPYArray(shape: [2, 3], values: .int64([1, -2, 3, 1 << 24, 5, 6]))
        try NPY.write(array, to: path)
        let read = try NPY.read(path)
        XCTAssertEqual(read, array)
        XCTAssertEqual(try read.floats(), [1, -2, 3, 16_777_216, 5, 6])
        XCTAssertEqual(try NPYArray(shape: [2], values: .float64([0.5, -2])).floats(), [0.5, -2])
        XCTAssertEqual(try NPYArray(shape: [], values: .uint8([200])).doubles(), [200])
        XCTAssertThrowsError(try NPYArray(shape: [1], values: .bool([true])).floats())
        XCTAssertThrowsError(try NPYArray(shape: [1], values: .float64([1e300])).floats())
        XCTAssertEqual(try NPYArray(shape: [1], values: .float64([.infinity])).floats(), [.infinity])
        // The header is numpy's: padded with spaces and a newline so the data starts at 64.
        let bytes = NPY.encode(NPYArray(shape: [512, 8], floats: [Float](repeating: 1, count: 4096)))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertEqual(bytes[10 + headerLength - 1], 0x0A)
        XCTAssertEqual(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (512, 8), }")
    }

    /// Versions 2.0 and 3.0 (4-byte header length) and big-endian dtypes, built by hand.
    func testReadsVersion2And3HeadersAndBigEndianData() throws {
        func file(version: UInt8, descriptor: String, shape: String, data: [UInt8]) -> [UInt8] {
            let header = Array("{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shape), }\n".utf8)
            let length = UInt32(header.count)
            return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
                + withUnsafeBytes(of: length.littleEndian, Array.init) + header + data
        }
        let bigFloat = Array(withUnsafeBytes(of: Float(1.5).bitPattern.bigEndian, Array.init))
        let v2 = try NPY.decode(file(version: 2, descriptor: ">f4", shape: "(1,)", data: bigFloat), path: "v2.npy")
        XCTAssertEqual(v2, NPYArray(shape: [1], floats: [1.5]))
        let bigInt = Array(withUnsafeBytes(of: Int64(-3).bigEndian, Array.init))
            + Array(withUnsafeBytes(of: Int64(1 << 50).bigEndian, Array.init))
        let v3 = try NPY.decode(file(version: 3, descriptor: ">i8", shape: "(2,)", data: bigInt), path: "v3.npy")
        XCTAssertEqual(v3, NPYArray(shape: [2], values: .int64([-3, 1 << 50])))
        let bigDouble = Array(withUnsafeBytes(of: Double(-0.25).bitPattern.bigEndian, Array.init))
        let scalar = try NPY.decode(file(version: 2, descriptor: ">f8", shape: "()", data: bigDouble), path: "s.npy")
        XCTAssertEqual(scalar, NPYArray(shape: [], values: .float64([-0.25])))
        let int32 = Array(withUnsafeBytes(of: Int32(-7).bigEndian, Array.init))
        XCTAssertEqual(try NPY.decode(file(version: 3, descriptor: ">i4", shape: "(1, 1)", data: int32), path: "i.npy"),
                       NPYArray(shape: [1, 1], values: .int32([-7])))
        let version4 = file(version: 4, descriptor: "<f4", shape: "(1,)", data: [0, 0, 0, 0])
        let error = assertThrowsFileError(try NPY.decode(version4, path: "v4.npy"))
        XCTAssertEqual(error?.path, "v4.npy")
        XCTAssertTrue(error?.reason.contains("version 4.0") ?? false, error?.reason ?? "")
    }

    // MARK: Damaged inputs

    func testMalformedNPYHeadersThrowNamingTheProblem() throws {
        let good = NPY.encode(NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        func patched(_ old: String, _ new: String) -> [UInt8] {
            precondition(old.utf8.count == new.utf8.count)
            // Latin-1, one scalar per byte, so scalar offsets are byte offsets.
            let scalars = Array(String(good.prefix(128).map { Character(Unicode.Scalar($0)) }).unicodeScalars)
            let target = Array(old.unicodeScalars)
            let offset = (0...(scalars.count - target.count)).first { Array(scalars[$0..<($0 + target.count)]) == target }!
            var bytes = good
            bytes.replaceSubrange(offset..<(offset + old.utf8.count), with: Array(new.utf8))
            return bytes
        }
        let cases: [(bytes: [UInt8], expected: String)] = [
            (patched("False", "True "), "Fortran-order"),
            (patched("<f4", "<f2"), "unsupported dtype '<f2'"),
            (patched("(2, 3)", "(2, 4)"), "needs 32 data bytes, the array has 24"),
            (patched("(2, 3)", "(2, 2)"), "needs 16 data bytes, the array has 24"),
            (patched("'shape'", "'shapf'"), "keys"),
            (patched("(2, 3)", "(2, -3"), "malformed .npy header"),
            (patched("NUMPY", "NUMPX"), "bad magic"),
            (Array(good.dropLast(1)), "(truncated)"),
            (Array(good.prefix(40)), "truncated .npy header"),
            (Array(good.prefix(5)), "bad magic"),
        ]
        for (bytes, expected) in cases {
            let error = assertThrowsFileError(try NPY.decode(bytes, path: "x.npy", entry: "a.npy"))
            XCTAssertEqual(error?.path, "x.npy")
            XCTAssertTrue(error?.reason.contains(expected) ?? false, "expected '\(expected)' in: \(error?.reason ?? "nil")")
            XCTAssertTrue(error?.reason.hasPrefix("entry 'a.npy': ") ?? false, error?.reason ?? "")
        }
    }

    func testFortranOrderEntryInArchiveIsRejectedNamingTheEntry() throws {
        let path = temporaryPath("fortran.npz")
        var archive = try storedArchive([("gaussians", NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))])
        patchStoredEntry(&archive) { npy in
            let offset = try! XCTUnwrap(find(Array("False".utf8), in: npy))
            npy.replaceSubrange(offset..<(offset + 5), with: Array("True ".utf8))
        }
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let error = assertThrowsFileError(try NPZ.read(path))
        XCTAssertEqual(error?.path, path)
        XCTAssertTrue(error?.reason.contains("entry 'gaussians.npy'") ?? false, error?.reason ?? "")
        XCTAssertTrue(error?.reason.contains("Fortran-order") ?? false, error?.reason ?? "")
    }

    func testBadMagicAndNonZipInputs() throws {
        // An entry whose .npy magic is damaged (CRC recomputed so only the magic is wrong).
        var archive = try storedArchive([("weights", NPYArray(shape: [1], floats: [1]))])
        patchStoredEntry(&archive) { npy in npy[1] = UInt8(ascii: "X") }
        let error = assertThrowsFileError(try NPZ.decode(archive, path: "magic.npz"))
        XCTAssertTrue(error?.reason.contains("entry 'weights.npy'") ?? false, error?.reason ?? "")
        XCTAssertTrue(error?.reason.contains("bad magic") ?? false, error?.reason ?? "")

        let text = assertThrowsFileError(try NPZ.decode(Array("just some text, not an archive".utf8), path: "t.npz"))
        XCTAssertTrue(text?.reason.contains("not a zip archive") ?? false, text?.reason ?? "")
        let npy = assertThrowsFileError(try NPZ.decode(NPY.encode(NPYArray(shape: [1], floats: [1])), path: "a.npz"))
        XCTAssertTrue(npy?.reason.contains("this is a .npy array") ?? false, npy?.reason ?? "")
        let missing = assertThrowsFileError(try NPZ.read(temporaryPath("missing.npz")))
        XCTAssertEqual(missing?.path, temporaryPath("missing.npz"))
    }

    func testFlippedCRCByteIsDetected() throws {
        for compressed in [false, true] {
            let archive = try archiveBytes(sampleArrays, compressed: compressed)
            let central = try XCTUnwrap(find([0x50, 0x4B, 1, 2], in: archive))
            // Only the central directory's CRC: it disagrees with the local header.
            var centralOnly = archive
            centralOnly[central + 16] ^= 0x01
            let mismatch = assertThrowsFileError(try NPZ.decode(centralOnly, path: "crc.npz"))
            XCTAssertTrue(mismatch?.reason.contains("CRC") ?? false, mismatch?.reason ?? "")
            XCTAssertTrue(mismatch?.reason.contains("'gaussians.npy'") ?? false, mismatch?.reason ?? "")
            // Both copies of the CRC: the computed CRC-32 disagrees.
            var both = centralOnly
            both[14] ^= 0x01
            let computed = assertThrowsFileError(try NPZ.decode(both, path: "crc.npz"))
            XCTAssertTrue(computed?.reason.contains("CRC-32 mismatch") ?? false, computed?.reason ?? "")
        }
        // A damaged data byte of a stored entry: the CRC catches it.
        var stored = try archiveBytes(sampleArrays, compressed: false)
        stored[30 + "gaussians.npy".utf8.count + 64 + 5] ^= 0x40
        let damaged = assertThrowsFileError(try NPZ.decode(stored, path: "data.npz"))
        XCTAssertTrue(damaged?.reason.contains("CRC-32 mismatch") ?? false, damaged?.reason ?? "")
    }

    func testEveryTruncationThrowsAFileError() throws {
        for compressed in [false, true] {
            let archive = try archiveBytes(Array(sampleArrays.prefix(3)), compressed: compressed)
            for length in 0..<archive.count {
                let error = assertThrowsFileError(try NPZ.decode(Array(archive.prefix(length)), path: "cut.npz"))
                XCTAssertEqual(error?.path, "cut.npz", "length \(length)")
            }
        }
    }

    /// Seeded single-byte damage anywhere: a FileError or (for bytes nothing checks, such as
    /// timestamps) the original arrays — never a crash or wrong values.
    func testRandomByteDamageNeverCrashes() throws {
        var generator = SeededDamageGenerator(seed: 42)
        for compressed in [false, true] {
            let arrays = Array(sampleArrays.prefix(4))
            let archive = try archiveBytes(arrays, compressed: compressed)
            for _ in 0..<300 {
                var damaged = archive
                let position = Int(generator.next() % UInt64(archive.count))
                damaged[position] ^= UInt8(truncatingIfNeeded: generator.next() % 255 + 1)
                do {
                    let entries = try NPZ.decode(damaged, path: "fuzz.npz")
                    XCTAssertEqual(entries.map(\.array), arrays.map(\.array), "byte \(position) changed the values silently")
                } catch let error as FileError {
                    XCTAssertEqual(error.path, "fuzz.npz")
                } catch {
                    XCTFail("unexpected error type \(type(of: error)): \(error)")
                }
            }
        }
    }

    func testWriteRejectsDuplicateAndEmptyNames() throws {
        let array = NPYArray(shape: [1], floats: [1])
        let path = temporaryPath("bad.npz")
        XCTAssertTrue(assertThrowsFileError(try NPZ.write([("a", array), ("a", array)], to: path))?.reason.contains("twice") ?? false)
        XCTAssertNotNil(assertThrowsFileError(try NPZ.write([("", array)], to: path)))
        XCTAssertEqual(try directoryEntries(), [], "a failed write leaves nothing behind")
    }

    // MARK: numpy as a client

    /// Writes every dtype with np.savez and np.savez_compressed (argv[1], argv[2]), plus .npy
    /// files in format versions 2.0 and 3.0, and prints the bit patterns it wrote.
    private static let numpyWriteScript = #"""
    import json, sys
    import numpy as np
    rng = np.random.default_rng(7)
    arrays = {
        "gaussians": rng.standard_normal((512, 8)).astype(np.float32),
        "psnr": np.float64(28.125), "ssim": np.float32(0.875),
        "doubles": np.array([np.pi, -0.0, 1e-310]),
        "int32": np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
        "int64": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
        "bytes": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "mask": np.array([True, False]),
        "big_f4": np.array([1.5, -2.0], dtype=">f4"), "big_f8": np.array([0.1], dtype=">f8"),
        "big_i8": np.array([-5, 2**40], dtype=">i8"), "big_i4": np.array([-9], dtype=">i4"),
        "empty": np.zeros((0, 8), dtype=np.float32),
    }
    np.savez(sys.argv[1], **arrays)
    np.savez_compressed(sys.argv[2], **arrays)
    for version in [(2, 0), (3, 0)]:
        with open(sys.argv[3] + "-%d.npy" % version[0], "wb") as f:
            np.lib.format.write_array(f, arrays["gaussians"][:3], version=version)
    print(json.dumps({"gaussians": [format(int(b), "08x") for b in arrays["gaussians"].view(np.uint32).reshape(-1)],
                      "doubles": [format(int(b), "016x") for b in arrays["doubles"].view(np.uint64)],
                      "big_f8": format(int(arrays["big_f8"].astype("<f8").view(np.uint64)[0]), "016x")}))
    """#

    func testReadsArchivesWrittenByNumpy() throws {
        try skipUnlessNumpy()
        let stored = temporaryPath("numpy-stored.npz"), deflated = temporaryPath("numpy-deflated.npz")
        let prefix = temporaryPath("numpy-version")
        let result = try runPython(Self.numpyWriteScript, arguments: [stored, deflated, prefix])
        XCTAssertEqual(result.status, 0, result.standardError)
        let written = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let gaussianBits = try XCTUnwrap(written["gaussians"] as? [String])
        for path in [stored, deflated] {
            let arrays = try NPZ.read(path)
            XCTAssertEqual(arrays.keys.sorted(), ["big_f4", "big_f8", "big_i4", "big_i8", "bytes", "doubles", "empty",
                                                   "gaussians", "int32", "int64", "mask", "psnr", "ssim"])
            let gaussians = try XCTUnwrap(arrays["gaussians"])
            XCTAssertEqual(gaussians.shape, [512, 8])
            XCTAssertEqual(try gaussians.floats().map { hex($0.bitPattern, digits: 8) }, gaussianBits)
            XCTAssertEqual(arrays["psnr"], NPYArray(shape: [], values: .float64([28.125])))
            XCTAssertEqual(arrays["ssim"], NPYArray(shape: [], floats: [0.875]))
            XCTAssertEqual(try arrays["doubles"]?.doubles().map { hex($0.bitPattern, digits: 16) }, written["doubles"] as? [String])
            XCTAssertEqual(arrays["int32"], NPYArray(shape: [1, 2], values: .int32([.min, .max])))
            XCTAssertEqual(arrays["int64"], NPYArray(shape: [2], values: .int64([.min, .max])))
            XCTAssertEqual(arrays["bytes"], NPYArray(shape: [2, 3], values: .uint8([0, 1, 2, 3, 4, 5])))
            XCTAssertEqual(arrays["mask"], NPYArray(shape: [2], values: .bool([true, false])))
            XCTAssertEqual(arrays["big_f4"], NPYArray(shape: [2], floats: [1.5, -2]))
            XCTAssertEqual(try arrays["big_f8"]?.doubles().map { hex($0.bitPattern, digits: 16) }, [written["big_f8"] as? String ?? ""])
            XCTAssertEqual(arrays["big_i8"], NPYArray(shape: [2], values: .int64([-5, 1 << 40])))
            XCTAssertEqual(arrays["big_i4"], NPYArray(shape: [1], values: .int32([-9])))
            XCTAssertEqual(arrays["empty"], NPYArray(shape: [0, 8], floats: []))
        }
        for version in [2, 3] {
            let array = try NPY.read("\(prefix)-\(version).npy")
            XCTAssertEqual(array.shape, [3, 8])
            XCTAssertEqual(try array.floats().map { hex($0.bitPattern, digits: 8) }, Array(gaussianBits.prefix(24)))
        }
    }

    /// For each path in argv[1:]: checks the zip with zipfile.testzip, loads it with np.load
    /// and prints every array, as one JSON object keyed by path.
    private static let numpyReadScript = #"""
    import json, sys, zipfile
    import numpy as np
    def encode(a):
        if a.dtype.kind == "f":
            return [format(int(b), "x") for b in a.view(np.uint32 if a.itemsize == 4 else np.uint64).reshape(-1)]
        return [str(int(v)) for v in a.reshape(-1)]
    summary = {}
    for path in sys.argv[1:]:
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None, "bad CRC in " + str(z.testzip())
            methods = sorted({info.compress_type for info in z.infolist()})
        with np.load(path) as f:
            out = {name: {"dtype": f[name].dtype.str, "shape": list(f[name].shape), "values": encode(f[name])}
                   for name in f.files}
        summary[path] = {"order": list(out.keys()), "arrays": out, "methods": methods}
    print(json.dumps(summary))
    """#

    func testNumpyReadsArchivesSplatKitWrote() throws {
        try skipUnlessNumpy()
        let stored = temporaryPath("splatkit-stored.npz"), deflated = temporaryPath("splatkit-deflated.npz")
        try NPZ.write(sampleArrays, to: stored, compressed: false)
        try NPZ.write(sampleArrays, to: deflated, compressed: true)
        let result = try runPython(Self.numpyReadScript, arguments: [stored, deflated])
        XCTAssertEqual(result.status, 0, result.standardError)
        let summaries = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: [String: Any]])
        for (path, method) in [(stored, 0), (deflated, 8)] {
            let summary = try XCTUnwrap(summaries[path], path)
            XCTAssertEqual(summary["order"] as? [String], sampleArrays.map(\.name))
            XCTAssertEqual(summary["methods"] as? [Int], [method])
            let arrays = try XCTUnwrap(summary["arrays"] as? [String: [String: Any]])
            for (name, array) in sampleArrays {
                let entry = try XCTUnwrap(arrays[name], name)
                XCTAssertEqual(entry["dtype"] as? String, array.values.descriptor, name)
                XCTAssertEqual(entry["shape"] as? [Int], array.shape, name)
                XCTAssertEqual(entry["values"] as? [String], numpyStrings(array.values), name)
            }
        }
    }

    /// SplatKit's `.npy` bytes equal `np.save`'s for the same arrays (header, padding, data).
    func testNPYBytesEqualNumpySave() throws {
        try skipUnlessNumpy()
        let script = #"""
        import sys
        import numpy as np
        np.save(sys.argv[1] + "-a.npy", (np.arange(4096, dtype=np.float32) * np.float32(0.5)).reshape(512, 8))
        np.save(sys.argv[1] + "-b.npy", np.float64(2.5))
        np.save(sys.argv[1] + "-c.npy", np.arange(3, dtype=np.int64))
        np.save(sys.argv[1] + "-d.npy", np.zeros((2, 3, 4), dtype=np.float64))
        np.save(sys.argv[1] + "-e.npy", np.array([True, False]))
        """#
        let prefix = temporaryPath("numpy-save")
        let result = try runPython(script, arguments: [prefix])
        XCTAssertEqual(result.status, 0, result.standardError)
        let expected: [(String, NPYArray)] = [
            ("a", NPYArray(shape: [512, 8], floats: (0..<4096).map { Float($0) * 0.5 })),
            ("b", NPYArray(shape: [], values: .float64([2.5]))),
            ("c", NPYArray(shape: [3], values: .int64([0, 1, 2]))),
            ("d", NPYArray(shape: [2, 3, 4], values: .float64([Double](repeating: 0, count: 24)))),
            ("e", NPYArray(shape: [2], values: .bool([true, false]))),
        ]
        for (suffix, array) in expected {
            let numpyBytes = try XCTUnwrap(FileManager.default.contents(atPath: "\(prefix)-\(suffix).npy"))
            XCTAssertEqual(NPY.encode(array), [UInt8](numpyBytes), suffix)
        }
    }

    // MARK: Helpers

    private func archiveBytes(_ arrays: [(name: String, array: NPYArray)], compressed: Bool) throws -> [UInt8] {
        let path = temporaryPath("scratch-\(UUID().uuidString).npz")
        try NPZ.write(arrays, to: path, compressed: compressed)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
    }

    private func storedArchive(_ arrays: [(name: String, array: NPYArray)]) throws -> [UInt8] {
        try archiveBytes(arrays, compressed: false)
    }

    /// Edits (same length) the `.npy` bytes of the first entry of a STORED archive and rewrites
    /// both copies of its CRC, so the damage reaches the `.npy` decoder.
    private func patchStoredEntry(_ archive: inout [UInt8], _ edit: (inout [UInt8]) -> Void) {
        let nameLength = Int(archive[26]) | Int(archive[27]) << 8
        let size = (22..<26).reduce(0) { $0 | Int(archive[$1]) << (8 * ($1 - 22)) }
        let start = 30 + nameLength
        var npy = Array(archive[start..<(start + size)])
        edit(&npy)
        precondition(npy.count == size)
        archive.replaceSubrange(start..<(start + size), with: npy)
        let crc = Self.crc32(npy)
        let central = find([0x50, 0x4B, 1, 2], in: archive)!
        for offset in [14, central + 16] {
            for index in 0..<4 { archive[offset + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        }
    }

    /// CRC-32 (zip / IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit.
    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    private func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The strings numpyReadScript prints for these values.
    private func numpyStrings(_ values: NPYValues) -> [String] {
        switch values {
        case .float32(let v): return v.map { String($0.bitPattern, radix: 16) }
        case .float64(let v): return v.map { String($0.bitPattern, radix: 16) }
        case .int32(let v): return v.map { String($0) }
        case .int64(let v): return v.map { String($0) }
        case .uint8(let v): return v.map { String($0) }
        case .bool(let v): return v.map { $0 ? "1" : "0" }
        }
    }

    /// Why numpy cannot be used (nil when it can); probed once per test run.
    private static let numpyProblem: String? = {
        do {
            let probe = try runPython("import numpy")
            return probe.status == 0 ? nil : probe.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return "cannot run /usr/bin/env python3: \(error)"
        }
    }()

    private func skipUnlessNumpy() throws {
        if let problem = Self.numpyProblem {
            throw XCTSkip("numpy is not importable by python3 (\(problem)); install numpy to run the .npz interoperability tests")
        }
    }


}

/// SplitMix64: a seeded generator for the damage test (SplatIO's tests do not see TensorCore's).
private struct SeededDamageGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
