import XCTest
@testable import SplatIO

final class TensorBoardWriterTests: XCTestCase {
    func testCRC32CKnownVector() {
        // The standard check value of CRC-32C over the ASCII digits "123456789".
        XCTAssertEqual(TensorBoardWriter.crc32c(Array("123456789".utf8)), 0xE306_9283)
    }

    /// Reads the file back record by record, checking framing and CRCs, and finds the tags.
    func testRecordsAreFramedAndChecksummed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try TensorBoardWriter(folder: folder, wallTime: 1000)
        try writer.add(scalars: [("loss/train", 0.5), ("lr", 1e-3)], step: 3, wallTime: 1001)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        var offset = 0, records: [[UInt8]] = []
        func readUInt32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        while offset < bytes.count {
            let lengthBytes = Array(bytes[offset..<(offset + 8)])
            let length = Int(lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            XCTAssertEqual(readUInt32(offset + 8), TensorBoardWriter.maskedCRC(lengthBytes))
            let payload = Array(bytes[(offset + 12)..<(offset + 12 + length)])
            XCTAssertEqual(readUInt32(offset + 12 + length), TensorBoardWriter.maskedCRC(payload))
            records.append(payload)
            offset += 12 + length + 4
        }
        XCTAssertEqual(records.count, 2)
        XCTAssertNotNil(String(decoding: records[0], as: UTF8.self).range(of: "brain.Event:2"))
        let second = String(decoding: records[1], as: UTF8.self)
        XCTAssertNotNil(second.range(of: "loss/train"))
        XCTAssertNotNil(second.range(of: "lr"))
        // step 3 as field 2 varint: key 0x10, value 0x03.
        XCTAssertNotNil(records[1].indices.first { records[1][$0] == 0x10 && records[1][$0 + 1] == 0x03 })
    }
}
