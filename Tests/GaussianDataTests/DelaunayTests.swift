import XCTest
import TensorCore
@testable import GaussianData

/// Properties of `DelaunayTriangulation`: empty circumcircles, Euler's triangle count
/// (2n − 2 − h for n points with h on the convex hull boundary), counter-clockwise triangles,
/// every point used, and the small cases.
final class DelaunayTests: XCTestCase {
    func testSquareCornersGiveTwoTriangles() {
        let square: [SIMD2<Double>] = [[0, 0], [1, 0], [1, 1], [0, 1]]
        let triangulation = DelaunayTriangulation(points: square)
        XCTAssertEqual(triangulation.triangles.count, 2)
        XCTAssertEqual(triangulation.edges.count, 5)
        assertValid(triangulation)
    }

    func testTooFewOrCollinearPointsGiveNoTriangles() {
        XCTAssertTrue(DelaunayTriangulation(points: []).triangles.isEmpty)
        XCTAssertTrue(DelaunayTriangulation(points: [[0, 0], [1, 2]]).triangles.isEmpty)
        XCTAssertTrue(DelaunayTriangulation(points: [[0, 0], [1, 1], [2, 2], [3, 3]]).triangles.isEmpty)
        XCTAssertEqual(DelaunayTriangulation(points: [[0, 0], [1, 0], [0, 1]]).triangles.count, 1)
    }

    func testRandomPointsAreDelaunay() {
        for (seed, count) in [(1, 10), (2, 60), (3, 200)] as [(UInt64, Int)] {
            var generator = RandomGenerator(seed: seed)
            let points = (0..<count).map { _ in SIMD2(uniform(&generator) * 10 - 3, uniform(&generator) * 4 + 1) }
            let triangulation = DelaunayTriangulation(points: points)
            XCTAssertEqual(triangulation.skippedPoints, [], "seed \(seed)")
            XCTAssertEqual(triangulation.triangles.count, 2 * count - 2 - convexHullBoundaryCount(points), "seed \(seed)")
            assertValid(triangulation)
        }
    }

    /// Tight clusters (badly shaped triangles) and a grid (collinear hull points and
    /// cocircular quadruples, so 2n − 2 − h counts every boundary point).
    func testClustersAndGrid() {
        var generator = RandomGenerator(seed: 9)
        var clustered: [SIMD2<Double>] = []
        for centre in [SIMD2<Double>(0, 0), SIMD2(5, 1), SIMD2(2, 4)] {
            for _ in 0..<30 { clustered.append(centre + 1e-3 * SIMD2(normal(&generator), normal(&generator))) }
        }
        let clusteredTriangulation = DelaunayTriangulation(points: clustered)
        XCTAssertEqual(clusteredTriangulation.triangles.count, 2 * clustered.count - 2 - convexHullBoundaryCount(clustered))
        assertValid(clusteredTriangulation)

        let grid = (0..<5).flatMap { x in (0..<4).map { y in SIMD2(Double(x) * 0.5, Double(y) * 0.5) } }
        let gridTriangulation = DelaunayTriangulation(points: grid)
        XCTAssertEqual(gridTriangulation.triangles.count, 2 * 4 * 3)
        assertValid(gridTriangulation)
    }

    func testDuplicatePointsAreSkipped() {
        var generator = RandomGenerator(seed: 4)
        let unique = (0..<30).map { _ in SIMD2(uniform(&generator), uniform(&generator)) }
        let points = unique + [unique[3], unique[17], unique[3] + SIMD2(1e-14, 0)]
        let triangulation = DelaunayTriangulation(points: points)
        XCTAssertEqual(triangulation.skippedPoints, [30, 31, 32])
        XCTAssertEqual(triangulation.triangles.count, DelaunayTriangulation(points: unique).triangles.count)
        XCTAssertEqual(triangulation.triangles.count, 2 * 30 - 2 - convexHullBoundaryCount(unique))
    }

    func testDeterministic() {
        var generator = RandomGenerator(seed: 5)
        let points = (0..<80).map { _ in SIMD2(uniform(&generator), uniform(&generator)) }
        let first = DelaunayTriangulation(points: points).triangles
        let second = DelaunayTriangulation(points: points).triangles
        XCTAssertTrue(first.elementsEqual(second) { $0 == $1 })
    }

    // MARK: Helpers

    /// Every triangle counter-clockwise with positive area, no point strictly inside any
    /// circumcircle (relative tolerance 1e-9), and every point not skipped used by a triangle.
    private func assertValid(_ triangulation: DelaunayTriangulation, file: StaticString = #filePath, line: UInt = #line) {
        let points = triangulation.points
        var used = Set<Int>()
        for (a, b, c) in triangulation.triangles {
            used.formUnion([a, b, c])
            let (pa, pb, pc) = (points[a], points[b], points[c])
            let doubleArea = (pb.x - pa.x) * (pc.y - pa.y) - (pb.y - pa.y) * (pc.x - pa.x)
            XCTAssertGreaterThan(doubleArea, 0, "triangle (\(a), \(b), \(c)) is not counter-clockwise", file: file, line: line)
            // Circumcentre from the perpendicular bisectors, relative to pa.
            let (b1, c1) = (pb - pa, pc - pa)
            let d = 2 * (b1.x * c1.y - b1.y * c1.x)
            let lengthB = b1.x * b1.x + b1.y * b1.y, lengthC = c1.x * c1.x + c1.y * c1.y
            let centre = pa + SIMD2((c1.y * lengthB - b1.y * lengthC) / d, (b1.x * lengthC - c1.x * lengthB) / d)
            let radiusSquared = squaredDistance(centre, pa)
            for (index, point) in points.enumerated() where ![a, b, c].contains(index) {
                if squaredDistance(centre, point) < radiusSquared * (1 - 1e-9) {
                    XCTFail("point \(index) inside the circumcircle of (\(a), \(b), \(c))", file: file, line: line)
                    return
                }
            }
        }
        let expected = Set(points.indices).subtracting(triangulation.skippedPoints)
        if !triangulation.triangles.isEmpty {
            XCTAssertEqual(used, expected, "every point is a vertex", file: file, line: line)
        }
    }

    private func squaredDistance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        let d = a - b
        return d.x * d.x + d.y * d.y
    }

    /// Number of input points on the convex hull's boundary, collinear ones included
    /// (Andrew's monotone chain keeping collinear points; assumes distinct points).
    private func convexHullBoundaryCount(_ points: [SIMD2<Double>]) -> Int {
        let sorted = points.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        func cross(_ o: SIMD2<Double>, _ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
            (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
        }
        func chain(_ ordered: [SIMD2<Double>]) -> [SIMD2<Double>] {
            var hull: [SIMD2<Double>] = []
            for point in ordered {
                while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], point) < 0 { hull.removeLast() }
                hull.append(point)
            }
            return hull
        }
        let lower = chain(sorted), upper = chain(sorted.reversed())
        return lower.count + upper.count - 2
    }

    private func uniform(_ generator: inout RandomGenerator) -> Double {
        Double(generator.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    private func normal(_ generator: inout RandomGenerator) -> Double { Double(generator.nextNormal()) }
}
