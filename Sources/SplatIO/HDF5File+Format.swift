import Foundation

// Every SplatKit HDF5 file names what it is in two root attributes: `format` (a string such as
// "splatkit-checkpoint") and `format_version` (an integer, raised when the layout changes
// incompatibly). Readers accept their own format at versions 1 through the newest they know.

extension HDF5File {
    /// Writes the root's `format` and `format_version` attributes.
    public func setFormat(_ format: String, version: Int64) throws {
        try setAttribute("format", to: format)
        try setAttribute("format_version", to: version)
    }

    /// Checks the root's `format` and `format_version` attributes.
    ///
    /// - Parameters:
    ///   - format: the expected format attribute.
    ///   - newestVersion: the newest version this reader understands.
    ///   - kind: what the file should be, for messages ("checkpoint", "Gaussian set", …).
    ///   - hint: text appended to the wrong-format message, given the format found ("" when absent).
    /// - Throws: `FileError` naming the file: no or another format, a version newer than
    ///   `newestVersion`, or one below 1.
    public func checkFormat(_ format: String, newestVersion: Int64, kind: String, hint: (String) -> String = { _ in "" }) throws {
        guard try hasAttribute("format") else {
            throw FileError(path, "not a SplatKit \(kind): the root has no 'format' attribute\(hint(""))")
        }
        let found = try stringAttribute("format")
        guard found == format else {
            throw FileError(path, "not a SplatKit \(kind) (format attribute is \"\(found)\", expected \"\(format)\")\(hint(found))")
        }
        let version = try int64Attribute("format_version")
        guard version <= newestVersion else {
            throw FileError(path, "\(kind) format version \(version) is newer than this splatkit reads (up to \(newestVersion)); "
                            + "upgrade splatkit")
        }
        guard version >= 1 else { throw FileError(path, "invalid \(kind) format version \(version)") }
    }
}
