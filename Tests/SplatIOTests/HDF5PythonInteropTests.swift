import Foundation
import SplatIO
import TestSupport
import XCTest

/// h5py as a real client, both ways: h5py reads what SplatKit writes, and SplatKit reads what
/// h5py writes. Numbers cross the process boundary as hexadecimal bit patterns (floats) or
/// decimal strings (integers) so every comparison is exact. Skipped, with the reason, when
/// `python3 -c 'import h5py'` fails; CI installs h5py so these run there.
final class HDF5PythonInteropTests: TemporaryDirectoryTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        let problem: String
        do {
            let probe = try runPython("import h5py, numpy")
            if probe.status == 0 { return }
            problem = probe.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            problem = "cannot run /usr/bin/env python3: \(error)"
        }
        throw XCTSkip("h5py is not importable by python3 (\(problem)); install h5py to run the HDF5 interoperability tests")
    }

    // MARK: SplatKit writes, h5py reads

    /// Prints, as JSON, every dataset (dtype, shape, values, chunking, compression) and every
    /// attribute of the root, groups and datasets of the file in argv[1].
    private static let summarizeScript = #"""
    import h5py, json, sys
    import numpy as np

    def encode(array):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            width = array.dtype.itemsize * 2
            bits = array.view(np.uint32 if array.dtype.itemsize == 4 else np.uint64)
            return [format(int(b), "0%dx" % width) for b in bits.reshape(-1)]
        return [str(int(v)) for v in array.reshape(-1)]

    def attributes(obj):
        result = {}
        for name, value in obj.attrs.items():
            if isinstance(value, str):
                result[name] = {"python_type": "str", "value": value}
            else:
                value = np.asarray(value)
                result[name] = {"python_type": type(obj.attrs[name]).__name__, "dtype": str(value.dtype),
                                "shape": list(value.shape), "values": encode(value)}
        return result

    summary = {"datasets": {}, "groups": {}}
    with h5py.File(sys.argv[1], "r") as f:
        summary["groups"]["/"] = attributes(f)
        def visit(name, obj):
            path = "/" + name
            if isinstance(obj, h5py.Dataset):
                summary["datasets"][path] = {
                    "dtype": str(obj.dtype), "shape": list(obj.shape), "values": encode(obj[()]),
                    "maxshape": [m if m is not None else -1 for m in obj.maxshape],
                    "chunks": list(obj.chunks) if obj.chunks else None,
                    "compression": obj.compression, "attrs": attributes(obj)}
            else:
                summary["groups"][path] = attributes(obj)
        f.visititems(visit)
    print(json.dumps(summary, sort_keys=True))
    """#

    func testH5pyReadsEveryDatasetAndAttributeSplatKitWrote() throws {
        let path = temporaryPath("splatkit-written.h5")
        let weight = (0..<24).map { Float($0) * 0.1 - 1.7 }
        let bias: [Float] = [1.0 / 3.0, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let decoder = (0..<10).map { Float(sin(Double($0))) }
        let stream = (0..<12).map { Float($0) / 7 }
        let file = try HDF5File(creating: path)
        try file.write(weight, shape: [4, 3, 2], to: "encoder/conv1/weight")
        try file.write(bias, shape: [4], to: "encoder/conv1/bias")
        try file.write(decoder, shape: [2, 5], to: "decoder/linear/weight")
        try file.write([Int64](arrayLiteral: -5, 1 << 40), shape: [2], to: "decoder/steps")
        try file.write([UInt8](arrayLiteral: 0, 127, 255), shape: [3], to: "image/bytes")
        try file.createExtendableDataset("gaussians/params", of: Float.self, rowShape: [4], chunkShape: [2, 4])
        try file.appendRows(Array(stream[0..<8]), to: "gaussians/params")
        try file.appendRows(Array(stream[8..<12]), to: "gaussians/params")
        try file.setAttribute("format", to: "SplatKit checkpoint ✓")
        try file.setAttribute("version", to: 3)
        try file.setAttribute("learning_rate", to: 1e-3, at: "encoder")
        try file.setAttribute("betas", to: [0.9, 0.999], at: "encoder/conv1")
        try file.setAttribute("shape", to: [4, 3, 2], at: "encoder/conv1/weight")
        try file.close()

        let result = try runPython(Self.summarizeScript, arguments: [path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let summary = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], result.standardOutput)
        let datasets = try XCTUnwrap(summary["datasets"] as? [String: [String: Any]])
        let groups = try XCTUnwrap(summary["groups"] as? [String: [String: Any]])

        XCTAssertEqual(datasets.keys.sorted(), [
            "/decoder/linear/weight", "/decoder/steps", "/encoder/conv1/bias", "/encoder/conv1/weight",
            "/gaussians/params", "/image/bytes",
        ])
        func check(_ path: String, dtype: String, shape: [Int], values: [String], line: UInt = #line) {
            let entry = datasets[path]
            XCTAssertEqual(entry?["dtype"] as? String, dtype, path, line: line)
            XCTAssertEqual(entry?["shape"] as? [Int], shape, path, line: line)
            XCTAssertEqual(entry?["values"] as? [String], values, path, line: line)
        }
        check("/encoder/conv1/weight", dtype: "float32", shape: [4, 3, 2], values: weight.map(hexBits))
        check("/encoder/conv1/bias", dtype: "float32", shape: [4], values: bias.map(hexBits))
        check("/decoder/linear/weight", dtype: "float32", shape: [2, 5], values: decoder.map(hexBits))
        check("/decoder/steps", dtype: "int64", shape: [2], values: ["-5", "1099511627776"])
        check("/image/bytes", dtype: "uint8", shape: [3], values: ["0", "127", "255"])
        check("/gaussians/params", dtype: "float32", shape: [3, 4], values: stream.map(hexBits))
        XCTAssertEqual(datasets["/gaussians/params"]?["maxshape"] as? [Int], [-1, 4])
        XCTAssertEqual(datasets["/gaussians/params"]?["chunks"] as? [Int], [2, 4])
        XCTAssertEqual(datasets["/gaussians/params"]?["compression"] as? String, "gzip")

        let root = try XCTUnwrap(groups["/"] as? [String: [String: Any]])
        XCTAssertEqual(root["format"]?["python_type"] as? String, "str")
        XCTAssertEqual(root["format"]?["value"] as? String, "SplatKit checkpoint ✓")
        XCTAssertEqual(root["version"]?["dtype"] as? String, "int64")
        XCTAssertEqual(root["version"]?["shape"] as? [Int], [])
        XCTAssertEqual(root["version"]?["values"] as? [String], ["3"])
        let encoder = try XCTUnwrap(groups["/encoder"] as? [String: [String: Any]])
        XCTAssertEqual(encoder["learning_rate"]?["dtype"] as? String, "float64")
        XCTAssertEqual(encoder["learning_rate"]?["values"] as? [String], [hexBits(1e-3)])
        let conv1 = try XCTUnwrap(groups["/encoder/conv1"] as? [String: [String: Any]])
        XCTAssertEqual(conv1["betas"]?["shape"] as? [Int], [2])
        XCTAssertEqual(conv1["betas"]?["values"] as? [String], [0.9, 0.999].map(hexBits))
        let weightAttributes = try XCTUnwrap(datasets["/encoder/conv1/weight"]?["attrs"] as? [String: [String: Any]])
        XCTAssertEqual(weightAttributes["shape"]?["dtype"] as? String, "int64")
        XCTAssertEqual(weightAttributes["shape"]?["values"] as? [String], ["4", "3", "2"])
    }

    // MARK: h5py writes, SplatKit reads

    /// Writes a file with h5py (argv[1]) and prints the bit patterns of what it wrote.
    private static let writeScript = #"""
    import h5py, json, sys
    import numpy as np

    weight = (np.arange(24, dtype=np.float32) * np.float32(0.1) - np.float32(1.7)).reshape(2, 3, 4)
    doubles = np.array([np.pi, -0.0, 1e-310, 1.0 / 3.0])
    with h5py.File(sys.argv[1], "w") as f:
        f["encoder/conv/weight"] = weight
        f["encoder/conv/bias"] = np.array([0.5, -2.25], dtype=np.float32)
        f["stats/doubles"] = doubles
        f["stats/int32"] = np.array([[-(2**31), 2**31 - 1]], dtype=np.int32)
        f["stats/int64"] = np.array([-(2**63), 2**63 - 1, 7], dtype=np.int64)
        f["image"] = np.arange(6, dtype=np.uint8).reshape(2, 3)
        f.create_dataset("stream", data=np.arange(40, dtype=np.float32).reshape(10, 4),
                         maxshape=(None, 4), chunks=(3, 4), compression="gzip", shuffle=True)
        f.attrs["name"] = "written by h5py ✓"
        f.attrs["epoch"] = 12
        f.attrs["fixed"] = np.bytes_(b"fixed-length")
        f["encoder"].attrs["lr"] = 0.0025
        f["encoder"].attrs["betas"] = [0.9, 0.999]
        f["encoder/conv/weight"].attrs["dims"] = [2, 3, 4]
        f["encoder/conv/weight"].attrs["small"] = np.int16(-3)
    bits = lambda a, t: [format(int(b), "x") for b in np.asarray(a).view(t).reshape(-1)]
    print(json.dumps({"weight": bits(weight, np.uint32), "doubles": bits(doubles, np.uint64)}))
    """#

    /// A chunked dataset may declare any extent without storing it: reads of more than
    /// `maximumReadElements` are refused before anything is allocated.
    func testHugeDeclaredExtentsAreRefusedBeforeAllocating() throws {
        let path = temporaryPath("huge.h5")
        let script = """
            import h5py, sys
            with h5py.File(sys.argv[1], "w") as f:
                f.create_dataset("huge", shape=(4, 1 << 22, 1 << 11), dtype="f4", chunks=(1, 1, 1 << 11))
            """
        let result = try runPython(script, arguments: [path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let file = try HDF5File(opening: path)
        let expected = FileError(path, "dataset '/huge' has shape [%@]: more than 4294967296 elements to read (a damaged file?)")
        for (shape, read) in [("4, 4194304, 2048", { _ = try file.read(Float.self, from: "huge") }),
                              ("1, 4194304, 2048", { _ = try file.readRows(Float.self, from: "huge", range: 0..<1) })] {
            XCTAssertThrowsError(try read()) { error in
                XCTAssertEqual(error as? FileError, FileError(path, expected.reason.replacingOccurrences(of: "%@", with: shape)))
            }
        }
    }

    /// A file another process has open for writing (HDF5 locks it) is "in use", not "damaged".
    func testAFileAnotherProcessWritesIsInUse() throws {
        let path = temporaryPath("busy.h5")
        let file = try HDF5File(creating: path, sealed: false)
        try file.write([1, 2] as [Float], shape: [2], to: "x")
        try file.close()
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", "import h5py, sys, time\nf = h5py.File(sys.argv[1], 'a')\nprint('open', flush=True)\n"
                            + "time.sleep(30)", path]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        var said = Data()
        while !said.contains(UInt8(ascii: "\n")) {  // wait until the holder has the file open
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { break }
            said += more
        }
        XCTAssertEqual(String(decoding: said, as: UTF8.self), "open\n")
        XCTAssertThrowsError(try HDF5File(opening: path, mode: .readWrite)) { error in
            let reason = (error as? FileError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.hasPrefix("is in use by another process (a build or run writing it); wait for it to end"), reason)
        }
    }

    func testSplatKitReadsWhatH5pyWrote() throws {
        let path = temporaryPath("h5py-written.h5")
        let result = try runPython(Self.writeScript, arguments: [path])
        XCTAssertEqual(result.status, 0, result.standardError)
        let written = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: [String]], result.standardOutput)

        let file = try HDF5File(opening: path)
        XCTAssertEqual(try file.datasetPaths(), [
            "/encoder/conv/bias", "/encoder/conv/weight", "/image", "/stats/doubles", "/stats/int32",
            "/stats/int64", "/stream",
        ])
        XCTAssertEqual(try file.children(), [
            HDF5Child(name: "encoder", kind: .group), HDF5Child(name: "image", kind: .dataset),
            HDF5Child(name: "stats", kind: .group), HDF5Child(name: "stream", kind: .dataset),
        ])
        let weight = try file.read(Float.self, from: "encoder/conv/weight")
        XCTAssertEqual(weight.shape, [2, 3, 4])
        XCTAssertEqual(weight.values.map { String($0.bitPattern, radix: 16) }, written["weight"])
        XCTAssertEqual(try file.read(Float.self, from: "encoder/conv/bias").values, [0.5, -2.25])
        let doubles = try file.read(Double.self, from: "stats/doubles")
        XCTAssertEqual(doubles.values.map { String($0.bitPattern, radix: 16) }, written["doubles"])
        let int32s = try file.read(Int32.self, from: "stats/int32")
        XCTAssertEqual(int32s.shape, [1, 2])
        XCTAssertEqual(int32s.values, [.min, .max])
        XCTAssertEqual(try file.read(Int64.self, from: "stats/int64").values, [.min, .max, 7])
        XCTAssertEqual(try file.read(UInt8.self, from: "image").values, [0, 1, 2, 3, 4, 5])

        let streamInfo = try file.datasetInfo("stream")
        XCTAssertEqual(streamInfo.shape, [10, 4])
        XCTAssertEqual(streamInfo.maximumShape, [nil, 4])
        XCTAssertEqual(streamInfo.chunkShape, [3, 4])
        XCTAssertEqual(try file.readRows(Float.self, from: "stream", range: 4..<7).values, (16..<28).map { Float($0) })

        XCTAssertEqual(try file.stringAttribute("name"), "written by h5py ✓")
        XCTAssertEqual(try file.stringAttribute("fixed"), "fixed-length")
        XCTAssertEqual(try file.int64Attribute("epoch"), 12)
        XCTAssertEqual(try file.doubleAttribute("lr", at: "encoder"), 0.0025)
        XCTAssertEqual(try file.doubleArrayAttribute("betas", at: "encoder"), [0.9, 0.999])
        XCTAssertEqual(try file.int64ArrayAttribute("dims", at: "encoder/conv/weight"), [2, 3, 4])
        XCTAssertEqual(try file.int64Attribute("small", at: "encoder/conv/weight"), -3)
        XCTAssertEqual(try file.attributeNames(), ["epoch", "fixed", "name"])
        try file.close()
    }

    // MARK: Helpers

    private func hexBits(_ value: Float) -> String {
        let digits = String(value.bitPattern, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    private func hexBits(_ value: Double) -> String {
        let digits = String(value.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

}
