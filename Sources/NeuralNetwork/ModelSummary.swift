
// A Keras-style model summary: one row per layer with its output shape and parameter count,
// where, as Keras counts them, batch-norm moving statistics are non-trainable parameters.
// Rows are recorded while the model is built, by the change in the parameter store's counts,
// so they count the tensors that exist rather than a formula.

/// Per-layer rows and totals of a model.
public struct ModelSummary: CustomStringConvertible {
    public struct Row: Equatable {
        /// The layer's dotted scope ("encoder.blocks.0.conv").
        public let name: String
        /// What the layer is ("Conv1D(8 → 32, k5)").
        public let kind: String
        /// The per-sample output shape (batch axis omitted), in SplatKit's layout (NCL).
        public let outputShape: [Int]
        /// Scalars that take gradients.
        public let trainableCount: Int
        /// Buffer scalars (batch-norm running statistics).
        public let nonTrainableCount: Int

        public var parameterCount: Int { trainableCount + nonTrainableCount }
    }

    public let title: String
    public let rows: [Row]

    public init(title: String, rows: [Row]) {
        self.title = title
        self.rows = rows
    }

    public var trainableCount: Int { rows.reduce(0) { $0 + $1.trainableCount } }
    public var nonTrainableCount: Int { rows.reduce(0) { $0 + $1.nonTrainableCount } }
    /// Trainable plus non-trainable: Keras's "Total params".
    public var parameterCount: Int { trainableCount + nonTrainableCount }

    /// The counts of the rows named `prefix` or below it (`"encoder"` → every `encoder.…` row).
    public func counts(under prefix: String) -> (trainable: Int, nonTrainable: Int) {
        let selected = rows.filter { $0.name == prefix || $0.name.hasPrefix(prefix + ".") }
        return (selected.reduce(0) { $0 + $1.trainableCount }, selected.reduce(0) { $0 + $1.nonTrainableCount })
    }

    /// A fixed-width table followed by the totals.
    public var description: String {
        let header = ("Layer", "Kind", "Output shape", "Parameters")
        let cells = rows.map { row in
            (row.name, row.kind, "(" + (["B"] + row.outputShape.map(String.init)).joined(separator: ", ") + ")",
             groupedDigits(row.parameterCount))
        }
        let widths = (
            max(header.0.count, cells.map(\.0.count).max() ?? 0),
            max(header.1.count, cells.map(\.1.count).max() ?? 0),
            max(header.2.count, cells.map(\.2.count).max() ?? 0),
            max(header.3.count, cells.map(\.3.count).max() ?? 0)
        )
        func line(_ cell: (String, String, String, String)) -> String {
            [padded(cell.0, widths.0), padded(cell.1, widths.1), padded(cell.2, widths.2),
             String(repeating: " ", count: widths.3 - cell.3.count) + cell.3].joined(separator: "  ")
        }
        let rule = String(repeating: "─", count: widths.0 + widths.1 + widths.2 + widths.3 + 6)
        var lines = [title, rule, line(header), rule]
        lines += cells.map(line)
        lines += [rule,
                  "Total parameters:         \(groupedDigits(parameterCount))",
                  "Trainable parameters:     \(groupedDigits(trainableCount))",
                  "Non-trainable parameters: \(groupedDigits(nonTrainableCount)) (batch-norm moving statistics)"]
        return lines.joined(separator: "\n")
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(width - text.count, 0))
    }
}

/// An integer with its digits grouped in threes by commas: 1234567 → "1,234,567".
public func groupedDigits(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var grouped = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
        grouped.append(digit)
    }
    return (value < 0 ? "-" : "") + grouped
}

/// Records summary rows while a model is built: each row gets the parameters and buffers
/// registered in the store since the previous row.
public final class SummaryRecorder {
    public let store: ParameterStore
    public private(set) var rows: [ModelSummary.Row] = []
    private var recordedTrainable: Int
    private var recordedNonTrainable: Int

    public init(store: ParameterStore) {
        self.store = store
        recordedTrainable = store.parameterCount
        recordedNonTrainable = store.bufferCount
    }

    public func record(_ name: String, _ kind: String, _ outputShape: [Int]) {
        let trainable = store.parameterCount, nonTrainable = store.bufferCount
        rows.append(ModelSummary.Row(name: name, kind: kind, outputShape: outputShape,
                                     trainableCount: trainable - recordedTrainable,
                                     nonTrainableCount: nonTrainable - recordedNonTrainable))
        recordedTrainable = trainable
        recordedNonTrainable = nonTrainable
    }
}
