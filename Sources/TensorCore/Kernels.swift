// Element-wise kernels shared by the ops: plain loops over unsafe buffers, parallel over
// contiguous chunks for large tensors. They know nothing of autodiff.

/// Makes an array of `count` floats whose element i is `element(i)`, in parallel chunks.
@inline(__always)
func generateScalars(_ count: Int, _ element: (Int) -> Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        let destination = buffer.baseAddress
        parallelChunks(count) { range in
            for i in range { destination![i] = element(i) }
        }
        initialized = count
    }
}

/// An array of `count` floats whose contents the caller overwrites completely (e.g. by a GEMM
/// with beta = 0), so no time is spent zeroing it.
@inline(__always)
func uninitializedScalars(_ count: Int) -> [Float] { uninitializedArray(of: Float.self, count: count) }

/// The sum of `count` contiguous floats, in SIMD blocks of 16 (a fixed order, so the result
/// does not depend on threads).
@inline(__always)
func contiguousSum(_ values: UnsafePointer<Float>, _ count: Int) -> Float {
    var blocks = SIMD16<Float>()
    let raw = UnsafeRawPointer(values)
    var i = 0
    while i + 16 <= count {
        blocks += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
        i += 16
    }
    var total: Float = count >= 16 ? blocks.sum() : 0  // (no horizontal sum for short runs)
    while i < count {
        total += values[i]
        i += 1
    }
    return total
}

// Element functions are small structs conforming to these protocols rather than closures: a
// generic kernel specialised for a struct calls it directly inside the parallel loop, so the
// loop is inlined and vectorised; a closure captured by the loop would cost an indirect call
// per element. Closures remain available (wrapped) for code off the hot path.

/// A pure function of one float.
protocol ScalarFunction1 { func callAsFunction(_ x: Float) -> Float }
/// A pure function of two floats.
protocol ScalarFunction2 { func callAsFunction(_ x: Float, _ y: Float) -> Float }
/// A pure function of three floats.
protocol ScalarFunction3 { func callAsFunction(_ x: Float, _ y: Float, _ z: Float) -> Float }

struct ClosureFunction1: ScalarFunction1 {
    let body: (Float) -> Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { body(x) }
}

struct ClosureFunction2: ScalarFunction2 {
    let body: (Float, Float) -> Float
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { body(x, y) }
}

struct ClosureFunction3: ScalarFunction3 {
    let body: (Float, Float, Float) -> Float
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float, _ z: Float) -> Float { body(x, y, z) }
}

/// `f` applied to every element of `x`.
@inline(__always)
func mapScalars<F: ScalarFunction1>(_ x: [Float], _ f: F) -> [Float] {
    let count = x.count
    return x.withUnsafeBufferPointer { source in
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let s = source.baseAddress, d = buffer.baseAddress
            parallelChunks(count) { range in
                for i in range { d![i] = f(s![i]) }
            }
            initialized = count
        }
    }
}

func mapScalars(_ x: [Float], _ f: @escaping (Float) -> Float) -> [Float] { mapScalars(x, ClosureFunction1(body: f)) }

/// `f(x[i], y[i])` for two arrays of equal length.
@inline(__always)
func zipScalars<F: ScalarFunction2>(_ x: [Float], _ y: [Float], _ f: F) -> [Float] {
    precondition(x.count == y.count, "zipScalars: \(x.count) vs \(y.count) elements")
    let count = x.count
    return x.withUnsafeBufferPointer { xs in
        y.withUnsafeBufferPointer { ys in
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                let a = xs.baseAddress, b = ys.baseAddress, d = buffer.baseAddress
                parallelChunks(count) { range in
                    for i in range { d![i] = f(a![i], b![i]) }
                }
                initialized = count
            }
        }
    }
}

func zipScalars(_ x: [Float], _ y: [Float], _ f: @escaping (Float, Float) -> Float) -> [Float] {
    zipScalars(x, y, ClosureFunction2(body: f))
}

/// `f(x[i], y[i], z[i])` for three arrays of equal length (used by pullbacks: input, output, gradient).
@inline(__always)
func zipScalars<F: ScalarFunction3>(_ x: [Float], _ y: [Float], _ z: [Float], _ f: F) -> [Float] {
    precondition(x.count == y.count && y.count == z.count, "zipScalars: unequal element counts")
    let count = x.count
    return x.withUnsafeBufferPointer { xs in
        y.withUnsafeBufferPointer { ys in
            z.withUnsafeBufferPointer { zs in
                [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    let a = xs.baseAddress, b = ys.baseAddress, c = zs.baseAddress, d = buffer.baseAddress
                    parallelChunks(count) { range in
                        for i in range { d![i] = f(a![i], b![i], c![i]) }
                    }
                    initialized = count
                }
            }
        }
    }
}

func zipScalars(_ x: [Float], _ y: [Float], _ z: [Float], _ f: @escaping (Float, Float, Float) -> Float) -> [Float] {
    zipScalars(x, y, z, ClosureFunction3(body: f))
}

// MARK: - Broadcasting

/// NumPy broadcasting of two shapes: align on the right; extents must match or be 1.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = max(a.count, b.count)
    let paddedA = [Int](repeating: 1, count: rank - a.count) + a
    let paddedB = [Int](repeating: 1, count: rank - b.count) + b
    return zip(paddedA, paddedB).map { x, y in
        precondition(x == y || x == 1 || y == 1, "broadcast: incompatible shapes \(a) and \(b)")
        return max(x, y)
    }
}

