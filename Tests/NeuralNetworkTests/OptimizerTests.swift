import XCTest
import TensorCore
@testable import NeuralNetwork

// Optimizers against hand-computed values (the arithmetic is in the comments, done in double;
// float32 results must agree to 1e-6), gradient clipping, per-group learning rates, skipped
// parameters, state save/restore, and an end-to-end linear regression trained with Adam.

/// Runs `optimizer` for one step per entry of `gradients` on a single parameter "p" that starts
/// at `initial`, with each step's gradient set by hand; returns the parameter after each step.
private func trajectory(_ optimizer: Optimizer, initial: [Float], gradients: [[Float]]) -> [[Float]] {
    let parameter = Tensor(initial, requiresGrad: true)
    return gradients.map { gradient in
        parameter.grad = Tensor(gradient)
        optimizer.update([("p", parameter)])
        return parameter.scalars
    }
}

private func assertClose(_ actual: [Float], _ expected: [Float], accuracy: Float = 1e-6,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(a, e, accuracy: accuracy, "element \(i): \(actual) vs \(expected)", file: file, line: line)
    }
}

final class OptimizerTests: XCTestCase {
    // Adam, η = 0.1, β1 = 0.9, β2 = 0.999, θ₀ = [1, −0.5]. Element 1 has tiny gradients so that
    // ε matters. Gradients: g₁ = [0.5, 2e-6], g₂ = [−0.25, 1e-6], g₃ = [0.125, −3e-6].
    // m̂ = m/(1 − 0.9ᵗ), v̂ = v/(1 − 0.999ᵗ), θ −= η·m̂/(√v̂ + ε).
    //
    // t = 1: m = 0.1·g₁ = [0.05, 2e-7], v = 0.001·g₁² = [2.5e-4, 4e-15], m̂ = g₁, √v̂ = |g₁|
    //   θ₀ −= 0.1·0.5/(0.5 + ε)          → 0.9 (ε negligible)
    //   θ₁ −= 0.1·2e-6/(2e-6 + ε):  ε = 1e-8: 0.0995024876 → −0.5995024876
    //                               ε = 1e-7: 0.0952380952 → −0.5952380952
    // t = 2: m = 0.9·m + 0.1·g₂ = [0.02, 2.8e-7], v = 0.999·v + 0.001·g₂² = [3.1225e-4, 4.996e-15]
    //   m̂ = m/0.19 = [0.1052631579, 1.473684211e-6], √v̂ = √(v/0.001999) = [0.3952253807, 1.580901523e-6]
    //   step₀ = 0.1·0.1052631579/0.3952253807 = 0.0266337033 → 0.8733662967
    //   step₁ (ε = 1e-8) = 0.1·1.473684211e-6/1.590901523e-6 = 0.0926320196 → −0.6921345072
    //   step₁ (ε = 1e-7) = 0.1·1.473684211e-6/1.680901523e-6 = 0.0876722515 → −0.6829103467
    // t = 3: m = [0.0305, −4.8e-8], v = [3.2756275e-4, 1.3991004e-14]
    //   m̂ = m/0.271 = [0.1125461255, −1.771217712e-7], √v̂ = √(v/0.002997001) = [0.3306007316, 2.160632958e-6]
    //   step₀ = 0.0340429138 → 0.8393233829
    //   step₁ (ε = 1e-8) = 0.1·(−1.771217712e-7)/2.170632958e-6 = −0.0081599135 → −0.6839745937
    //   step₁ (ε = 1e-7) = 0.1·(−1.771217712e-7)/2.260632958e-6 = −0.0078350522 → −0.6750752945
    private let adamGradients: [[Float]] = [[0.5, 2e-6], [-0.25, 1e-6], [0.125, -3e-6]]

    func testAdamFirstThreeStepsPyTorchEpsilon() {
        let optimizer = Optimizer(Adam(epsilon: Adam.pytorchEpsilon), learningRate: 0.1)
        let steps = trajectory(optimizer, initial: [1, -0.5], gradients: adamGradients)
        assertClose(steps[0], [0.9, -0.5995024876])
        assertClose(steps[1], [0.8733662967, -0.6921345072])
        assertClose(steps[2], [0.8393233829, -0.6839745937])
        XCTAssertEqual(optimizer.step, 3)
    }

