import XCTest
import TensorCore
@testable import NeuralNetwork

// Schedules' values at chosen steps (the formulas evaluated by hand in the comments), and the
// Keras-semantics sequences of ReduceLearningRateOnPlateau and EarlyStopping, including exact
// resumption from their saved state.

private func assertRates(_ schedule: LearningRateSchedule, _ expected: [Int: Float], accuracy: Float = 1e-9,
                         file: StaticString = #filePath, line: UInt = #line) {
    for (step, rate) in expected.sorted(by: { $0.key < $1.key }) {
        XCTAssertEqual(schedule.learningRate(at: step), rate, accuracy: accuracy, "step \(step)", file: file, line: line)
    }
}

final class ScheduleTests: XCTestCase {
    func testConstant() {
        assertRates(ConstantSchedule(learningRate: 0.01), [0: 0.01, 1: 0.01, 1000: 0.01])
    }

    // η₀ = 0.1, k = 3, γ = 0.5: 0.1 for t = 0…2, 0.05 for 3…5, 0.025 at 6, 0.1·0.5³ = 0.0125 at 10.
    func testStepDecay() {
        let schedule = StepDecaySchedule(initialLearningRate: 0.1, stepSize: 3, gamma: 0.5)
        assertRates(schedule, [0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025, 10: 0.0125])
    }

    // η₀ = 0.1, r = 0.5, T = 2: 0.1·0.5^(t/2) → t = 1: 0.0707106781, t = 2: 0.05, t = 3: 0.0353553391;
    // staircase 0.1·0.5^⌊t/2⌋ → t = 1: 0.1, t = 3: 0.05. T = 1 is PyTorch's ExponentialLR: 0.1·0.5³ at 3.
    func testExponentialDecay() {
        let smooth = ExponentialDecaySchedule(initialLearningRate: 0.1, decayRate: 0.5, decaySteps: 2)
        assertRates(smooth, [0: 0.1, 1: 0.0707106781, 2: 0.05, 3: 0.0353553391])
        let staircase = ExponentialDecaySchedule(initialLearningRate: 0.1, decayRate: 0.5, decaySteps: 2, staircase: true)
        assertRates(staircase, [1: 0.1, 2: 0.05, 3: 0.05, 4: 0.025])
        assertRates(ExponentialDecaySchedule(initialLearningRate: 0.1, decayRate: 0.5), [3: 0.0125])
    }

    // η_peak = 1e-3, W = 10, S = 110, η_min = 1e-5:
    //   t = 0: 0;  t = 5: 1e-3·5/10 = 5e-4;  t = 10: 1e-3 (start of the decay, cos 0 = 1)
    //   t = 35: progress 25/100 = ¼ → 1e-5 + 9.9e-4·½(1 + cos(π/4)) = 1e-5 + 9.9e-4·0.8535533906 = 8.550178567e-4
    //   t = 60: progress ½ → 1e-5 + 9.9e-4·½ = 5.05e-4
    //   t = 109: progress 0.99 → 1e-5 + 9.9e-4·½(1 + cos(0.99π)) = 1e-5 + 9.9e-4·2.467198e-4 = 1.0244252619e-5
    //   t = 110 and beyond: 1e-5
    // With η_init = 1e-4: t = 5 → 1e-4 + 9e-4·½ = 5.5e-4.
    func testCosineWithWarmup() {
        let schedule = CosineWarmupSchedule(peakLearningRate: 1e-3, warmupSteps: 10, totalSteps: 110, minimumLearningRate: 1e-5)
        assertRates(schedule, [0: 0, 5: 5e-4, 10: 1e-3, 35: 8.550178567e-4, 60: 5.05e-4, 109: 1.0244252619e-5, 110: 1e-5, 500: 1e-5],
                    accuracy: 1e-10)
        let fromNonzero = CosineWarmupSchedule(peakLearningRate: 1e-3, warmupSteps: 10, totalSteps: 110,
                                               minimumLearningRate: 1e-5, initialLearningRate: 1e-4)
        assertRates(fromNonzero, [0: 1e-4, 5: 5.5e-4], accuracy: 1e-10)
        let noWarmup = CosineWarmupSchedule(peakLearningRate: 1, warmupSteps: 0, totalSteps: 4)
        assertRates(noWarmup, [0: 1, 2: 0.5, 4: 0])
    }

