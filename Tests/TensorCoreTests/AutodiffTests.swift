import XCTest
@testable import TensorCore

// The engine's semantics: analytic gradients, accumulation, graph freeing, no-grad scopes,
// detaching, and that the gradient checker catches a wrong pullback.

final class AutodiffTests: XCTestCase {
    /// f(x, y) = Σ (x·y + x²): ∂f/∂x = y + 2x, ∂f/∂y = x.
    func testAnalyticGradients() {
        let x = Tensor([1, 2, 3], requiresGrad: true), y = Tensor([4, 5, 6], requiresGrad: true)
        (x * y + x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [6, 9, 12])
        XCTAssertEqual(y.grad?.scalars, [1, 2, 3])
    }

    /// A tensor used twice gets the sum of both paths; a second backward accumulates.
    func testGradientsAccumulate() {
        let x = Tensor([2], requiresGrad: true)
        let y = x * 3
        (y + y).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [6])
        (x * 1).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [7])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    /// Broadcast operands receive gradients of their own shape.
    func testBroadcastGradientShapes() {
        let a = Tensor.ones([2, 3], requiresGrad: true), b = Tensor.ones([3], requiresGrad: true)
        let s = Tensor(2, requiresGrad: true)
        (a * b * s).sum().backward()
        XCTAssertEqual(b.grad?.shape, [3])
        XCTAssertEqual(b.grad?.scalars, [4, 4, 4])
        XCTAssertEqual(s.grad?.shape, [])
        XCTAssertEqual(s.grad?.item, 6)
    }

    /// A recorded value changed before backward would silently change the gradient (d(x·y)/dx
    /// reads y): the graph notices, and backward refuses it.
    func testChangingARecordedValueIsDetected() {
        let x = Tensor([1, 2], requiresGrad: true), y = Tensor([3, 4])
        let product = (x * y).sum()
        XCTAssertFalse(product.hasChangedRecordedValues)
        let before = y.version
        y.scalars[0] = 10
        XCTAssertEqual(y.version, before + 1, "every change bumps the version")
        XCTAssertTrue(product.hasChangedRecordedValues)
        // Unchanged graphs run as before.
        let fresh = (x * y).sum()
        XCTAssertFalse(fresh.hasChangedRecordedValues)
        fresh.backward()
        XCTAssertEqual(x.grad?.scalars, [10, 4])
        // A change to an intermediate result is seen too.
        let z = Tensor([1, 2], requiresGrad: true)
        let exponential = z.exp()
        let total = exponential.sum()
        exponential.scalars[1] = 0
        XCTAssertTrue(total.hasChangedRecordedValues)
    }

    func testGraphIsFreedAfterBackward() {
        let x = Tensor([1, 2], requiresGrad: true)
        let hidden = x.exp()
        let loss = hidden.sum()
        XCTAssertTrue(loss.hasGradientHistory)
        loss.backward()
        XCTAssertFalse(loss.hasGradientHistory)
        XCTAssertFalse(hidden.hasGradientHistory)
    }

    func testNoGradScopeAndDetach() {
        let x = Tensor([1, 2], requiresGrad: true)
        let inside = withoutGradients { x * 2 }
        XCTAssertFalse(inside.requiresGrad)
        XCTAssertFalse(GradientMode.isRecording == false)
        let detached = (x * 2).detached()
        XCTAssertFalse(detached.requiresGrad)
        let y = x * 2 + detached
        y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2, 2])
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Tensor([1], requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1 }
        y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1])
    }

    /// A deliberately wrong pullback (d(x³)/dx taken as 2x) must be caught by the checker.
    func testCheckerCatchesAWrongPullback() {
        func wrongCube(_ x: Tensor) -> Tensor {
            let input = x
            return Tensor.record("wrongCube", shape: x.shape, scalars: x.scalars.map { $0 * $0 * $0 }, inputs: [x]) { g in
                [g * input * 2]
            }
        }
        let x = Tensor([0.5, 1.5, -2], requiresGrad: true)
        let report = GradientCheck.run([x]) { wrongCube($0[0]) }
        XCTAssertGreaterThan(report.maximumError, 0.1, "\(report)")
        let right = GradientCheck.run([x]) { $0[0].pow(3) }
        XCTAssertLessThan(right.maximumError, 1e-2, "\(right)")
    }
}