    func testAdamFirstThreeStepsKerasEpsilon() {
        let optimizer = Optimizer(Adam(epsilon: Adam.kerasEpsilon), learningRate: 0.1)
        let steps = trajectory(optimizer, initial: [1, -0.5], gradients: adamGradients)
        assertClose(steps[0], [0.9, -0.5952380952])
        assertClose(steps[1], [0.8733662967, -0.6829103467])
        assertClose(steps[2], [0.8393233829, -0.6750752945])
    }

    // AdamW, η = 0.1, λ = 0.1, ε = 1e-8, same gradients: each step first θ ← θ·(1 − 0.01), then
    // the Adam step above (the moments do not see θ, so the steps are identical):
    //   t = 1: [1·0.99 − 0.1, −0.5·0.99 − 0.0995024876] = [0.89, −0.5945024876]
    //   t = 2: [0.89·0.99 − 0.0266337033, −0.5945024876·0.99 − 0.0926320196] = [0.8544662967, −0.6811894823]
    //   t = 3: [0.8544662967·0.99 − 0.0340429138, −0.6811894823·0.99 + 0.0081599135] = [0.8118787199, −0.6662176740]
    func testAdamWDecoupledDecay() {
        let optimizer = Optimizer(AdamW(weightDecay: 0.1), learningRate: 0.1)
        let steps = trajectory(optimizer, initial: [1, -0.5], gradients: adamGradients)
        assertClose(steps[0], [0.89, -0.5945024876])
        assertClose(steps[1], [0.8544662967, -0.6811894823])
        assertClose(steps[2], [0.8118787199, -0.6662176740])

        // With zero gradients the Adam step is 0/(0 + ε) = 0: pure decay θ·(1 − ηλ)ᵗ = 2·0.99³.
        let decayOnly = Optimizer(AdamW(weightDecay: 0.1), learningRate: 0.1)
        let decayed = trajectory(decayOnly, initial: [2, -4], gradients: [[0, 0], [0, 0], [0, 0]])
        assertClose(decayed[2], [1.940598, -3.881196])
    }

    // The same three steps in float32 by PyTorch 2.13 agree bit for bit (same operation order):
    //   p = torch.tensor([1.0, -0.5], requires_grad=True); opt = torch.optim.Adam([p], lr=0.1, eps=...)
    //   for g in ([0.5, 2e-6], [-0.25, 1e-6], [0.125, -3e-6]): p.grad = torch.tensor(g); opt.step()
    // (and torch.optim.AdamW(..., weight_decay=0.1)), printed with "%.9g".
    func testAdamAndAdamWMatchPyTorchBitForBit() {
        let cases: [(UpdateRule, [[Float]])] = [
            (Adam(epsilon: Adam.pytorchEpsilon), [[0.900000036, -0.599502504], [0.873366356, -0.6921345], [0.839323461, -0.683974564]]),
            (Adam(epsilon: Adam.kerasEpsilon), [[0.900000036, -0.59523809], [0.873366356, -0.682910323], [0.839323461, -0.675075293]]),
            (AdamW(weightDecay: 0.1), [[0.890000045, -0.594502509], [0.854466379, -0.681189477], [0.8118788, -0.666217625]]),
        ]
        for (rule, expected) in cases {
            let steps = trajectory(Optimizer(rule, learningRate: 0.1), initial: [1, -0.5], gradients: adamGradients)
            XCTAssertEqual(steps, expected, "\(rule)")
        }
    }

    // SGD, η = 0.1, μ = 0.9, θ₀ = [1, −2], g₁ = [1, 0.5], g₂ = [−0.5, 1], g₃ = [0.25, 0].
    // Heavy ball: b ← μ·b + g, θ ← θ − η·b
    //   b₁ = [1, 0.5]                     θ₁ = [0.9, −2.05]
    //   b₂ = [0.9 − 0.5, 0.45 + 1] = [0.4, 1.45]        θ₂ = [0.86, −2.195]
    //   b₃ = [0.36 + 0.25, 1.305 + 0] = [0.61, 1.305]   θ₃ = [0.799, −2.3255]
    // Nesterov: same b, θ ← θ − η·(g + μ·b)
    //   d₁ = [1 + 0.9, 0.5 + 0.45] = [1.9, 0.95]          θ₁ = [0.81, −2.095]
    //   d₂ = [−0.5 + 0.36, 1 + 1.305] = [−0.14, 2.305]    θ₂ = [0.824, −2.3255]
    //   d₃ = [0.25 + 0.549, 0 + 1.1745] = [0.799, 1.1745] θ₃ = [0.7441, −2.44295]
    private let sgdGradients: [[Float]] = [[1, 0.5], [-0.5, 1], [0.25, 0]]

