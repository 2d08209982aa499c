import CHDF5

// Extendable datasets for data too large to write (or read) in one piece, such as 10⁵ sets
// of Gaussians: shape (rows, rowShape…) with an unlimited first axis, stored in chunks of
// `chunkShape`, each compressed with the shuffle filter then gzip and checksummed with
// Fletcher-32 (all standard; h5py and every HDF5 build read them).
//
// Rows are the first axis: row r of a (R, 8) dataset is elements [8r, 8r + 8). Appending
// grows the first axis; reading and overwriting a row range touch only the chunks that hold
// those rows (a hyperslab selection), never the whole dataset. `readRows` and
// `overwriteRows` also work on ordinary (non-extendable) datasets of rank ≥ 1.

extension HDF5File {
    /// Creates an empty extendable dataset of shape (0, rowShape…) at `datasetPath` (creating
    /// the groups along the path; an existing object there throws).
    ///
    /// - Parameters:
    ///   - rowShape: the shape of one row, e.g. `[8]` for 8 parameters per Gaussian; `[]`
    ///     makes a 1-D dataset of scalars.
    ///   - chunkShape: one entry per axis of the dataset (`rowShape.count + 1`), all ≥ 1 and
    ///     at most the row extents. Chunks of roughly 16 KiB–1 MiB compress and read well.
    ///   - compressionLevel: gzip level 0–9 (0 still chunks and shuffles, without deflate).
    public func createExtendableDataset<Element: HDF5Element>(
        _ datasetPath: String, of type: Element.Type, rowShape: [Int], chunkShape: [Int], compressionLevel: Int = 4
    ) throws {
        precondition(rowShape.allSatisfy { $0 >= 0 }, "createExtendableDataset: negative extent in rowShape \(rowShape)")
        precondition(
            chunkShape.count == rowShape.count + 1,
            "createExtendableDataset: chunkShape \(chunkShape) needs \(rowShape.count + 1) entries for rowShape \(rowShape)")
        precondition(
            chunkShape.allSatisfy { $0 >= 1 } && zip(chunkShape.dropFirst(), rowShape).allSatisfy { $0 <= max($1, 1) },
            "createExtendableDataset: chunkShape \(chunkShape) must be ≥ 1 and within rowShape \(rowShape)")
        precondition((0...9).contains(compressionLevel), "createExtendableDataset: gzip level \(compressionLevel) not in 0...9")
        try requireWritable("create dataset '\(datasetPath)'")
        let normalized = HDF5Path.normalize(datasetPath)
        if let existing = try kind(of: normalized) {
            throw FileError(path, "cannot create dataset '\(normalized)': a \(Self.noun(existing)) exists there")
        }
        let deflateAvailable = try hdf5Check(H5Zfilter_avail(H5Z_filter_t(H5Z_FILTER_DEFLATE)), "H5Zfilter_avail(deflate)", path: path)
        if deflateAvailable == 0 && compressionLevel > 0 {
            throw FileError(path, "cannot compress '\(normalized)': this HDF5 library was built without gzip (deflate)")
        }
        let datatype = Element.hdf5ElementType.nativeDatatype
        try withDataspace(shape: [0] + rowShape, maximumShape: [nil] + rowShape.map { $0 }) { space in
            try withHDF5Handle(
                H5Pcreate(splatkit_h5p_dataset_create()), "H5Pcreate(dataset create)", closedBy: .propertyList, path: path
            ) { creationPlist in
                let chunk = chunkShape.map { hsize_t($0) }
                try hdf5Check(H5Pset_chunk(creationPlist, Int32(chunk.count), chunk), "H5Pset_chunk(\(chunkShape))", path: path)
                try hdf5Check(H5Pset_shuffle(creationPlist), "H5Pset_shuffle", path: path)
                if compressionLevel > 0 {
                    try hdf5Check(H5Pset_deflate(creationPlist, UInt32(compressionLevel)), "H5Pset_deflate", path: path)
                }
                // A Fletcher-32 checksum per stored chunk, checked by every read: a damaged chunk is an
                // error, never data (these files grow after they are closed, so they are not sealed).
                try hdf5Check(H5Pset_fletcher32(creationPlist), "H5Pset_fletcher32", path: path)
                try hdf5Check(H5Pset_obj_track_times(creationPlist, false), "H5Pset_obj_track_times", path: path)  // same contents, same bytes
                try withIntermediateGroupCreation(for: normalized) { linkPlist in
                    try withHDF5Handle(
                        H5Dcreate2(openID(), normalized, datatype, space, linkPlist, creationPlist, splatkit_h5p_default()),
                        "H5Dcreate2(\(normalized))", closedBy: .dataset, path: path
                    ) { _ in }
                }
            }
        }
    }

