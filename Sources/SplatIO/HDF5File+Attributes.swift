import CHDF5

// Attributes: small named values attached to the root, a group or a dataset.
//
// Stored types, chosen to read naturally in h5py:
// - String   → scalar variable-length UTF-8 string (h5py returns `str`) in a file sealed at
//              close; in a file that is not (one that grows, such as a dataset), a scalar
//              fixed-length UTF-8 string padded with zeros (h5py returns `bytes`). Variable-length
//              strings live in HDF5's global heap, which no checksum covers and whose damage can
//              make libhdf5 loop (HDF5File+GlobalHeapCheck.swift); only the seal covers it.
// - Int64    → scalar int64            (h5py returns numpy.int64)
// - Double   → scalar float64          (h5py returns numpy.float64)
// - [Int64]  → 1-D int64 array         (h5py returns numpy.ndarray)
// - [Double] → 1-D float64 array
// Setting an attribute that exists replaces it. Readers accept any integer width for the
// Int64 readers and any float width for the Double readers (HDF5 converts), and both
// variable- and fixed-length strings; a missing attribute or object throws a `FileError`
// naming the file, the object path and the attribute.

extension HDF5File {
    // MARK: Writing

    public func setAttribute(_ name: String, to value: String, at objectPath: String = "/") throws {
        if sealsOnClose {
            try withVariableLengthStringType { datatype in
                try writeAttribute(name, at: objectPath, datatype: datatype, shape: []) { attribute in
                    try value.withCString { characters in
                        var pointer: UnsafePointer<CChar>? = characters
                        try hdf5Check(H5Awrite(attribute, datatype, &pointer), "H5Awrite(\(name))", path: path)
                    }
                }
            }
        } else {
            // A file the seal will not cover gets no global heap (see the top of this file).
            let bytes = Array(value.utf8)
            try withFixedLengthStringType(length: bytes.count) { datatype in
                try writeAttribute(name, at: objectPath, datatype: datatype, shape: []) { attribute in
                    try hdf5Check(H5Awrite(attribute, datatype, bytes.isEmpty ? [0] : bytes), "H5Awrite(\(name))", path: path)
                }
            }
        }
    }

    public func setAttribute(_ name: String, to value: Int64, at objectPath: String = "/") throws {
        try setNumericAttribute(name, [value], shape: [], at: objectPath)
    }

    /// Stored as int64; lets integer literals pick an overload.
    public func setAttribute(_ name: String, to value: Int, at objectPath: String = "/") throws {
        try setNumericAttribute(name, [Int64(value)], shape: [], at: objectPath)
    }

    public func setAttribute(_ name: String, to value: Double, at objectPath: String = "/") throws {
        try setNumericAttribute(name, [value], shape: [], at: objectPath)
    }

    public func setAttribute(_ name: String, to values: [Int64], at objectPath: String = "/") throws {
        try setNumericAttribute(name, values, shape: [values.count], at: objectPath)
    }

    /// Stored as a 1-D int64 array.
    public func setAttribute(_ name: String, to values: [Int], at objectPath: String = "/") throws {
        try setNumericAttribute(name, values.map { Int64($0) }, shape: [values.count], at: objectPath)
    }

    public func setAttribute(_ name: String, to values: [Double], at objectPath: String = "/") throws {
        try setNumericAttribute(name, values, shape: [values.count], at: objectPath)
    }

    // MARK: Reading

    public func stringAttribute(_ name: String, at objectPath: String = "/") throws -> String {
        try withAttribute(name, at: objectPath) { attribute, description in
            try withHDF5Handle(
                H5Aget_type(attribute), "H5Aget_type(\(description))", closedBy: .datatype, path: path
            ) { storedType in
                let stored = try HDF5ElementType(datatype: storedType, path: path)
                guard stored == .string else {
                    throw FileError(path, "\(description) holds \(stored), not a string")
                }
                guard try elementCount(of: attribute, description) == 1 else {
                    throw FileError(path, "\(description) is an array of strings, not one string")
                }
                // Read with the stored type itself (a copy, as a memory type): HDF5 cannot convert
                // between ASCII and UTF-8 character sets, and both occur in files.
                return try withHDF5Handle(
                    H5Tcopy(storedType), "H5Tcopy(\(description))", closedBy: .datatype, path: path
                ) { memoryType in
                    let isVariable = try hdf5Check(H5Tis_variable_str(memoryType), "H5Tis_variable_str", path: path)
                    return isVariable > 0
                        ? try readVariableLengthString(attribute, memoryType, description)
                        : try readFixedLengthString(attribute, memoryType, description)
                }
            }
        }
    }

    public func int64Attribute(_ name: String, at objectPath: String = "/") throws -> Int64 {
        try scalar(of: try readNumericAttribute(name, Int64.self, at: objectPath), name, objectPath)
    }