    func testSGDMomentum() {
        let steps = trajectory(Optimizer(SGD(momentum: 0.9), learningRate: 0.1), initial: [1, -2], gradients: sgdGradients)
        assertClose(steps[0], [0.9, -2.05])
        assertClose(steps[1], [0.86, -2.195])
        assertClose(steps[2], [0.799, -2.3255])
    }

    func testSGDNesterov() {
        let optimizer = Optimizer(SGD(momentum: 0.9, nesterov: true), learningRate: 0.1)
        let steps = trajectory(optimizer, initial: [1, -2], gradients: sgdGradients)
        assertClose(steps[0], [0.81, -2.095])
        assertClose(steps[1], [0.824, -2.3255])
        assertClose(steps[2], [0.7441, -2.44295])
    }

    // Plain SGD with L2 decay λ = 0.1: d = g + λθ = [1 + 0.1, 0.5 − 0.2] = [1.1, 0.3],
    // θ₁ = [1 − 0.11, −2 − 0.03] = [0.89, −2.03]. No momentum → no state slots.
    func testSGDWeightDecay() {
        let optimizer = Optimizer(SGD(weightDecay: 0.1), learningRate: 0.1)
        let steps = trajectory(optimizer, initial: [1, -2], gradients: [[1, 0.5]])
        assertClose(steps[0], [0.89, -2.03])
        XCTAssertEqual(optimizer.stateTensors().map { $0.path }, ["p/step"])
    }

    // ‖g‖ = √(3² + 4² + 12²) = 13; max 6.5 → c = 6.5/(13 + 1e-6), gradients halved.
    func testClipGradientsByGlobalNorm() {
        let a = Tensor([0, 0], requiresGrad: true), b = Tensor([0], requiresGrad: true)
        let withoutGradient = Tensor([5], requiresGrad: true)
        a.grad = Tensor([3, 4])
        b.grad = Tensor([12])
        let norm = clipGradientsByGlobalNorm([a, b, withoutGradient], maxNorm: 6.5)
        XCTAssertEqual(norm, 13, accuracy: 1e-6)
        assertClose(a.grad!.scalars, [1.5, 2])
        assertClose(b.grad!.scalars, [6])
        XCTAssertNil(withoutGradient.grad)

        // Below the limit: untouched, bit for bit; the norm is still reported.
        let norm2 = clipGradientsByGlobalNorm([("a", a), ("b", b)], maxNorm: 100)
        XCTAssertEqual(norm2, 6.5, accuracy: 1e-5)
        let coefficient = Float(6.5 / (13 + 1e-6) as Double)
        XCTAssertEqual(b.grad!.scalars, [12 * coefficient])
    }

    // SGD, base η = 0.1, every gradient 1 (so each parameter moves by −its rate):
    //   "encoder" prefix, scaled 0.5   → encoder.w: 0.05 (encoder2.w is not under "encoder": 0.1)
    //   predicate ".bias" suffix, 0.01 → head.bias: 0.01 (fixed, whatever the base rate)
    //   first matching group wins      → encoder.bias: 0.05
    func testPerGroupLearningRates() {
        let groups = [
            ParameterGroup(prefix: "encoder", learningRate: .scaled(0.5)),
            ParameterGroup(name: "biases", learningRate: .fixed(0.01)) { $0.hasSuffix(".bias") },
        ]
        let optimizer = Optimizer(SGD(), learningRate: 0.1, groups: groups)
        let names = ["encoder.w", "encoder.bias", "encoder2.w", "decoder.w", "head.bias"]
        let parameters = names.map { (name: $0, tensor: Tensor([1], requiresGrad: true)) }
        for (_, tensor) in parameters { tensor.grad = Tensor([1]) }
        optimizer.update(parameters)
        let moved = parameters.map { 1 - $0.tensor.scalars[0] }
        assertClose(moved, [0.05, 0.05, 0.1, 0.1, 0.01])

        optimizer.learningRate = 0.2  // as a schedule would
        XCTAssertEqual(optimizer.learningRate(forParameter: "encoder.conv.weight"), 0.1, accuracy: 1e-7)
        XCTAssertEqual(optimizer.learningRate(forParameter: "head.bias"), 0.01)
        XCTAssertEqual(optimizer.learningRate(forParameter: "decoder.w"), 0.2)
        XCTAssertEqual(optimizer.learningRate(forParameter: "encoder"), 0.1, accuracy: 1e-7)
    }