    /// The extent of the first axis of the dataset at `datasetPath`.
    public func rowCount(of datasetPath: String) throws -> Int {
        let normalized = HDF5Path.normalize(datasetPath)
        return try withRowLayout(of: normalized) { _, layout in layout.rows }
    }

    /// Appends rows (row-major values, a whole number of rows) to the end of an extendable
    /// dataset. The element type must match the stored one exactly.
    public func appendRows<Element: HDF5Element>(_ values: [Element], to datasetPath: String) throws {
        try requireWritable("append to dataset '\(datasetPath)'")
        let normalized = HDF5Path.normalize(datasetPath)
        try withRowLayout(of: normalized) { dataset, layout in
            try requireElementType(Element.self, of: dataset, at: normalized)
            let newRows = try rowsIn(values.count, layout, normalized)
            guard newRows > 0 else { return }
            let total = layout.rows + newRows
            if let limit = layout.maximumRows, total > limit {
                throw FileError(
                    path, "cannot append \(newRows) rows to '\(normalized)': its first axis is limited to \(limit) rows "
                        + "(create it with createExtendableDataset to make it unlimited)")
            }
            let newExtent = ([total] + layout.rowShape).map { hsize_t($0) }
            try hdf5Check(H5Dset_extent(dataset, newExtent), "H5Dset_extent(\(normalized), \(total) rows)", path: path)
            try writeRows(values, into: dataset, at: layout.rows, count: newRows, layout, normalized)
        }
    }

    /// Replaces rows `startRow ..< startRow + values.count / rowElements` of an existing
    /// dataset; the range must lie within its current extent.
    public func overwriteRows<Element: HDF5Element>(
        _ values: [Element], in datasetPath: String, startingAt startRow: Int
    ) throws {
        try requireWritable("overwrite rows of dataset '\(datasetPath)'")
        let normalized = HDF5Path.normalize(datasetPath)
        try withRowLayout(of: normalized) { dataset, layout in
            try requireElementType(Element.self, of: dataset, at: normalized)
            let count = try rowsIn(values.count, layout, normalized)
            try requireRows(startRow..<(startRow + count), within: layout, normalized)
            guard count > 0 else { return }
            try writeRows(values, into: dataset, at: startRow, count: count, layout, normalized)
        }
    }