    // factor ½, patience 2, δ = 1e-4, η_min = 0.2 (Keras semantics, see Schedule+Plateau.swift):
    //   e0 1.0      first metric: best = 1.0                  η 1
    //   e1 0.99995  not below 1.0 − 1e-4: wait 1              η 1
    //   e2 0.99995  wait 2 ≥ 2: η = 0.5, wait 0              η 0.5
    //   e3 0.5      best = 0.5                                η 0.5
    //   e4, e5 0.6  wait 1, 2 → η = 0.25                      η 0.5, 0.25
    //   e6, e7 0.6  wait 1, 2 → η = max(0.125, 0.2) = 0.2     η 0.25, 0.2
    //   e8, e9, e10 at η_min: no reduction, wait keeps growing to 3
    func testReduceOnPlateauSequence() {
        var plateau = ReduceLearningRateOnPlateau(initialLearningRate: 1, factor: 0.5, patience: 2, minimumLearningRate: 0.2)
        let metrics: [Float] = [1.0, 0.99995, 0.99995, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
        let rates = metrics.map { plateau.update($0) }
        XCTAssertEqual(rates, [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2])
        XCTAssertEqual(plateau.wait, 3)
        XCTAssertEqual(plateau.best, 0.5)

        // Sets the optimizer's base rate.
        let optimizer = Optimizer(SGD(), learningRate: 1)
        var second = ReduceLearningRateOnPlateau(initialLearningRate: 1, factor: 0.5, patience: 0)
        second.update(1, optimizer: optimizer)
        second.update(1, optimizer: optimizer)
        XCTAssertEqual(optimizer.learningRate, 0.5)
    }

    // patience 1, cooldown 2, factor ½, a constant metric:
    //   e0 best; e1 wait 1 → η ½, cooldown 2; e2 cooldown → 1 (no counting); e3 cooldown → 0, then
    //   wait 1 → η ¼, cooldown 2; e4 cooldown → 1; e5 → 0, wait 1 → η ⅛.
    func testReduceOnPlateauCooldown() {
        var plateau = ReduceLearningRateOnPlateau(initialLearningRate: 1, factor: 0.5, patience: 1, cooldown: 2)
        XCTAssertEqual((0..<6).map { _ in plateau.update(1) }, [1, 0.5, 0.5, 0.25, 0.25, 0.125])
    }

    // Maximising: 0.6 > 0.5 + 1e-4 improves; then two flat epochs reduce η by 10 (Keras's factor).
    func testReduceOnPlateauMaximize() {
        var plateau = ReduceLearningRateOnPlateau(initialLearningRate: 1, mode: .maximize, patience: 2)
        let rates = [Float(0.5), 0.6, 0.6, 0.6].map { plateau.update($0) }
        XCTAssertEqual(rates[0...2], [1, 1, 1])
        XCTAssertEqual(rates[3], 0.1, accuracy: 1e-7)
    }

    // Saving after four epochs and restoring into a fresh instance gives the same future.
    func testReduceOnPlateauResumesExactly() throws {
        let metrics: [Float] = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85]
        var uninterrupted = ReduceLearningRateOnPlateau(initialLearningRate: 0.3, factor: 0.5, patience: 2, cooldown: 1)
        let expected = metrics.map { uninterrupted.update($0) }

        var first = ReduceLearningRateOnPlateau(initialLearningRate: 0.3, factor: 0.5, patience: 2, cooldown: 1)
        var rates = metrics.prefix(4).map { first.update($0) }
        let saved = first.stateValues
        var resumed = ReduceLearningRateOnPlateau(initialLearningRate: 0.3, factor: 0.5, patience: 2, cooldown: 1)
        try resumed.restoreState(from: saved)
        rates += metrics.dropFirst(4).map { resumed.update($0) }
        XCTAssertEqual(rates, expected)
        XCTAssertEqual(resumed.stateValues, uninterrupted.stateValues)

        var fresh = ReduceLearningRateOnPlateau(initialLearningRate: 0.3)
        XCTAssertEqual(fresh.stateValues["best"], .infinity)
        XCTAssertThrowsError(try fresh.restoreState(from: ["learningRate": 0.1, "best": 1, "wait": 0]))
        XCTAssertThrowsError(try fresh.restoreState(from: ["learningRate": 0.1, "best": 1, "wait": -1, "cooldownCounter": 0]))
    }

