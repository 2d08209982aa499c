// Delaunay triangulation of points in the plane (Bowyer–Watson), used by the procedural
// paintings to cut the canvas into triangles.
//
// Algorithm: start from a super-triangle that contains every point and insert the points one
// at a time. Each insertion finds the triangle containing the new point, grows the "cavity"
// from it through neighbours whose circumcircle strictly contains the point, removes the
// cavity and joins the point to its boundary edges. Finally the triangles touching a
// super-triangle vertex are dropped.
//
// The super-triangle is symbolic: its three vertices are points at infinity in three fixed
// directions d0, d1, d2 (unit vectors 120° apart, d0 + d1 + d2 = 0). A finite super-triangle
// can leave hull triangles out (its vertices may fall inside circumcircles of the points), so
// we use the limit of a super-triangle scaled by M → ∞ instead, where the orientation and
// in-circle tests have closed forms (see `SymbolicGeometry`). The result is the Delaunay
// triangulation of the points, covering their convex hull.
//
// Robustness: the tests are plain Double arithmetic (the in-circle determinant is taken
// relative to the query point), exact for small dyadic inputs such as grids, and otherwise
// possibly wrong in the last bits for nearly cocircular or collinear points. Such errors
// cannot break the mesh: growing the cavity from the containing triangle keeps it connected,
// any boundary edge the point does not strictly see pulls the triangle behind it into the
// cavity (so the new fan is counter-clockwise and covers the cavity exactly), and an
// insertion that would orphan a vertex is abandoned (the point is skipped). Points within
// 1e-10 of the extent of an inserted point are skipped as duplicates. Both are listed in
// `skippedPoints`.
//
// Cost: O(n²) (point location scans all triangles): fine for the hundreds to few thousands
// of points it is used for. Deterministic: hash tables are only looked up, never iterated.
import Foundation

/// The Delaunay triangulation of a set of 2-D points: triangles whose circumcircles contain
/// no input point, covering the convex hull of the points.
///
/// ```swift
/// let square = DelaunayTriangulation(points: [[0, 0], [1, 0], [1, 1], [0, 1]])
/// square.triangles.count  // 2
/// ```
public struct DelaunayTriangulation: Sendable {
    /// The input points, unchanged.
    public let points: [SIMD2<Double>]
    /// Triangles as indices into `points`, counter-clockwise (positive signed area in x-right,
    /// y-up axes; the same formula gives clockwise on screen with y down).
    public let triangles: [(Int, Int, Int)]
    /// Indices of points left out (in input order): duplicates of an earlier point, and in
    /// nearly degenerate input (slivers thinner than rounding error) points whose insertion
    /// would be inconsistent.
    public let skippedPoints: [Int]

    /// Triangulates `points` (any count: fewer than 3 points, or all collinear, give no triangles).
    public init(points: [SIMD2<Double>]) {
        self.points = points
        precondition(points.count < Int(UInt32.max) - 3, "DelaunayTriangulation: too many points (\(points.count))")
        guard !points.isEmpty else {
            triangles = []
            skippedPoints = []
            return
        }
        var lower = points[0], upper = points[0]
        for point in points {
            lower = pointwiseMin(lower, point)
            upper = pointwiseMax(upper, point)
        }
        let extent = Swift.max(upper.x - lower.x, upper.y - lower.y)
        var mesh = Mesh(geometry: SymbolicGeometry(points: points), duplicateDistance: 1e-10 * extent)
        var skipped: [Int] = []
        for index in points.indices where !mesh.insert(index) {
            skipped.append(index)
        }
        triangles = mesh.finiteTriangles()
        skippedPoints = skipped
    }

    /// Each undirected edge once, as (smaller index, larger index), in order of first
    /// appearance in `triangles`.
    public var edges: [(Int, Int)] {
        var seen = Set<UInt64>()
        var result: [(Int, Int)] = []
        for (a, b, c) in triangles {
            for (u, v) in [(a, b), (b, c), (c, a)] {
                let edge = (Swift.min(u, v), Swift.max(u, v))
                if seen.insert(edgeKey(edge.0, edge.1)).inserted { result.append(edge) }
            }
        }
        return result
    }
}

