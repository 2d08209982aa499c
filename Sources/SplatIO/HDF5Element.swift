import CHDF5

/// The element type of an HDF5 dataset or attribute, as classified from its HDF5 datatype.
///
/// Byte order is not part of the classification: HDF5 converts big-endian data on read.
public enum HDF5ElementType: Equatable, CustomStringConvertible, Sendable {
    case float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    /// Fixed- or variable-length strings.
    case string
    /// Anything else (compound, enum, array, half floats, ...), with HDF5's class name.
    case other(String)

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .string: return "string"
        case .other(let name): return name
        }
    }

    /// Classifies an HDF5 datatype handle. Throws only if HDF5 cannot describe the type.
    init(datatype: hid_t, path: String) throws {
        let typeClass = H5Tget_class(datatype)
        try hdf5Check(typeClass.rawValue, "H5Tget_class", path: path)
        let size = H5Tget_size(datatype)
        if size == 0 { try hdf5Check(Int32(-1), "H5Tget_size", path: path) }  // 0 is its failure value.
        switch typeClass {
        case H5T_FLOAT:
            switch size {
            case 4: self = .float32
            case 8: self = .float64
            default: self = .other("float\(size * 8)")
            }
        case H5T_INTEGER:
            let sign = H5Tget_sign(datatype)
            try hdf5Check(sign.rawValue, "H5Tget_sign", path: path)
            let signed = sign != H5T_SGN_NONE
            switch (size, signed) {
            case (1, true): self = .int8
            case (2, true): self = .int16
            case (4, true): self = .int32
            case (8, true): self = .int64
            case (1, false): self = .uint8
            case (2, false): self = .uint16
            case (4, false): self = .uint32
            case (8, false): self = .uint64
            default: self = .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: self = .string
        case H5T_COMPOUND: self = .other("compound")
        case H5T_ENUM: self = .other("enum")
        case H5T_ARRAY: self = .other("array")
        case H5T_VLEN: self = .other("variable-length sequence")
        case H5T_OPAQUE: self = .other("opaque")
        case H5T_REFERENCE: self = .other("reference")
        case H5T_BITFIELD: self = .other("bitfield")
        case H5T_TIME: self = .other("time")
        default: self = .other("HDF5 type class \(typeClass.rawValue)")
        }
    }

    /// HDF5's in-memory type for the element types SplatKit reads and writes.
    var nativeDatatype: hid_t {
        switch self {
        case .float32: return splatkit_h5t_native_float()
        case .float64: return splatkit_h5t_native_double()
        case .int32: return splatkit_h5t_native_int32()
        case .int64: return splatkit_h5t_native_int64()
        case .uint8: return splatkit_h5t_native_uint8()
        default: preconditionFailure("HDF5ElementType: no native datatype for \(self)")
        }
    }
}

/// A Swift scalar that HDF5 datasets can hold bit-exactly: `Float` (float32), `Double`,
/// `Int32`, `Int64` and `UInt8`. Reads require the stored type to be exactly this type (no
/// silent conversion), so a checkpoint never changes precision on the way in.
///
/// Only SplatIO's own conformances are supported: the element type must have a native HDF5
/// datatype, which exists for exactly these five.
public protocol HDF5Element {
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int32: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension UInt8: HDF5Element { public static var hdf5ElementType: HDF5ElementType { .uint8 } }

/// Where an object sits in the file's tree.
public enum HDF5ObjectKind: Equatable, Sendable {
    case group
    case dataset
    /// A named datatype, or a soft/external link whose target does not resolve.
    case other
}

/// One entry of a group: its name (no slashes) and what it is.
public struct HDF5Child: Equatable, Sendable {
    public let name: String
    public let kind: HDF5ObjectKind

    public init(name: String, kind: HDF5ObjectKind) {
        self.name = name
        self.kind = kind
    }
}

/// What a dataset holds, without reading its elements.
public struct HDF5DatasetInfo: Equatable, Sendable {
    /// Current extent of each axis, outermost first; `[]` for a scalar dataset.
    public let shape: [Int]
    /// Maximum extent of each axis; `nil` marks an unlimited (extendable) axis.
    public let maximumShape: [Int?]
    /// Chunk extent of each axis for chunked datasets; `nil` for contiguous/compact ones.
    public let chunkShape: [Int]?
    public let elementType: HDF5ElementType

    /// The number of elements (1 for a scalar dataset).
    public var elementCount: Int { shape.reduce(1, *) }
}