    // A parameter without a gradient is skipped: its values, state and own step count stay.
    // Adam's first step moves every element by η (m̂/√v̂ = ±1): with η = 0.1 from 1 → 0.9.
    func testParametersWithoutGradientAreSkipped() throws {
        let optimizer = Optimizer(Adam(), learningRate: 0.1)
        let a = Tensor([1], requiresGrad: true), b = Tensor([1], requiresGrad: true)
        a.grad = Tensor([1])
        b.grad = Tensor([1])
        optimizer.update([("a", a), ("b", b)])
        XCTAssertEqual(b.scalars[0], 0.9, accuracy: 1e-6)
        let afterFirst = b.scalars
        b.grad = nil
        optimizer.update([("a", a), ("b", b)])
        XCTAssertEqual(b.scalars, afterFirst, "b was updated without a gradient")
        XCTAssertLessThan(a.scalars[0], 0.85)
        let state = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.path, $0.tensor) })
        XCTAssertEqual(state["a/step"]?.scalars, [2])
        XCTAssertEqual(state["b/step"]?.scalars, [1])
        XCTAssertEqual(optimizer.step, 2)
        // First update of b: m = 0.1·1, v = 0.001·1².
        let bState = try XCTUnwrap(optimizer.state(ofParameter: "b"))
        XCTAssertEqual(Set(bState.keys), ["step", "m", "v"])
        XCTAssertEqual(bState["m"]!.scalars[0], 0.1, accuracy: 1e-7)
        XCTAssertEqual(bState["v"]!.scalars[0], 0.001, accuracy: 1e-9)
        XCTAssertNil(optimizer.state(ofParameter: "c"))
    }

    // Saving after two steps and loading into a fresh optimizer reproduces the third step bit
    // for bit; the paths are "<parameter>/step", "/m", "/v" in parameter order.
    func testStateRoundTrip() throws {
        let gradients: [[Float]] = [[0.3, -0.2, 0.1], [0.1, 0.4, -0.5], [-0.2, 0.2, 0.3]]
        let original = Optimizer(Adam(), learningRate: 0.01)
        let parameter = Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
        let bias = Tensor([0.5], requiresGrad: true)
        for gradient in gradients.prefix(2) {
            parameter.grad = Tensor(gradient)
            bias.grad = Tensor([gradient[0]])
            original.update([("layer.weight", parameter), ("layer.bias", bias)])
        }
        let saved = original.stateTensors()
        XCTAssertEqual(saved.map { $0.path }, ["layer.weight/step", "layer.weight/m", "layer.weight/v",
                                               "layer.bias/step", "layer.bias/m", "layer.bias/v"])
        let copy = Tensor(shape: [3], scalars: parameter.scalars, requiresGrad: true)
        let biasCopy = Tensor(bias.scalars, requiresGrad: true)
        let restored = Optimizer(Adam(), learningRate: 0.01)
        let modelCopy = [(name: "layer.weight", tensor: copy), (name: "layer.bias", tensor: biasCopy)]
        try restored.loadState(saved, step: original.step, parameters: modelCopy)
        XCTAssertEqual(restored.step, 2)

        for (optimizer, weight, b) in [(original, parameter, bias), (restored, copy, biasCopy)] {
            weight.grad = Tensor(gradients[2])
            b.grad = Tensor([gradients[2][0]])
            optimizer.update([("layer.weight", weight), ("layer.bias", b)])
        }
        XCTAssertEqual(copy.scalars, parameter.scalars)
        XCTAssertEqual(biasCopy.scalars, bias.scalars)
        XCTAssertEqual(restored.stateTensors().map { $0.tensor.scalars }, original.stateTensors().map { $0.tensor.scalars })
    }

    func testLoadStateRejectsMismatches() {
        let optimizer = Optimizer(Adam(), learningRate: 0.01)
        let model = [(name: "w", tensor: Tensor([1, 2], requiresGrad: true))]
        let good: [(path: String, tensor: Tensor)] = [("w/step", Tensor(1)), ("w/m", Tensor([0, 0])), ("w/v", Tensor([0, 0]))]
        XCTAssertNoThrow(try optimizer.loadState(good, step: 1, parameters: model))

        func rejects(_ tensors: [(path: String, tensor: Tensor)], _ label: String) {
            XCTAssertThrowsError(try optimizer.loadState(tensors, step: 1, parameters: model), label)
        }
        rejects([("x/step", Tensor(1))] + good, "unknown parameter")
        rejects([("w/m", Tensor([0, 0, 0])), ("w/step", Tensor(1)), ("w/v", Tensor([0, 0]))], "shape mismatch")
        rejects([("w/step", Tensor(1)), ("w/m", Tensor([0, 0]))], "missing v")
        rejects(good + [("w/momentum", Tensor([0, 0]))], "slot of another rule")
        rejects([("w/step", Tensor(1.5)), ("w/m", Tensor([0, 0])), ("w/v", Tensor([0, 0]))], "fractional step")
        rejects([("wm", Tensor([0, 0]))], "no separator")
        // The failed loads left the good state in place.
        XCTAssertEqual(optimizer.stateTensors().map { $0.path }, ["w/step", "w/m", "w/v"])
    }

    // y = X·[2, −3]ᵀ + 0.5 on 32 fixed points; a Linear-like model (weight (2, 1), bias (1))
    // trained by full-batch Adam (η = 0.05) must bring the MSE below 1e-4 within 400 steps
    // (it starts near E[(2x₁ − 3x₂ + 0.5)²] = 4/3 + 3 + 1/4 ≈ 4.6).
    func testLinearRegressionConvergesWithAdam() {
        var generator = RandomGenerator(seed: 11)
        let inputs = Tensor.uniform([32, 2], low: -1, high: 1, using: &generator)
        let targets = inputs.matmul(Tensor(shape: [2, 1], scalars: [2, -3])) + 0.5
        let store = ParameterStore(seed: 3)
        let weight = store.root.parameter("weight", shape: [2, 1], initializer: .zeros)
        let bias = store.root.parameter("bias", shape: [1], initializer: .zeros)
        let optimizer = Optimizer(Adam(), learningRate: 0.05)

        func loss() -> Tensor { meanSquaredError(inputs.matmul(weight) + bias, targets) }
        let initial = withoutGradients { loss().item }
        for _ in 0..<400 {
            store.zeroGradients()
            loss().backward()
            optimizer.update(store)
        }
        let final = withoutGradients { loss().item }
        XCTAssertGreaterThan(initial, 1)
        XCTAssertLessThan(final, 1e-4, "from \(initial)")
        assertClose(weight.scalars, [2, -3], accuracy: 1e-2)
        assertClose(bias.scalars, [0.5], accuracy: 1e-2)
    }

    /// Pruning rows of a parameter keeps exactly those rows of its state (no trace of the others)
    /// and its update count; the next step matches a parameter that only ever had those rows.
    func testKeepRowsSlicesTheState() {
        let full = Tensor(shape: [4, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8], requiresGrad: true)
        let alone = Tensor(shape: [2, 2], scalars: [3, 4, 7, 8], requiresGrad: true)
        let (fullOptimizer, aloneOptimizer) = (Optimizer(Adam(), learningRate: 0.1), Optimizer(Adam(), learningRate: 0.1))
        let fullGradients: [[Float]] = [[1, -2, 0.5, 3, -1, 0.25, 2, -0.5], [0.3, 0.1, -0.7, 0.2, 0.9, -0.4, 0.6, 0.8]]
        for gradient in fullGradients {
            full.grad = Tensor(shape: [4, 2], scalars: gradient)
            fullOptimizer.update([("p", full)])
            alone.grad = Tensor(shape: [2, 2], scalars: [gradient[2], gradient[3], gradient[6], gradient[7]])
            aloneOptimizer.update([("p", alone)])
        }
        fullOptimizer.keepRows([1, 3], ofParameter: "p")
        let kept = fullOptimizer.state(ofParameter: "p")!, reference = aloneOptimizer.state(ofParameter: "p")!
        for slot in ["step", "m", "v"] {
            XCTAssertEqual(kept[slot]!.shape, reference[slot]!.shape, slot)
            XCTAssertEqual(kept[slot]!.scalars, reference[slot]!.scalars, slot)
        }
        let pruned = Tensor(shape: [2, 2], scalars: [full[1, 0], full[1, 1], full[3, 0], full[3, 1]], requiresGrad: true)
        XCTAssertEqual(pruned.scalars, alone.scalars)
        for (parameter, optimizer) in [(pruned, fullOptimizer), (alone, aloneOptimizer)] {
            parameter.grad = Tensor(shape: [2, 2], scalars: [0.5, -0.5, 1, 2])
            optimizer.update([("p", parameter)])
        }
        XCTAssertEqual(pruned.scalars, alone.scalars)
    }
}