/// The triangles during construction, with each directed edge mapped to the triangle that
/// has it (counter-clockwise), so neighbours are found across edges.
private struct Mesh {
    let geometry: SymbolicGeometry
    let duplicateDistanceSquared: Double
    private var triangles: [Triangle]
    private var alive: [Bool]
    private var freeSlots: [Int] = []
    private var edgeOwner: [UInt64: Int] = [:]

    init(geometry: SymbolicGeometry, duplicateDistance: Double) {
        self.geometry = geometry
        duplicateDistanceSquared = duplicateDistance * duplicateDistance
        let n = geometry.points.count
        triangles = []
        alive = []
        add(Triangle(n, n + 1, n + 2))  // the symbolic super-triangle
    }

    /// Inserts point `index`; false (mesh unchanged) if it duplicates a vertex or cannot be
    /// placed consistently.
    mutating func insert(_ index: Int) -> Bool {
        let p = geometry.points[index]
        guard let start = triangles.indices.first(where: { alive[$0] && geometry.contains(triangles[$0], p) }),
              !isNearVertex(of: triangles[start], p) else { return false }

        // Grow the cavity from the containing triangle across edges, by the in-circle test.
        var cavity = [start]
        var inCavity: Set<Int> = [start]
        var next = 0
        while next < cavity.count {
            for (u, v) in triangles[cavity[next]].edges {
                if let neighbour = edgeOwner[edgeKey(v, u)], !inCavity.contains(neighbour),
                   geometry.inCircumcircle(triangles[neighbour], p) {
                    cavity.append(neighbour)
                    inCavity.insert(neighbour)
                }
            }
            next += 1
        }
        // Make the cavity star-shaped from p: absorb the triangle behind any boundary edge
        // that p does not see strictly from the inside.
        var boundary: [(Int, Int)] = []
        var repaired = true
        while repaired {
            repaired = false
            boundary = []
            for t in cavity {
                for (u, v) in triangles[t].edges {
                    let neighbour = edgeOwner[edgeKey(v, u)]
                    if let neighbour, inCavity.contains(neighbour) { continue }
                    if geometry.orientation(u, v, p) > 0 {
                        boundary.append((u, v))
                    } else {
                        guard let neighbour else { return false }
                        cavity.append(neighbour)
                        inCavity.insert(neighbour)
                        repaired = true
                    }
                }
            }
        }
        // Every vertex of the cavity must stay on its boundary, and none may be a duplicate.
        let boundaryVertices = Set(boundary.map { $0.0 })
        for t in cavity {
            if isNearVertex(of: triangles[t], p) { return false }
            if triangles[t].vertices.contains(where: { !boundaryVertices.contains($0) }) { return false }
        }

        for t in cavity { remove(t) }
        for (u, v) in boundary { add(Triangle(u, v, index)) }
        return true
    }

    /// The triangles without a super-triangle vertex, in slot order.
    func finiteTriangles() -> [(Int, Int, Int)] {
        let n = geometry.points.count
        return triangles.indices.compactMap { t in
            let triangle = triangles[t]
            return alive[t] && triangle.vertices.allSatisfy({ $0 < n }) ? (triangle.a, triangle.b, triangle.c) : nil
        }
    }

    private func isNearVertex(of triangle: Triangle, _ p: SIMD2<Double>) -> Bool {
        triangle.vertices.contains { vertex in
            vertex < geometry.points.count
                && lengthSquared(geometry.points[vertex] - p) <= duplicateDistanceSquared
        }
    }

    private mutating func add(_ triangle: Triangle) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            triangles[slot] = triangle
            alive[slot] = true
        } else {
            slot = triangles.count
            triangles.append(triangle)
            alive.append(true)
        }
        for (u, v) in triangle.edges { edgeOwner[edgeKey(u, v)] = slot }
    }

    private mutating func remove(_ slot: Int) {
        for (u, v) in triangles[slot].edges where edgeOwner[edgeKey(u, v)] == slot {
            edgeOwner[edgeKey(u, v)] = nil
        }
        alive[slot] = false
        freeSlots.append(slot)
    }
}

/// A triangle of vertex ids, counter-clockwise.
private struct Triangle {
    let a: Int, b: Int, c: Int
    init(_ a: Int, _ b: Int, _ c: Int) { (self.a, self.b, self.c) = (a, b, c) }
    var vertices: [Int] { [a, b, c] }
    var edges: [(Int, Int)] { [(a, b), (b, c), (c, a)] }
}

