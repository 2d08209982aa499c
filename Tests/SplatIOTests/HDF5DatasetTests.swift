import SplatIO
import TensorCore
import TestSupport
import XCTest

/// Whole-dataset writes and reads: every element type bit for bit, shapes, replacement,
/// and the errors for missing or mistyped datasets.
final class HDF5DatasetTests: TemporaryDirectoryTestCase {
    func testEveryElementTypeRoundTripsBitExactly() throws {
        let path = temporaryPath("types.h5")
        // Awkward values: signed zero, infinities, a NaN with a payload, subnormals, extremes.
        let floats: [Float] = [
            0, -0.0, 1.0 / 3.0, -1.7, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234),
            .leastNonzeroMagnitude, .greatestFiniteMagnitude, .ulpOfOne,
        ]
        let doubles: [Double] = [0, -0.0, 1.0 / 3.0, .pi, -.infinity, Double(bitPattern: 0x7FF8_0000_0000_BEEF),
                                 .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let int32s: [Int32] = [.min, -1, 0, 1, .max, 123_456_789]
        let int64s: [Int64] = [.min, -1, 0, 1, .max, 9_007_199_254_740_993]
        let bytes: [UInt8] = Array(0...255)

        let file = try HDF5File(creating: path)
        try file.write(floats, shape: [2, 5], to: "floats")
        try file.write(doubles, shape: [8], to: "doubles")
        try file.write(int32s, shape: [3, 2], to: "int32s")
        try file.write(int64s, shape: [6], to: "int64s")
        try file.write(bytes, shape: [16, 16], to: "bytes")
        try file.close()

        let reopened = try HDF5File(opening: path)
        let readFloats = try reopened.read(Float.self, from: "floats")
        XCTAssertEqual(readFloats.shape, [2, 5])
        XCTAssertEqual(readFloats.values.map(\.bitPattern), floats.map(\.bitPattern))
        let readDoubles = try reopened.read(Double.self, from: "/doubles")
        XCTAssertEqual(readDoubles.shape, [8])
        XCTAssertEqual(readDoubles.values.map(\.bitPattern), doubles.map(\.bitPattern))
        XCTAssertEqual(try reopened.read(Int32.self, from: "int32s").values, int32s)
        XCTAssertEqual(try reopened.read(Int32.self, from: "int32s").shape, [3, 2])
        XCTAssertEqual(try reopened.read(Int64.self, from: "int64s").values, int64s)
        XCTAssertEqual(try reopened.read(UInt8.self, from: "bytes").values, bytes)
        XCTAssertEqual(try reopened.read(UInt8.self, from: "bytes").shape, [16, 16])

        XCTAssertEqual(try reopened.datasetInfo("floats").elementType, .float32)
        XCTAssertEqual(try reopened.datasetInfo("doubles").elementType, .float64)
        XCTAssertEqual(try reopened.datasetInfo("int32s").elementType, .int32)
        XCTAssertEqual(try reopened.datasetInfo("int64s").elementType, .int64)
        let byteInfo = try reopened.datasetInfo("bytes")
        XCTAssertEqual(byteInfo.elementType, .uint8)
        XCTAssertEqual(byteInfo.shape, [16, 16])
        XCTAssertEqual(byteInfo.maximumShape, [16, 16])
        XCTAssertNil(byteInfo.chunkShape)
        try reopened.close()
    }

    func testScalarEmptyAndTensorDatasets() throws {
        let path = temporaryPath("shapes.h5")
        let file = try HDF5File(creating: path)
        try file.write([Double(2.5)], shape: [], to: "scalar")
        try file.write([Float](), shape: [0, 3], to: "empty")
        let tensor = Tensor(shape: [2, 3, 2], scalars: (0..<12).map { Float($0) * 0.25 - 1 })
        try file.write(tensor, to: "model/weight")
        try file.close()

        let reopened = try HDF5File(opening: path)
        let scalar = try reopened.read(Double.self, from: "scalar")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.values, [2.5])
        let empty = try reopened.read(Float.self, from: "empty")
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.values, [])
        let readTensor = try reopened.readTensor(from: "model/weight")
        XCTAssertEqual(readTensor.shape, [2, 3, 2])
        XCTAssertEqual(readTensor.scalars, tensor.scalars)
    }

    func testWritingAgainReplacesTheDataset() throws {
        let file = try HDF5File(creating: temporaryPath("replace.h5"))
        try file.write([Float](repeating: 1, count: 6), shape: [2, 3], to: "a/b")
        try file.write([Int64](arrayLiteral: 7, 8), shape: [2], to: "a/b")
        XCTAssertEqual(try file.datasetInfo("a/b").elementType, .int64)
        XCTAssertEqual(try file.read(Int64.self, from: "a/b").values, [7, 8])
        // A group cannot be replaced by a dataset.
        let error = assertThrowsFileError(try file.write([Float(1)], shape: [1], to: "a"))
        XCTAssertEqual(error?.reason.contains("'/a'"), true, "\(String(describing: error))")
    }

    func testMissingAndMistypedDatasetsNameTheFileAndObject() throws {
        let path = temporaryPath("errors.h5")
        let file = try HDF5File(creating: path)
        try file.write([Int32](arrayLiteral: 1, 2, 3), shape: [3], to: "group/ints")

        let missing = assertThrowsFileError(try file.read(Float.self, from: "group/nothing"))
        XCTAssertEqual(missing?.path, path)
        XCTAssertEqual(missing?.reason, "no dataset '/group/nothing' in file")

        let throughDataset = assertThrowsFileError(try file.read(Float.self, from: "group/ints/deeper"))
        XCTAssertEqual(throughDataset?.reason, "no dataset '/group/ints/deeper' in file")

        let mistyped = assertThrowsFileError(try file.read(Float.self, from: "group/ints"))
        XCTAssertEqual(mistyped?.reason, "dataset '/group/ints' holds int32 elements, but float32 was expected")

        let group = assertThrowsFileError(try file.read(Int32.self, from: "group"))
        XCTAssertEqual(group?.reason, "'/group' is a group, not a dataset")
        try file.close()

        let readOnly = try HDF5File(opening: path, mode: .readOnly)
        let refused = assertThrowsFileError(try readOnly.write([Float(1)], shape: [1], to: "x"))
        XCTAssertEqual(refused?.path, path)
        XCTAssertEqual(refused?.reason.contains("read-only"), true)
    }

    func testReadWriteModeKeepsExistingContent() throws {
        let path = temporaryPath("append.h5")
        do {
            let file = try HDF5File(creating: path)
            try file.write([Float(1), 2], shape: [2], to: "first")
            try file.flush()
            try file.close()
            try file.close()  // A second close does nothing.
        }
        let file = try HDF5File(opening: path, mode: .readWrite)
        try file.write([Float(3)], shape: [1], to: "second")
        try file.close()
        let reopened = try HDF5File(opening: path)
        XCTAssertEqual(try reopened.datasetPaths(), ["/first", "/second"])
        XCTAssertEqual(try reopened.read(Float.self, from: "first").values, [1, 2])
    }
}
