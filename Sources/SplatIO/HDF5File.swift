import CHDF5
import Foundation

/// An open HDF5 file: a tree of groups holding datasets (n-dimensional arrays) and attributes.
///
/// Objects are addressed by '/'-separated paths from the root (`"encoder/conv1/weight"` and
/// `"/encoder/conv1/weight"` are the same object); writing a dataset creates the groups along
/// its path. Every failure of the C library, and every missing or mistyped object, throws a
/// `FileError` naming this file and the object.
///
/// Datasets are in `HDF5File+Datasets.swift`, extendable (streaming) datasets in
/// `HDF5File+Streaming.swift`, attributes in `HDF5File+Attributes.swift`.
///
/// Not thread-safe: the serial HDF5 library must be used from one thread at a time.
public final class HDF5File {
    public enum AccessMode: Sendable {
        case readOnly
        case readWrite
    }

    /// The file's path as given when it was created or opened.
    public let path: String
    public let accessMode: AccessMode
    /// HDF5's file handle; -1 after `close()`.
    private(set) var fileID: hid_t

    /// Whether `close()` seals the file with a CRC-32 (HDF5File+Checksum.swift).
    private(set) var sealsOnClose: Bool

    /// Creates a new file at `path`, replacing any existing file. The file is open read-write.
    ///
    /// - Parameter sealed: write a CRC-32 of the file into its user block at `close()`, checked
    ///   by every later `HDF5File(opening:)`. Files that grow after they are closed (streaming
    ///   datasets) pass `false`, and may be sealed once they are final (`sealAtClose()`); their
    ///   string attributes are fixed-length, so nothing of theirs is in HDF5's unchecksummed
    ///   global heap (HDF5File+Attributes.swift). Every new file reserves the user block.
    public init(creating path: String, sealed: Bool = true) throws {
        _ = hdf5Initialized
        self.path = path
        self.accessMode = .readWrite
        self.sealsOnClose = sealed
        let creationPlist = try hdf5Check(H5Pcreate(splatkit_h5p_file_create()), "H5Pcreate(file create)", path: path)
        defer { H5Pclose(creationPlist) }
        try hdf5Check(H5Pset_userblock(creationPlist, hsize_t(HDF5FileSeal.userBlockSize)), "H5Pset_userblock", path: path)
        // No creation or modification times in object headers (here the root group's, below
        // every group's and dataset's): the same contents give the same bytes.
        try hdf5Check(H5Pset_obj_track_times(creationPlist, false), "H5Pset_obj_track_times", path: path)
        // Unsealed files (which grow after they are closed) get HDF5's own checksums on every
        // metadata block instead: the 1.8+ object and index formats, which h5py reads as well.
        let accessPlist = try hdf5Check(H5Pcreate(splatkit_h5p_file_access()), "H5Pcreate(file access)", path: path)
        defer { H5Pclose(accessPlist) }
        if !sealed {
            try hdf5Check(H5Pset_libver_bounds(accessPlist, splatkit_h5f_libver_v18(), splatkit_h5f_libver_latest()),
                          "H5Pset_libver_bounds", path: path)
        }
        let id = H5Fcreate(path, splatkit_h5f_acc_trunc(), creationPlist, accessPlist)
        self.fileID = try hdf5Check(id, "H5Fcreate", path: path)
    }

