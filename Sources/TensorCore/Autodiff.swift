// Reverse-mode automatic differentiation.
//
// Every differentiable primitive builds its result with `Tensor.record(...)`, passing the
// forward value and a pullback right beside it: the pullback maps the gradient of the result
// to the gradients of the inputs (`nil` for an input that takes none). Composite operations
// (softmax, norms, losses, ...) need no pullback of their own: they are built from primitives.
//
// `backward()` orders the graph topologically, seeds the output's gradient with ones,
// runs the pullbacks in reverse order with recording switched off, accumulates gradients,
// checks each gradient's shape against its tensor, stores leaf gradients in `grad`, and
// frees the graph so its intermediate values can be released.

/// How a tensor was computed: its inputs and the pullback of the op that made it.
struct GraphNode {
    let inputs: [Tensor]
    let pullback: (Tensor) -> [Tensor?]
    let opName: String
    /// The inputs' and the result's `version` when the operation ran (result last).
    let versions: [Int]

    /// Whether an input's or the result's values changed since the operation was recorded.
    func isStale(result: Tensor) -> Bool {
        // Compared in place: this runs for every node of every backward pass.
        for (index, input) in inputs.enumerated() where input.version != versions[index] { return true }
        return result.version != versions[inputs.count]
    }
}

/// Whether operations record a graph; switched off inside `withoutGradients`.
public enum GradientMode {
    @TaskLocal static var isEnabled = true

    /// True when operations currently record graphs for differentiation.
    public static var isRecording: Bool { isEnabled }
}

/// Runs `body` without recording any graph: for inference, metrics and optimizer updates.
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Makes the result of a differentiable op. A graph node is attached only when gradients
    /// are being recorded and some input requires them.
    public static func record(
        _ opName: String, shape: [Int], scalars: [Float], inputs: [Tensor],
        pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        let result = Tensor(shape: shape, scalars: scalars)
        if GradientMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            result.requiresGrad = true
            result.node = GraphNode(inputs: inputs, pullback: pullback, opName: opName,
                                    versions: inputs.map(\.version) + [result.version])
        }
        return result
    }

    /// A copy that shares values but not history: gradients stop here.
    public func detached() -> Tensor {
        Tensor(shape: shape, scalars: scalars)
    }

    /// Whether this tensor was produced by a recorded operation (not a leaf).
    public var hasGradientHistory: Bool { node != nil }

    /// Whether any operation recorded in this tensor's history saw values that have changed
    /// since (then `backward()` stops with an error rather than return wrong gradients).
    public var hasChangedRecordedValues: Bool { topologicalOrder().contains { $0.node?.isStale(result: $0) ?? false } }

    /// Computes gradients of this tensor with respect to every leaf that requires them.
    ///
    /// - Parameter seed: the gradient of the final objective with respect to this tensor;
    ///   defaults to ones (so a scalar loss gets d loss / d loss = 1).
    /// Leaf gradients accumulate into `grad` across calls (call `zeroGrad` between steps).
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward: tensor of shape \(shape) does not require gradients")
        let seedGradient = seed ?? Tensor.ones(shape)
        precondition(seedGradient.shape == shape, "backward: seed shape \(seedGradient.shape) != \(shape)")

        let order = topologicalOrder()
        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seedGradient]
        withoutGradients {
            for tensor in order.reversed() {
                guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let node = tensor.node else {
                    tensor.accumulateGrad(gradient)
                    continue
                }
                precondition(!node.isStale(result: tensor),
                             "backward: the values of \(node.opName)'s input or result (shapes \(node.inputs.map(\.shape)) → \(tensor.shape)) "
                                 + "were changed after the operation was recorded, so its gradient would be wrong; change a copy "
                                 + "(detached()) or record the operation after the change")
                let inputGradients = node.pullback(gradient)
                precondition(
                    inputGradients.count == node.inputs.count,
                    "\(node.opName) pullback returned \(inputGradients.count) gradients for \(node.inputs.count) inputs")
                for (input, inputGradient) in zip(node.inputs, inputGradients) {
                    guard input.requiresGrad, let inputGradient else { continue }
                    precondition(
                        inputGradient.shape == input.shape,
                        "\(node.opName) pullback: gradient shape \(inputGradient.shape) != input shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    if let existing = gradients[key] {
                        gradients[key] = existing.adding(inputGradient)
                    } else {
                        gradients[key] = inputGradient
                    }
                }
            }
        }
        // Free the graph: intermediate results drop their inputs and closures.
        for tensor in order { tensor.node = nil }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    private func accumulateGrad(_ gradient: Tensor) {
        if let existing = grad {
            grad = existing.adding(gradient)
        } else {
            grad = Tensor(shape: gradient.shape, scalars: gradient.scalars)
        }
    }

    /// The sum of two gradients of the same shape, as a new tensor: a pullback may hand the
    /// same gradient object to several inputs, so none is ever modified in place.
    fileprivate func adding(_ other: Tensor) -> Tensor {
        var sum = scalars  // copied on first write, since `self` still holds the buffer
        sum.withUnsafeMutableBufferPointer { destination in
            other.scalars.withUnsafeBufferPointer { source in
                for i in 0..<destination.count { destination[i] += source[i] }
            }
        }
        return Tensor(shape: shape, scalars: sum)
    }

    /// Tensors reachable from this one, each after all of its inputs (iterative DFS, so deep
    /// graphs do not overflow the stack).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(tensor: Tensor, expanded: Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded {
                order.append(tensor)
                continue
            }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }
        return order
    }
}