    /// Reads rows `range` of a dataset of rank ≥ 1 without reading the rest. The result has
    /// shape (range.count, rowShape…).
    public func readRows<Element: HDF5Element>(
        _ type: Element.Type = Element.self, from datasetPath: String, range: Range<Int>
    ) throws -> (values: [Element], shape: [Int]) {
        let normalized = HDF5Path.normalize(datasetPath)
        return try withRowLayout(of: normalized) { dataset, layout in
            try requireElementType(Element.self, of: dataset, at: normalized)
            try requireRows(range, within: layout, normalized)
            let shape = [range.count] + layout.rowShape
            let count = try checkedElementCount(shape, at: normalized)
            let values = try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    try withRowSelection(of: dataset, start: range.lowerBound, count: range.count, layout, normalized) {
                        memorySpace, fileSpace in
                        try hdf5Check(
                            H5Dread(dataset, Element.hdf5ElementType.nativeDatatype, memorySpace, fileSpace,
                                    splatkit_h5p_default(), buffer.baseAddress),
                            "H5Dread(\(normalized), rows \(range))", path: path)
                    }
                }
                initialized = count
            }
            return (values, shape)
        }
    }

    /// Drops the rows of an extendable dataset's last chunks that cannot be read back — a chunk
    /// a killed writer left torn (its checksum or compressed stream broken) — and returns the
    /// rows kept. Whole chunks go: rows `start..<rows` of the first unreadable tail chunk and
    /// after, so the caller rewrites them. A dataset that reads back whole is left as it is.
    @discardableResult
    public func dropUnreadableTailRows(of datasetPath: String) throws -> Int {
        try requireWritable("repair dataset '\(datasetPath)'")
        let normalized = HDF5Path.normalize(datasetPath)
        let info = try datasetInfo(normalized)
        guard var rows = info.shape.first, let chunkRows = info.chunkShape?.first, chunkRows > 0 else {
            return info.shape.first ?? 0
        }
        while rows > 0 {
            let start = (rows - 1) / chunkRows * chunkRows
            if (try? readRowsDiscarding(info.elementType, from: normalized, range: start..<rows)) != nil { break }
            rows = start
            try withDataset(normalized) { dataset in
                let extent = ([rows] + Array(info.shape.dropFirst())).map { hsize_t($0) }
                try hdf5Check(H5Dset_extent(dataset, extent), "H5Dset_extent(\(normalized), \(rows) rows)", path: path)
            }
        }
        return rows
    }

    /// Reads rows `range` as their stored element type, for `dropUnreadableTailRows`.
    private func readRowsDiscarding(_ type: HDF5ElementType, from normalized: String, range: Range<Int>) throws {
        switch type {
        case .float32: _ = try readRows(Float.self, from: normalized, range: range)
        case .float64: _ = try readRows(Double.self, from: normalized, range: range)
        case .int32: _ = try readRows(Int32.self, from: normalized, range: range)
        case .int64: _ = try readRows(Int64.self, from: normalized, range: range)
        case .uint8: _ = try readRows(UInt8.self, from: normalized, range: range)
        default: throw FileError(path, "dataset '\(normalized)' holds \(type) elements, which streaming files do not use")
        }
    }

    // MARK: - Helpers

    /// The row structure of a dataset: rows along axis 0, each of `rowShape`.
    struct RowLayout {
        let rows: Int
        let maximumRows: Int?  // nil = unlimited
        let rowShape: [Int]
        var rowElements: Int { rowShape.reduce(1, *) }
    }

    private func withRowLayout<Result>(
        of normalized: String, _ body: (hid_t, RowLayout) throws -> Result
    ) throws -> Result {
        try withDataset(normalized) { dataset in
            let (shape, maximumShape) = try withHDF5Handle(
                H5Dget_space(dataset), "H5Dget_space(\(normalized))", closedBy: .dataspace, path: path
            ) { try extent(of: $0, at: normalized) }
            guard let rows = shape.first, let maximumRows = maximumShape.first else {
                throw FileError(path, "dataset '\(normalized)' is a scalar and has no rows")
            }
            return try body(dataset, RowLayout(rows: rows, maximumRows: maximumRows, rowShape: Array(shape.dropFirst())))
        }
    }

    /// How many rows `valueCount` elements make; a partial row is an error naming the dataset.
    private func rowsIn(_ valueCount: Int, _ layout: RowLayout, _ normalized: String) throws -> Int {
        let rowElements = layout.rowElements
        if rowElements == 0 {
            guard valueCount == 0 else {
                throw FileError(path, "dataset '\(normalized)' has empty rows \(layout.rowShape); got \(valueCount) values")
            }
            return 0
        }
        guard valueCount % rowElements == 0 else {
            throw FileError(
                path, "\(valueCount) values are not a whole number of rows of shape \(layout.rowShape) "
                    + "(\(rowElements) elements each) for dataset '\(normalized)'")
        }
        return valueCount / rowElements
    }

    private func requireRows(_ range: Range<Int>, within layout: RowLayout, _ normalized: String) throws {
        guard range.lowerBound >= 0, range.upperBound <= layout.rows else {
            throw FileError(path, "rows \(range) are out of range: dataset '\(normalized)' has \(layout.rows) rows")
        }
    }

    private func writeRows<Element: HDF5Element>(
        _ values: [Element], into dataset: hid_t, at startRow: Int, count: Int, _ layout: RowLayout, _ normalized: String
    ) throws {
        try withRowSelection(of: dataset, start: startRow, count: count, layout, normalized) { memorySpace, fileSpace in
            try values.withUnsafeBytes { bytes -> Void in
                try hdf5Check(
                    H5Dwrite(dataset, Element.hdf5ElementType.nativeDatatype, memorySpace, fileSpace,
                             splatkit_h5p_default(), bytes.baseAddress),
                    "H5Dwrite(\(normalized), rows \(startRow)..<\(startRow + count))", path: path)
            }
        }
    }

    /// A memory dataspace of (count, rowShape…) and the dataset's file dataspace with rows
    /// `start ..< start + count` selected.
    private func withRowSelection(
        of dataset: hid_t, start: Int, count: Int, _ layout: RowLayout, _ normalized: String,
        _ body: (_ memorySpace: hid_t, _ fileSpace: hid_t) throws -> Void
    ) throws {
        let blockShape = [count] + layout.rowShape
        try withDataspace(shape: blockShape) { memorySpace in
            try withHDF5Handle(
                H5Dget_space(dataset), "H5Dget_space(\(normalized))", closedBy: .dataspace, path: path
            ) { fileSpace in
                let offset = ([start] + layout.rowShape.map { _ in 0 }).map { hsize_t($0) }
                let extent = blockShape.map { hsize_t($0) }
                try hdf5Check(
                    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset, nil, extent, nil),
                    "H5Sselect_hyperslab(\(normalized), rows \(start)..<\(start + count))", path: path)
                try body(memorySpace, fileSpace)
            }
        }
    }
}