    // patience 2, δ = 0.01, restoring the best; the parameter holds the epoch index:
    //   e0 1.0    first: best, snapshot (p = 0)
    //   e1 0.8    0.8 < 1.0 − 0.01: best, snapshot (p = 1)
    //   e2 0.795  not below 0.79: wait 1
    //   e3 0.9    wait 2 ≥ 2: stop at epoch 3; restoring gives p = 1
    func testEarlyStoppingSequenceAndRestore() {
        var stopping = EarlyStopping(patience: 2, minDelta: 0.01, restoresBestParameters: true)
        let parameter = Tensor([0, 0], requiresGrad: true)
        var decisions: [Bool] = []
        for (epoch, metric) in [Float(1.0), 0.8, 0.795, 0.9].enumerated() {
            parameter.scalars = [Float(epoch), -Float(epoch)]
            decisions.append(stopping.update(metric, parameters: [("p", parameter)]))
        }
        XCTAssertEqual(decisions, [false, false, false, true])
        XCTAssertEqual(stopping.stoppedEpoch, 3)
        XCTAssertEqual(stopping.bestEpoch, 1)
        XCTAssertEqual(stopping.best, Double(Float(0.8)))
        XCTAssertTrue(stopping.shouldStop)
        XCTAssertTrue(stopping.restoreBestParameters(into: [("p", parameter)]))
        XCTAssertEqual(parameter.scalars, [1, -1])

        // Without restoring, there is no snapshot.
        var plain = EarlyStopping(patience: 1)
        plain.update(1, parameters: [("p", parameter)])
        XCTAssertFalse(plain.restoreBestParameters(into: [("p", parameter)]))
    }

    // patience 0 never stops after the first epoch (Keras's `epoch > 0`), but does at the
    // first epoch without improvement. Maximising: a rise must beat best + δ.
    func testEarlyStoppingEdges() {
        var impatient = EarlyStopping(patience: 0)
        XCTAssertEqual([Float(1), 0.5, 0.5].map { impatient.update($0) }, [false, false, true])

        var maximizing = EarlyStopping(mode: .maximize, patience: 1, minDelta: 0.1)
        XCTAssertEqual([Float(20), 30, 30.05].map { maximizing.update($0) }, [false, false, true])
        XCTAssertEqual(maximizing.best, 30)
    }

    func testEarlyStoppingResumesExactly() throws {
        let metrics: [Float] = [3, 2, 2.5, 1.5, 1.6, 1.7, 1.8]
        var uninterrupted = EarlyStopping(patience: 3, minDelta: 0.05)
        let expected = metrics.map { uninterrupted.update($0) }
        XCTAssertEqual(expected, [false, false, false, false, false, false, true])

        let parameter = Tensor([7], requiresGrad: true)
        var first = EarlyStopping(patience: 3, minDelta: 0.05, restoresBestParameters: true)
        var decisions = metrics.prefix(4).map { first.update($0, parameters: [("w", parameter)]) }
        let savedValues = first.stateValues, savedTensors = first.bestParameterTensors()
        XCTAssertEqual(savedTensors.map { $0.path }, ["w"])

        var resumed = EarlyStopping(patience: 3, minDelta: 0.05, restoresBestParameters: true)
        try resumed.restoreState(from: savedValues)
        resumed.loadBestParameters(savedTensors)
        parameter.scalars = [-1]
        decisions += metrics.dropFirst(4).map { resumed.update($0, parameters: [("w", parameter)]) }
        XCTAssertEqual(decisions, expected)
        XCTAssertEqual(resumed.stoppedEpoch, 6)
        XCTAssertEqual(resumed.bestEpoch, 3)
        resumed.restoreBestParameters(into: [("w", parameter)])
        XCTAssertEqual(parameter.scalars, [7])
        XCTAssertEqual(resumed.stateValues, uninterrupted.stateValues)
        XCTAssertThrowsError(try resumed.restoreState(from: ["best": 1]))
    }
}
