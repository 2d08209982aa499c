import CHDF5

// The one place where HDF5's C return codes become Swift errors.
//
// Every HDF5 function reports failure with a negative value (herr_t, hid_t, htri_t, ssize_t).
// `hdf5Check` turns that into a `FileError` naming the file, the failing call, and the
// outermost and innermost messages of HDF5's error stack (for example
// "H5Fopen failed: unable to open file: file signature not found"). HDF5's own printing of
// that stack to stderr is switched off once, before the first call, by `hdf5Initialized`.
//
// Handles (files, groups, datasets, dataspaces, types, property lists, attributes) are closed
// by `withHDF5Handle`, which checks the close call too unless the body already threw.

/// Switches off HDF5's automatic error printing for the default error stack. Evaluated once
/// (Swift globals are initialized lazily and atomically) by every entry point that creates
/// or opens a file.
let hdf5Initialized: Void = {
    // H5open initializes the library so that the H5T_NATIVE_* globals behind the shim exist.
    precondition(H5open() >= 0, "HDF5: H5open failed; the library could not initialize")
    precondition(
        H5Eset_auto2(splatkit_h5e_default(), nil, nil) >= 0,
        "HDF5: H5Eset_auto2 failed; cannot silence HDF5's error printing")
}()

/// Throws a `FileError` for `path` if `result` is negative (HDF5's failure convention);
/// otherwise returns `result`. `call` names the C function (and its object path).
@discardableResult
func hdf5Check<Code: BinaryInteger>(_ result: Code, _ call: @autoclosure () -> String, path: String) throws -> Code {
    guard result < 0 else { return result }
    let stack = hdf5ErrorStackMessages()
    var reason = "\(call()) failed"
    if let outer = stack.first { reason += ": \(outer)" }
    if let inner = stack.last, stack.count > 1, inner != stack.first { reason += ": \(inner)" }
    throw FileError(path, reason)
}

/// The descriptions on HDF5's current error stack, outermost (the API function) first.
private func hdf5ErrorStackMessages() -> [String] {
    final class Messages { var list: [String] = [] }
    let messages = Messages()
    let walker: H5E_walk2_t = { _, error, clientData in
        guard let error, let clientData, let description = error.pointee.desc else { return 0 }
        let messages = Unmanaged<Messages>.fromOpaque(clientData).takeUnretainedValue()
        messages.list.append(String(cString: description))
        return 0
    }
    let walked = withExtendedLifetime(messages) {
        H5Ewalk2(splatkit_h5e_default(), H5E_WALK_DOWNWARD, walker, Unmanaged.passUnretained(messages).toOpaque())
    }
    // If even walking the stack failed there is nothing more specific to report.
    return walked < 0 ? [] : messages.list.filter { !$0.isEmpty }
}

/// How to close one kind of HDF5 handle, and the call's name for error messages.
struct HDF5Closer {
    let name: String
    let close: (hid_t) -> herr_t

    static let file = HDF5Closer(name: "H5Fclose") { H5Fclose($0) }
    static let group = HDF5Closer(name: "H5Gclose") { H5Gclose($0) }
    static let dataset = HDF5Closer(name: "H5Dclose") { H5Dclose($0) }
    static let dataspace = HDF5Closer(name: "H5Sclose") { H5Sclose($0) }
    static let datatype = HDF5Closer(name: "H5Tclose") { H5Tclose($0) }
    static let propertyList = HDF5Closer(name: "H5Pclose") { H5Pclose($0) }
    static let attribute = HDF5Closer(name: "H5Aclose") { H5Aclose($0) }
    static let object = HDF5Closer(name: "H5Oclose") { H5Oclose($0) }
}

/// Checks `id` (the result of `call`), runs `body` with it, and closes it.
///
/// If `body` throws, the handle is still closed and `body`'s error is rethrown (a failure to
/// close at that point would only hide the first error). Otherwise a failed close throws.
func withHDF5Handle<Result>(
    _ id: hid_t, _ call: @autoclosure () -> String, closedBy closer: HDF5Closer, path: String,
    _ body: (hid_t) throws -> Result
) throws -> Result {
    try hdf5Check(id, call(), path: path)
    let result: Result
    do {
        result = try body(id)
    } catch {
        _ = closer.close(id)
        throw error
    }
    try hdf5Check(closer.close(id), closer.name, path: path)
    return result
}

/// HDF5 object paths inside a file: absolute, '/'-separated, no empty components.
enum HDF5Path {
    /// "a//b/" and "/a/b" both become "/a/b"; "" and "/" become "/".
    static func normalize(_ path: String) -> String {
        let parts = components(path)
        return "/" + parts.joined(separator: "/")
    }

    /// The names along `path`, outermost first ("/a/b" → ["a", "b"]).
    static func components(_ path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        precondition(
            !parts.contains(".") && !parts.contains(".."),
            "HDF5 path '\(path)': '.' and '..' components are not supported")
        return parts
    }

    /// "/a/b" + "c" → "/a/b/c"; "/" + "c" → "/c".
    static func join(_ parent: String, _ name: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }
}
