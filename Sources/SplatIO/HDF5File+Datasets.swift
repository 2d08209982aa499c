import CHDF5
import TensorCore

// Whole datasets: write an array with a shape, read it back bit for bit.
//
// Layout: elements are row-major (last axis fastest), the same order as `Tensor.scalars` and
// as NumPy/h5py arrays, so a dataset of shape (out, in, k) written here is `f[path].shape ==
// (out, in, k)` in h5py. Shape `[]` is a scalar dataset with one element.

extension HDF5File {
    /// Writes `values` (row-major, `shape.reduce(1, *)` of them) as a dataset at
    /// `datasetPath`, creating the groups along the path. An existing dataset at that path is
    /// replaced (HDF5 does not reclaim its space until the file is rewritten).
    public func write<Element: HDF5Element>(_ values: [Element], shape: [Int], to datasetPath: String) throws {
        precondition(shape.allSatisfy { $0 >= 0 }, "HDF5File.write: negative extent in shape \(shape)")
        precondition(
            shape.reduce(1, *) == values.count,
            "HDF5File.write: shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        try requireWritable("write dataset '\(datasetPath)'")
        let normalized = HDF5Path.normalize(datasetPath)
        precondition(normalized != "/", "HDF5File.write: the root '/' is a group, not a dataset path")
        try removeDatasetIfPresent(normalized)
        let datatype = Element.hdf5ElementType.nativeDatatype
        try withDataspace(shape: shape) { space in
            try withUntimedCreation(splatkit_h5p_dataset_create()) { creationPlist in
            try withIntermediateGroupCreation(for: normalized) { linkPlist in
                try withHDF5Handle(
                    H5Dcreate2(openID(), normalized, datatype, space, linkPlist, creationPlist, splatkit_h5p_default()),
                    "H5Dcreate2(\(normalized))", closedBy: .dataset, path: path
                ) { dataset in
                    guard !values.isEmpty else { return }  // HDF5 rejects a NULL buffer even for 0 elements.
                    try values.withUnsafeBytes { bytes -> Void in
                        try hdf5Check(
                            H5Dwrite(dataset, datatype, splatkit_h5s_all(), splatkit_h5s_all(), splatkit_h5p_default(), bytes.baseAddress),
                            "H5Dwrite(\(normalized))", path: path)
                    }
                }
            }
            }
        }
    }

    /// Reads the whole dataset at `datasetPath`. Its stored element type must be exactly
    /// `Element` (float32 for `Float`, ...); otherwise a `FileError` names both types.
    public func read<Element: HDF5Element>(
        _ type: Element.Type = Element.self, from datasetPath: String
    ) throws -> (values: [Element], shape: [Int]) {
        let normalized = HDF5Path.normalize(datasetPath)
        return try withDataset(normalized) { dataset in
            try requireElementType(Element.self, of: dataset, at: normalized)
            let shape = try withHDF5Handle(
                H5Dget_space(dataset), "H5Dget_space(\(normalized))", closedBy: .dataspace, path: path
            ) { space in try extent(of: space, at: normalized).shape }
            let count = try checkedElementCount(shape, at: normalized)
            let datatype = Element.hdf5ElementType.nativeDatatype
            let values = try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    try hdf5Check(
                        H5Dread(dataset, datatype, splatkit_h5s_all(), splatkit_h5s_all(), splatkit_h5p_default(), buffer.baseAddress),
                        "H5Dread(\(normalized))", path: path)
                }
                initialized = count
            }
            return (values, shape)
        }
    }

    /// Writes a tensor's scalars (float32) with its shape.
    public func write(_ tensor: Tensor, to datasetPath: String) throws {
        try write(tensor.scalars, shape: tensor.shape, to: datasetPath)
    }

    /// Reads a float32 dataset as a tensor of the dataset's shape.
    public func readTensor(from datasetPath: String) throws -> Tensor {
        let (values, shape) = try read(Float.self, from: datasetPath)
        return Tensor(shape: shape, scalars: values)
    }

    /// Shape, maximum shape, chunking and element type of the dataset at `datasetPath`.
    public func datasetInfo(_ datasetPath: String) throws -> HDF5DatasetInfo {
        let normalized = HDF5Path.normalize(datasetPath)
        return try withDataset(normalized) { dataset in
            let elementType = try withHDF5Handle(
                H5Dget_type(dataset), "H5Dget_type(\(normalized))", closedBy: .datatype, path: path
            ) { try HDF5ElementType(datatype: $0, path: path) }
            let (shape, maximumShape) = try withHDF5Handle(
                H5Dget_space(dataset), "H5Dget_space(\(normalized))", closedBy: .dataspace, path: path
            ) { try extent(of: $0, at: normalized) }
            let chunkShape = try withHDF5Handle(
                H5Dget_create_plist(dataset), "H5Dget_create_plist(\(normalized))", closedBy: .propertyList, path: path
            ) { plist -> [Int]? in
                let layout = H5Pget_layout(plist)
                try hdf5Check(layout.rawValue, "H5Pget_layout(\(normalized))", path: path)
                guard layout == H5D_CHUNKED else { return nil }
                var chunk = [hsize_t](repeating: 0, count: max(shape.count, 1))
                try hdf5Check(H5Pget_chunk(plist, Int32(chunk.count), &chunk), "H5Pget_chunk(\(normalized))", path: path)
                return chunk.prefix(shape.count).map { Int($0) }
            }
            return HDF5DatasetInfo(
                shape: shape, maximumShape: maximumShape, chunkShape: chunkShape, elementType: elementType)
        }
    }

    // MARK: - Shared helpers (also used by streaming datasets)

    /// The most elements one read may return (16 GiB of float32): a larger extent is a damaged
    /// or forged file, refused before anything is allocated.
    public static let maximumReadElements = 1 << 32

    /// The element count of `shape`, checked for overflow and against `maximumReadElements`.
    func checkedElementCount(_ shape: [Int], at normalized: String) throws -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= Self.maximumReadElements else {
                throw FileError(path, "dataset '\(normalized)' has shape \(shape): more than \(Self.maximumReadElements) "
                                + "elements to read (a damaged file?)")
            }
            count = product
        }
        return count
    }

    /// Opens the dataset at a normalized path, with a readable error if it is missing.
    func withDataset<Result>(_ normalized: String, _ body: (hid_t) throws -> Result) throws -> Result {
        try require(.dataset, at: normalized)
        return try withHDF5Handle(
            H5Dopen2(openID(), normalized, splatkit_h5p_default()), "H5Dopen2(\(normalized))",
            closedBy: .dataset, path: path, body)
    }

    /// Throws unless the dataset's stored element type is exactly `Element`'s.
    func requireElementType<Element: HDF5Element>(_ type: Element.Type, of dataset: hid_t, at normalized: String) throws {
        let stored = try withHDF5Handle(
            H5Dget_type(dataset), "H5Dget_type(\(normalized))", closedBy: .datatype, path: path
        ) { try HDF5ElementType(datatype: $0, path: path) }
        if stored != Element.hdf5ElementType {
            throw FileError(
                path, "dataset '\(normalized)' holds \(stored) elements, but \(Element.hdf5ElementType) was expected")
        }
    }

    /// A simple dataspace of `shape` (scalar for `[]`), optionally with maximum extents
    /// (`nil` entries are unlimited).
    func withDataspace<Result>(
        shape: [Int], maximumShape: [Int?]? = nil, _ body: (hid_t) throws -> Result
    ) throws -> Result {
        if shape.isEmpty {
            return try withHDF5Handle(
                H5Screate(H5S_SCALAR), "H5Screate(scalar)", closedBy: .dataspace, path: path, body)
        }
        let dims = shape.map { hsize_t($0) }
        let id: hid_t
        if let maximumShape {
            let maxDims = maximumShape.map { $0.map { hsize_t($0) } ?? splatkit_h5s_unlimited() }
            id = H5Screate_simple(Int32(dims.count), dims, maxDims)
        } else {
            id = H5Screate_simple(Int32(dims.count), dims, nil)
        }
        return try withHDF5Handle(id, "H5Screate_simple(\(shape))", closedBy: .dataspace, path: path, body)
    }

    /// Current and maximum extents of a dataspace (`nil` = unlimited). A scalar is `([], [])`.
    func extent(of space: hid_t, at normalized: String) throws -> (shape: [Int], maximumShape: [Int?]) {
        let spaceClass = H5Sget_simple_extent_type(space)
        try hdf5Check(spaceClass.rawValue, "H5Sget_simple_extent_type(\(normalized))", path: path)
        if spaceClass == H5S_NULL {
            throw FileError(path, "'\(normalized)' has an empty (null) dataspace and holds no array")
        }
        let rank = try hdf5Check(H5Sget_simple_extent_ndims(space), "H5Sget_simple_extent_ndims(\(normalized))", path: path)
        guard rank > 0 else { return ([], []) }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        var maxDims = [hsize_t](repeating: 0, count: Int(rank))
        try hdf5Check(
            H5Sget_simple_extent_dims(space, &dims, &maxDims), "H5Sget_simple_extent_dims(\(normalized))", path: path)
        let unlimited = splatkit_h5s_unlimited()
        return (dims.map { Int($0) }, maxDims.map { $0 == unlimited ? nil : Int($0) })
    }

    /// Unlinks an existing dataset so a new one can take its path; a group there throws.
    private func removeDatasetIfPresent(_ normalized: String) throws {
        switch try kind(of: normalized) {
        case nil:
            return
        case .dataset?:
            try hdf5Check(H5Ldelete(openID(), normalized, splatkit_h5p_default()), "H5Ldelete(\(normalized))", path: path)
        case let other?:
            throw FileError(path, "cannot write dataset '\(normalized)': a \(Self.noun(other)) exists there")
        }
    }
}
