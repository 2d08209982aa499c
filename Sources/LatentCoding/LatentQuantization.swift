import Foundation
import TensorCore

// Quantisation of latents to the integers the code tables index: rounding half away from zero
// (Foundation's `rounded()`), the same on encoder and decoder. Training uses additive uniform
// noise instead (VAEModel's pass); inference and the codec use these.

extension Tensor {
    /// The values rounded to the nearest integer, a constant of any graph (no gradient).
    public func roundedToIntegers() -> Tensor {
        Tensor(shape: shape, scalars: scalars.map { $0.rounded() })
    }
}

/// The integers of `latents` (any shape, row-major) for `LatentStream`; nil when a value is not
/// finite or its rounding falls outside Int32.
public func quantizedLatents(_ latents: Tensor) -> [Int32]? {
    var values: [Int32] = []
    values.reserveCapacity(latents.count)
    for value in latents.scalars {
        guard value.isFinite, let integer = Int32(exactly: value.rounded()) else { return nil }
        values.append(integer)
    }
    return values
}