    public func doubleAttribute(_ name: String, at objectPath: String = "/") throws -> Double {
        try scalar(of: try readNumericAttribute(name, Double.self, at: objectPath), name, objectPath)
    }

    /// All elements of an int64 attribute in row-major order (a scalar gives one element).
    public func int64ArrayAttribute(_ name: String, at objectPath: String = "/") throws -> [Int64] {
        try readNumericAttribute(name, Int64.self, at: objectPath)
    }

    /// All elements of a float attribute in row-major order (a scalar gives one element).
    public func doubleArrayAttribute(_ name: String, at objectPath: String = "/") throws -> [Double] {
        try readNumericAttribute(name, Double.self, at: objectPath)
    }

    public func hasAttribute(_ name: String, at objectPath: String = "/") throws -> Bool {
        let normalized = HDF5Path.normalize(objectPath)
        try requireObject(at: normalized)
        let exists = try hdf5Check(
            H5Aexists_by_name(openID(), normalized, name, splatkit_h5p_default()),
            "H5Aexists_by_name(\(normalized), \(name))", path: path)
        return exists > 0
    }

    /// The names of the attributes of the object at `objectPath`, sorted.
    public func attributeNames(at objectPath: String = "/") throws -> [String] {
        final class Names { var list: [String] = [] }
        let normalized = HDF5Path.normalize(objectPath)
        try requireObject(at: normalized)
        let names = Names()
        let collect: H5A_operator2_t = { _, name, _, clientData in
            guard let name, let clientData else { return -1 }
            Unmanaged<Names>.fromOpaque(clientData).takeUnretainedValue().list.append(String(cString: name))
            return 0
        }
        try withHDF5Handle(
            H5Oopen(openID(), normalized, splatkit_h5p_default()), "H5Oopen(\(normalized))", closedBy: .object, path: path
        ) { object -> Void in
            try withExtendedLifetime(names) { () -> Void in
                try hdf5Check(
                    H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nil, collect, Unmanaged.passUnretained(names).toOpaque()),
                    "H5Aiterate2(\(normalized))", path: path)
            }
        }
        return names.list.sorted()
    }

    // MARK: Helpers

    private func setNumericAttribute<Element: HDF5Element>(
        _ name: String, _ values: [Element], shape: [Int], at objectPath: String
    ) throws {
        let datatype = Element.hdf5ElementType.nativeDatatype
        try writeAttribute(name, at: objectPath, datatype: datatype, shape: shape) { attribute in
            guard !values.isEmpty else { return }
            try values.withUnsafeBytes { bytes -> Void in
                try hdf5Check(H5Awrite(attribute, datatype, bytes.baseAddress), "H5Awrite(\(name))", path: path)
            }
        }
    }

    /// Creates (replacing) attribute `name` on the object at `objectPath` and runs `body` to
    /// write its value.
    private func writeAttribute(
        _ name: String, at objectPath: String, datatype: hid_t, shape: [Int], _ body: (hid_t) throws -> Void
    ) throws {
        try requireWritable("set attribute '\(name)' on '\(objectPath)'")
        let normalized = HDF5Path.normalize(objectPath)
        if try hasAttribute(name, at: normalized) {
            try hdf5Check(
                H5Adelete_by_name(openID(), normalized, name, splatkit_h5p_default()),
                "H5Adelete_by_name(\(normalized), \(name))", path: path)
        }
        try withDataspace(shape: shape) { space in
            try withHDF5Handle(
                H5Acreate_by_name(
                    openID(), normalized, name, datatype, space,
                    splatkit_h5p_default(), splatkit_h5p_default(), splatkit_h5p_default()),
                "H5Acreate_by_name(\(normalized), \(name))", closedBy: .attribute, path: path, body)
        }
    }

    /// Opens attribute `name` of the object at `objectPath`, with readable errors if either
    /// is missing. `body` gets the handle and a description for messages.
    private func withAttribute<Result>(
        _ name: String, at objectPath: String, _ body: (hid_t, String) throws -> Result
    ) throws -> Result {
        let normalized = HDF5Path.normalize(objectPath)
        let description = "attribute '\(name)' of '\(normalized)'"
        guard try hasAttribute(name, at: normalized) else {
            throw FileError(path, "no \(description)")
        }
        return try withHDF5Handle(
            H5Aopen_by_name(openID(), normalized, name, splatkit_h5p_default(), splatkit_h5p_default()),
            "H5Aopen_by_name(\(normalized), \(name))", closedBy: .attribute, path: path
        ) { try body($0, description) }
    }

    private func elementCount(of attribute: hid_t, _ description: String) throws -> Int {
        try withHDF5Handle(
            H5Aget_space(attribute), "H5Aget_space(\(description))", closedBy: .dataspace, path: path
        ) { space in
            Int(try hdf5Check(H5Sget_simple_extent_npoints(space), "H5Sget_simple_extent_npoints", path: path))
        }
    }

    /// Reads every element of a numeric attribute, converting within its class (any integer
    /// width for Int64, any float width for Double).
    private func readNumericAttribute<Element: HDF5Element>(
        _ name: String, _ type: Element.Type, at objectPath: String
    ) throws -> [Element] {
        try withAttribute(name, at: objectPath) { attribute, description in
            let stored = try withHDF5Handle(
                H5Aget_type(attribute), "H5Aget_type(\(description))", closedBy: .datatype, path: path
            ) { try HDF5ElementType(datatype: $0, path: path) }
            let wanted = Element.hdf5ElementType
            let compatible: Bool
            switch stored {
            case .float32, .float64: compatible = wanted == .float64
            case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32: compatible = wanted == .int64
            default: compatible = false  // uint64 may not fit in Int64; strings and others never.
            }
            guard compatible else {
                throw FileError(path, "\(description) holds \(stored), which cannot be read as \(wanted)")
            }
            let count = try elementCount(of: attribute, description)
            return try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    try hdf5Check(
                        H5Aread(attribute, wanted.nativeDatatype, buffer.baseAddress), "H5Aread(\(description))", path: path)
                }
                initialized = count
            }
        }
    }

    private func scalar<Element>(of values: [Element], _ name: String, _ objectPath: String) throws -> Element {
        guard values.count == 1, let value = values.first else {
            throw FileError(
                path, "attribute '\(name)' of '\(HDF5Path.normalize(objectPath))' has \(values.count) elements, expected one")
        }
        return value
    }

    /// The variable-length UTF-8 string type (what h5py writes for `str`).
    private func withVariableLengthStringType<Result>(_ body: (hid_t) throws -> Result) throws -> Result {
        try withHDF5Handle(H5Tcopy(splatkit_h5t_c_s1()), "H5Tcopy(C_S1)", closedBy: .datatype, path: path) { datatype in
            try hdf5Check(H5Tset_size(datatype, splatkit_h5t_variable()), "H5Tset_size(variable)", path: path)
            try hdf5Check(H5Tset_cset(datatype, H5T_CSET_UTF8), "H5Tset_cset(UTF-8)", path: path)
            return try body(datatype)
        }
    }

    /// The fixed-length UTF-8 string type of `length` bytes (at least 1), padded with zeros (what
    /// h5py writes for `numpy.bytes_`).
    private func withFixedLengthStringType<Result>(length: Int, _ body: (hid_t) throws -> Result) throws -> Result {
        try withHDF5Handle(H5Tcopy(splatkit_h5t_c_s1()), "H5Tcopy(C_S1)", closedBy: .datatype, path: path) { datatype in
            try hdf5Check(H5Tset_size(datatype, max(1, length)), "H5Tset_size(\(length))", path: path)
            try hdf5Check(H5Tset_strpad(datatype, H5T_STR_NULLPAD), "H5Tset_strpad(null padding)", path: path)
            try hdf5Check(H5Tset_cset(datatype, H5T_CSET_UTF8), "H5Tset_cset(UTF-8)", path: path)
            return try body(datatype)
        }
    }

    private func readVariableLengthString(_ attribute: hid_t, _ memoryType: hid_t, _ description: String) throws -> String {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        try hdf5Check(H5Aread(attribute, memoryType, &pointer), "H5Aread(\(description))", path: path)
        guard let pointer else { return "" }
        let value = String(cString: pointer)
        try hdf5Check(H5free_memory(pointer), "H5free_memory", path: path)
        return value
    }

    private func readFixedLengthString(_ attribute: hid_t, _ memoryType: hid_t, _ description: String) throws -> String {
        let size = H5Tget_size(memoryType)
        if size == 0 { try hdf5Check(Int32(-1), "H5Tget_size(\(description))", path: path) }  // 0 means failure.
        var bytes = [UInt8](repeating: 0, count: size)
        try hdf5Check(H5Aread(attribute, memoryType, &bytes), "H5Aread(\(description))", path: path)
        // Fixed-length strings end at the first NUL (NULLTERM/NULLPAD) or are padded with spaces.
        var content = bytes.prefix { $0 != 0 }
        let padding = H5Tget_strpad(memoryType)
        try hdf5Check(padding.rawValue, "H5Tget_strpad(\(description))", path: path)
        if padding == H5T_STR_SPACEPAD {
            while content.last == UInt8(ascii: " ") { content = content.dropLast() }
        }
        return String(decoding: content, as: UTF8.self)
    }
}
