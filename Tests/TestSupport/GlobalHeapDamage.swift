import Foundation
import XCTest

// Unsealed HDF5 files with strings in a global heap (as h5py writes them, and as SplatKit wrote
// datasets before their strings became fixed-length), the damage that makes libhdf5 1.10 loop
// on such a heap (SplatIO/HDF5File+GlobalHeapCheck.swift), and a deadline for the calls that
// would loop, so a regression fails its test instead of hanging the suite.

/// Zeroes the seal's magic at the start of the file at `path`, as opening a sealed file for
/// writing does (HDF5File+Checksum.swift): the file then opens as an unsealed one.
public func clearSeal(of path: String) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: 0)
    try handle.write(contentsOf: [UInt8](repeating: 0, count: 16))
}

/// The offsets of the global heap collections ("GCOL" and version 1) in the file at `path`.
public func globalHeapOffsets(in path: String) throws -> [Int] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let signature = Array("GCOL".utf8) + [1]
    guard bytes.count >= signature.count else { return [] }
    return (0...(bytes.count - signature.count)).filter { Array(bytes[$0..<($0 + signature.count)]) == signature }
}

/// Overwrites the header of the first object of the collection at `offset` with the one of a
/// free-space object of size 0 (index 0, 4 reserved bytes, size 0), which libhdf5 1.10's
/// decoding loop never gets past.
public func makeFirstHeapObjectEndlessFreeSpace(in path: String, collectionAt offset: Int) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset + 16))  // after "GCOL", version, reserved and the 8-byte size
    try handle.write(contentsOf: [UInt8](repeating: 0, count: 16))
}

/// Runs `body` on a thread of its own and waits at most `seconds` for it; returns its result or
/// error. A body still running then stops the test process with the reason: the looping call
/// holds the thread-safe HDF5's lock, so every later HDF5 call of the process would wait forever.
public func withinDeadline<Value>(
    seconds: TimeInterval, file: StaticString = #filePath, line: UInt = #line, _ body: @escaping @Sendable () throws -> Value
) -> Result<Value, Error> {
    let outcome = DeadlineOutcome<Value>()
    let thread = Thread {
        outcome.result = Result { try body() }
        outcome.finished.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard outcome.finished.wait(timeout: .now() + seconds) == .success, let result = outcome.result else {
        XCTFail("still running after \(seconds) s (an endless loop?)", file: file, line: line)
        fatalError("\(file):\(line): still running after \(seconds) s (an endless loop?); stopping the tests")
    }
    return result
}

/// What the thread of `withinDeadline` hands back; read only after it signals `finished`.
private final class DeadlineOutcome<Value>: @unchecked Sendable {
    var result: Result<Value, Error>?
    let finished = DispatchSemaphore(value: 0)
}