private func edgeKey(_ u: Int, _ v: Int) -> UInt64 { UInt64(u) << 32 | UInt64(v) }

private func lengthSquared(_ v: SIMD2<Double>) -> Double { v.x * v.x + v.y * v.y }

private func cross(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { a.x * b.y - a.y * b.x }

/// The points plus three points at infinity (vertex ids n, n + 1, n + 2 for n points), with
/// orientation and in-circle tests taken in the limit of the infinite vertices at M·d_k,
/// M → ∞ (only the sign of the leading term in M matters).
private struct SymbolicGeometry {
    let points: [SIMD2<Double>]
    /// Directions of the points at infinity, counter-clockwise and 120° apart. The start angle
    /// is arbitrary but not a "round" one, so no edge of grid-like input is parallel to a
    /// direction or perpendicular to a sum of two (which would make the limit tests tie).
    let directions: [SIMD2<Double>] = (0..<3).map { k in
        let angle = 1.234_567 + Double(k) * 2 * Double.pi / 3
        return SIMD2(cos(angle), sin(angle))
    }

    /// Sign of the orientation of (u, v, p): positive if counter-clockwise, zero if collinear.
    /// With one infinite vertex, (u, M·d, p) ≈ M·(d × (p − u)); with two, M²·(d_u × d_v).
    func orientation(_ u: Int, _ v: Int, _ p: SIMD2<Double>) -> Double {
        let n = points.count
        switch (u < n, v < n) {
        case (true, true): return cross(points[v] - points[u], p - points[u])
        case (true, false): return cross(directions[v - n], p - points[u])
        case (false, true): return cross(p - points[v], directions[u - n])
        case (false, false): return cross(directions[u - n], directions[v - n])
        }
    }

    /// Whether `p` is inside or on the boundary of the counter-clockwise `triangle`.
    func contains(_ triangle: Triangle, _ p: SIMD2<Double>) -> Bool {
        triangle.edges.allSatisfy { orientation($0.0, $0.1, p) >= 0 }
    }

    /// Whether `p` is strictly inside the circumcircle of the counter-clockwise `triangle`:
    /// - no infinite vertex: the usual determinant, positive inside;
    /// - one, (a, b, ∞): the circle becomes the open half-plane left of a → b (the triangle's
    ///   side); on the line itself, the chord ab is inside and the rest outside;
    /// - two, (a, ∞_j, ∞_k): the circle's centre runs off along d_j + d_k, so the circle becomes
    ///   the half-plane (p − a)·(d_j + d_k) > 0;
    /// - three (the initial super-triangle): everything is inside.
    func inCircumcircle(_ triangle: Triangle, _ p: SIMD2<Double>) -> Bool {
        let n = points.count
        let (a, b, c) = (triangle.a, triangle.b, triangle.c)
        switch (a >= n ? 1 : 0) + (b >= n ? 1 : 0) + (c >= n ? 1 : 0) {
        case 0:
            return inCircle(points[a], points[b], points[c], p) > 0
        case 1:
            // Rotate (keeping the order) so the infinite vertex is last.
            let (u, v) = a >= n ? (b, c) : b >= n ? (c, a) : (a, b)
            let side = cross(points[v] - points[u], p - points[u])
            if side != 0 { return side > 0 }
            let along = points[v] - points[u]
            let s = ((p - points[u]) * along).sum()
            return s > 0 && s < lengthSquared(along)
        case 2:
            let finite = a < n ? a : b < n ? b : c
            let infinite = triangle.vertices.filter { $0 >= n }
            let sum = directions[infinite[0] - n] + directions[infinite[1] - n]
            return ((p - points[finite]) * sum).sum() > 0
        default:
            return true
        }
    }

    /// The in-circle determinant of counter-clockwise (a, b, c) and d: positive if d is inside
    /// the circumcircle, zero if on it (computed relative to d for accuracy).
    private func inCircle(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>, _ d: SIMD2<Double>) -> Double {
        let (ad, bd, cd) = (a - d, b - d, c - d)
        return lengthSquared(ad) * cross(bd, cd) + lengthSquared(bd) * cross(cd, ad) + lengthSquared(cd) * cross(ad, bd)
    }
}