    /// Opens an existing HDF5 file. A missing, non-HDF5 or truncated file throws `FileError`.
    public init(opening path: String, mode: AccessMode = .readOnly) throws {
        _ = hdf5Initialized
        self.path = path
        self.accessMode = mode
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw FileError(path, "is a directory, not an HDF5 file") }
        let sealed = try HDF5FileSeal.verify(path)
        // Without the seal nothing has checked the global heap, which HDF5 checksums nowhere.
        if !sealed { try HDF5GlobalHeapCheck.verify(path) }
        if sealed && mode == .readWrite { try HDF5FileSeal.removeSeal(path) }
        self.sealsOnClose = sealed && mode == .readWrite
        let flags = mode == .readOnly ? splatkit_h5f_acc_rdonly() : splatkit_h5f_acc_rdwr()
        let id = H5Fopen(path, flags, splatkit_h5p_default())
        do {
            self.fileID = try hdf5Check(id, "H5Fopen", path: path)
        } catch let error as FileError {
            // HDF5 locks every file it opens; another process writing it (a dataset build) holds the lock.
            if error.reason.contains("unable to lock file") {
                throw FileError(path, "is in use by another process (a build or run writing it); wait for it to end "
                                + "(\(error.reason))")
            }
            throw FileError(path, "not an HDF5 file, or damaged: \(error.reason)")
        }
    }

    /// Closes the file if `close()` was not called. Errors cannot be reported from here; call
    /// `close()` explicitly after writing to learn whether the final flush succeeded.
    deinit {
        if fileID >= 0 { _ = H5Fclose(fileID) }
    }

    public var isOpen: Bool { fileID >= 0 }

    /// Makes `close()` seal the file (HDF5File+Checksum.swift): for a streaming file once it is
    /// final, such as a finished dataset. Opening it for writing later removes the seal until
    /// that writer closes it.
    public func sealAtClose() throws {
        try requireWritable("seal the file")
        sealsOnClose = true
    }

    /// Flushes and closes the file. Closing twice is allowed (the second call does nothing).
    public func close() throws {
        guard fileID >= 0 else { return }
        let id = fileID
        fileID = -1
        try hdf5Check(H5Fclose(id), "H5Fclose", path: path)
        if sealsOnClose { try HDF5FileSeal.seal(path) }
    }

    /// Writes all buffered data of this file to disk (H5Fflush with global scope).
    public func flush() throws {
        try hdf5Check(H5Fflush(openID(), H5F_SCOPE_GLOBAL), "H5Fflush", path: path)
    }

    /// The file handle; using a closed file is a programming error.
    func openID() -> hid_t {
        precondition(fileID >= 0, "HDF5File \(path): used after close()")
        return fileID
    }

    func requireWritable(_ operation: String) throws {
        if accessMode == .readOnly {
            throw FileError(path, "cannot \(operation): file is open read-only")
        }
    }

    // MARK: - Tree

    /// Whether an object (group, dataset, named type) exists at `objectPath`. The root always
    /// exists. A path through a dataset (`"weights/x"` where `weights` is a dataset) does not.
    public func exists(_ objectPath: String) throws -> Bool {
        try kind(of: objectPath) != nil
    }

    /// The kind of object at `objectPath`, or `nil` if there is none (or a link dangles).
    public func kind(of objectPath: String) throws -> HDF5ObjectKind? {
        let file = openID()
        var current = "/"
        for name in HDF5Path.components(objectPath) {
            // Each parent must be a group before its child can be asked about.
            if current != "/" {
                guard try objectKind(at: current) == .group else { return nil }
            }
            current = HDF5Path.join(current, name)
            let linkExists = try hdf5Check(H5Lexists(file, current, splatkit_h5p_default()), "H5Lexists(\(current))", path: path)
            if linkExists == 0 { return nil }
            let resolves = try hdf5Check(
                H5Oexists_by_name(file, current, splatkit_h5p_default()), "H5Oexists_by_name(\(current))", path: path)
            if resolves == 0 { return nil }
        }
        return try objectKind(at: current)
    }

    /// The kind of an object known to exist at the normalized `objectPath`.
    private func objectKind(at objectPath: String) throws -> HDF5ObjectKind {
        try withHDF5Handle(
            H5Oopen(openID(), objectPath, splatkit_h5p_default()), "H5Oopen(\(objectPath))",
            closedBy: .object, path: path
        ) { object in
            let type = H5Iget_type(object)
            try hdf5Check(type.rawValue, "H5Iget_type(\(objectPath))", path: path)
            switch type {
            case H5I_GROUP: return .group
            case H5I_DATASET: return .dataset
            default: return .other
            }
        }
    }

    /// Throws a `FileError` naming `objectPath` unless it exists and is of `expected` kind.
    func require(_ expected: HDF5ObjectKind, at objectPath: String) throws {
        let normalized = HDF5Path.normalize(objectPath)
        guard let found = try kind(of: normalized) else {
            throw FileError(path, "no \(Self.noun(expected)) '\(normalized)' in file")
        }
        if found != expected {
            throw FileError(path, "'\(normalized)' is a \(Self.noun(found)), not a \(Self.noun(expected))")
        }
    }

    /// Throws a `FileError` naming `objectPath` unless some object exists there.
    func requireObject(at objectPath: String) throws {
        let normalized = HDF5Path.normalize(objectPath)
        if try kind(of: normalized) == nil {
            throw FileError(path, "no object '\(normalized)' in file")
        }
    }

    static func noun(_ kind: HDF5ObjectKind) -> String {
        switch kind {
        case .group: return "group"
        case .dataset: return "dataset"
        case .other: return "object"
        }
    }

    /// Runs `body` with a link-creation property list that creates missing intermediate groups,
    /// after creating the groups above `objectPath` that are missing (HDF5's own intermediate
    /// groups would record creation times; these record none, as `withUntimedCreation`).
    func withIntermediateGroupCreation<Result>(for objectPath: String, _ body: (hid_t) throws -> Result) throws -> Result {
        var ancestor = ""
        for component in HDF5Path.normalize(objectPath).split(separator: "/").dropLast() {
            ancestor += "/" + component
            guard try kind(of: ancestor) == nil else { continue }
            try withUntimedCreation(splatkit_h5p_group_create()) { creationPlist in
                try withHDF5Handle(
                    H5Gcreate2(openID(), ancestor, splatkit_h5p_default(), creationPlist, splatkit_h5p_default()),
                    "H5Gcreate2(\(ancestor))", closedBy: .group, path: path
                ) { _ in }
            }
        }
        return try withHDF5Handle(
            H5Pcreate(splatkit_h5p_link_create()), "H5Pcreate(link create)", closedBy: .propertyList, path: path
        ) { plist in
            try hdf5Check(H5Pset_create_intermediate_group(plist, 1), "H5Pset_create_intermediate_group", path: path)
            return try body(plist)
        }
    }

    /// Runs `body` with a creation property list of `kind` (group or dataset creation) that
    /// records no creation or modification times, so the same contents give the same bytes.
    func withUntimedCreation<Result>(_ kind: hid_t, _ body: (hid_t) throws -> Result) throws -> Result {
        try withHDF5Handle(H5Pcreate(kind), "H5Pcreate", closedBy: .propertyList, path: path) { plist in
            try hdf5Check(H5Pset_obj_track_times(plist, false), "H5Pset_obj_track_times", path: path)
            return try body(plist)
        }
    }

    /// Creates the group at `groupPath` and any missing groups above it. An existing group is
    /// left as is; an existing dataset at that path throws.
    public func createGroup(_ groupPath: String) throws {
        try requireWritable("create group '\(groupPath)'")
        let normalized = HDF5Path.normalize(groupPath)
        switch try kind(of: normalized) {
        case .group?: return
        case let other?: throw FileError(path, "cannot create group '\(normalized)': a \(Self.noun(other)) exists there")
        case nil: break
        }
        try withIntermediateGroupCreation(for: normalized) { linkPlist in
            try withUntimedCreation(splatkit_h5p_group_create()) { creationPlist in
                try withHDF5Handle(
                    H5Gcreate2(openID(), normalized, linkPlist, creationPlist, splatkit_h5p_default()),
                    "H5Gcreate2(\(normalized))", closedBy: .group, path: path
                ) { _ in }
            }
        }
    }

    /// The direct children of the group at `groupPath`, sorted by name.
    public func children(of groupPath: String = "/") throws -> [HDF5Child] {
        let normalized = HDF5Path.normalize(groupPath)
        try require(.group, at: normalized)
        return try withHDF5Handle(
            H5Gopen2(openID(), normalized, splatkit_h5p_default()), "H5Gopen2(\(normalized))",
            closedBy: .group, path: path
        ) { group in
            var info = H5G_info_t()
            try hdf5Check(H5Gget_info(group, &info), "H5Gget_info(\(normalized))", path: path)
            var result: [HDF5Child] = []
            for index in 0..<info.nlinks {
                let name = try linkName(in: group, at: index, groupPath: normalized)
                let resolves = try hdf5Check(
                    H5Oexists_by_name(group, name, splatkit_h5p_default()), "H5Oexists_by_name(\(name))", path: path)
                let kind = resolves == 0 ? HDF5ObjectKind.other : try objectKind(at: HDF5Path.join(normalized, name))
                result.append(HDF5Child(name: name, kind: kind))
            }
            return result
        }
    }

    /// The name of link number `index` (in name order) of an open group.
    private func linkName(in group: hid_t, at index: hsize_t, groupPath: String) throws -> String {
        let call = "H5Lget_name_by_idx(\(groupPath), \(index))"
        let length = try hdf5Check(
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, splatkit_h5p_default()),
            call, path: path)
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        try hdf5Check(
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, splatkit_h5p_default()),
            call, path: path)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The absolute paths of all datasets under `groupPath` (recursively), sorted.
    /// Only hard links are followed, so soft links cannot make the walk loop.
    public func datasetPaths(under groupPath: String = "/") throws -> [String] {
        let normalized = HDF5Path.normalize(groupPath)
        var result: [String] = []
        for child in try children(of: normalized) {
            let childPath = HDF5Path.join(normalized, child.name)
            switch child.kind {
            case .dataset:
                result.append(childPath)
            case .group:
                let linkType = splatkit_h5l_link_type(openID(), childPath)
                try hdf5Check(linkType, "H5Lget_info(\(childPath))", path: path)
                if linkType == Int32(H5L_TYPE_HARD.rawValue) {
                    result += try datasetPaths(under: childPath)
                }
            case .other:
                break
            }
        }
        return result.sorted()
    }
}