/// Strides (in elements) for reading a tensor of `shape` as if it had `target`'s shape:
/// broadcast axes get stride 0.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
    let strides = Tensor.contiguousStrides(padded)
    return (0..<target.count).map { padded[$0] == 1 && target[$0] != 1 ? 0 : strides[$0] }
}

/// Walks the rows (every axis but the last) of a row-major `shape` in order, keeping the
/// offset of the current row in one or two strided views up to date: moving to the next row
/// is an add (and now and then a carry), where recomputing the offsets from the row number
/// costs a division per axis per row.
struct RowOdometer {
    private let extents: [Int], stridesA: [Int], stridesB: [Int]  // of the outer axes
    private var index: [Int]
    /// The current row's offset in view a, and in view b.
    private(set) var offsetA: Int, offsetB: Int

    /// At row `row` of `shape`, for views with these strides (per axis of `shape`) and offsets
    /// `baseA`, `baseB` at row 0.
    init(shape: [Int], stridesA: [Int], stridesB: [Int]? = nil, row: Int, baseA: Int = 0, baseB: Int = 0) {
        extents = Array(shape.dropLast())
        self.stridesA = Array(stridesA.dropLast())
        self.stridesB = Array((stridesB ?? stridesA.map { _ in 0 }).dropLast())
        index = [Int](repeating: 0, count: extents.count)
        offsetA = baseA
        offsetB = baseB
        var remainder = row
        for axis in stride(from: extents.count - 1, through: 0, by: -1) {
            index[axis] = remainder % extents[axis]
            remainder /= extents[axis]
            offsetA += index[axis] * self.stridesA[axis]
            offsetB += index[axis] * self.stridesB[axis]
        }
    }

    /// Moves to the next row.
    @inline(__always)
    mutating func advance() {
        var axis = extents.count - 1
        while axis >= 0 {
            index[axis] += 1
            offsetA += stridesA[axis]
            offsetB += stridesB[axis]
            if index[axis] < extents[axis] { return }
            index[axis] = 0
            offsetA -= extents[axis] * stridesA[axis]
            offsetB -= extents[axis] * stridesB[axis]
            axis -= 1
        }
    }
}

/// `f(a, b)` with NumPy broadcasting (of a, b and optionally a third shape). Fast paths for equal shapes and scalar operands; the
/// general path walks the output with an odometer over the outer axes and a strided inner loop.
func broadcastScalars(
    _ a: Tensor, _ b: Tensor, alsoBroadcastingTo extraShape: [Int] = [], _ f: @escaping (Float, Float) -> Float
) -> (shape: [Int], scalars: [Float]) {
    broadcastScalars(a, b, alsoBroadcastingTo: extraShape, ClosureFunction2(body: f))
}

@inline(__always)
func broadcastScalars<F: ScalarFunction2>(
    _ a: Tensor, _ b: Tensor, alsoBroadcastingTo extraShape: [Int] = [], _ f: F
) -> (shape: [Int], scalars: [Float]) {
    let shape = broadcastShape(broadcastShape(a.shape, b.shape), extraShape)
    if a.shape == shape && b.shape == shape { return (shape, zipScalars(a.scalars, b.scalars, f)) }
    if b.count == 1 && shape == a.shape {
        return (shape, mapScalars(a.scalars, SecondFixed(f: f, y: b.scalars[0])))
    }
    if a.count == 1 && shape == b.shape {
        return (shape, mapScalars(b.scalars, FirstFixed(f: f, x: a.scalars[0])))
    }
    let stridesA = broadcastStrides(a.shape, to: shape)
    let stridesB = broadcastStrides(b.shape, to: shape)
    let total = shape.reduce(1, *)
    let inner = shape.last ?? 1
    let innerStrideA = stridesA.last ?? 0, innerStrideB = stridesB.last ?? 0
    let rows = inner == 0 ? 0 : total / inner
    let result = a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            [Float](unsafeUninitializedCapacity: total) { out, initialized in
                let o = out.baseAddress, x = pa.baseAddress, y = pb.baseAddress
                parallelChunks(rows, minimumPerThread: max(1, 32_768 / max(inner, 1))) { rowRange in
                    // Offsets of each row's first element in a and b.
                    var odometer = RowOdometer(shape: shape, stridesA: stridesA, stridesB: stridesB, row: rowRange.lowerBound)
                    for row in rowRange {
                        let base = row * inner, offsetA = odometer.offsetA, offsetB = odometer.offsetB
                        for i in 0..<inner {
                            o![base + i] = f(x![offsetA + i * innerStrideA], y![offsetB + i * innerStrideB])
                        }
                        odometer.advance()
                    }
                }
                initialized = total
            }
        }
    }
    return (shape, result)
}

/// f(x, y) with y fixed.
struct SecondFixed<F: ScalarFunction2>: ScalarFunction1 {
    let f: F, y: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { f(x, y) }
}

/// f(x, y) with x fixed.
struct FirstFixed<F: ScalarFunction2>: ScalarFunction1 {
    let f: F, x: Float
    @inline(__always) func callAsFunction(_ y: Float) -> Float { f(x, y) }
}

/// An array of `count` elements left uninitialised, for a buffer whose every element the caller
/// writes before reading (trivial element types only, such as Float and Int32).
@inlinable
public func uninitializedArray<Element: BitwiseCopyable>(of: Element.Type, count: Int) -> [Element] {
    [Element](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
