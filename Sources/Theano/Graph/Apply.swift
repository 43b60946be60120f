import NDArray

/// One application of an ``Op`` to input variables, producing output variables.
///
/// Graph construction never throws (operators cannot): when the type rule rejects the inputs,
/// the node keeps the error and where it was built, and `function`, `grad` and `eval` throw it.
public final class Apply {
    public let op: any Op
    /// Mutable only inside a ``FunctionGraph``, which works on its own clone of the graph.
    public internal(set) var inputs: [Variable]
    public private(set) var outputs: [Variable] = []
    public let location: SourceLocation
    /// Why this node is invalid, if it is.
    public let error: TheanoError?

    init(op: any Op, inputs: [Variable], outputTypes: [TensorType], error: TheanoError?, location: SourceLocation) {
        self.op = op
        self.inputs = inputs
        self.location = location
        self.error = error
        outputs = outputTypes.enumerated().map { i, t in
            Variable(type: t, name: nil, owner: self, index: i, location: location)
        }
    }

    /// Builds a node, running the op's type rule. Never throws: errors are kept on the node.
    public static func make(_ op: any Op, _ inputs: [Variable], location: SourceLocation? = nil) -> Apply {
        let loc = location ?? .capture()
        let types = inputs.map(\.type)
        if let bad = inputs.first(where: { $0.owner?.error != nil }), let e = bad.owner?.error {
            // Already invalid upstream: report the root cause only.
            return Apply(op: op, inputs: inputs, outputTypes: placeholder(op), error: e, location: loc)
        }
        do {
            let out = try op.outputTypes(types)
            return Apply(op: op, inputs: inputs, outputTypes: out, error: nil, location: loc)
        } catch {
            let kind = (error as? OpError)?.kind ?? .type
            let e = TheanoError(kind, "\(error)", op: "\(op)", inputs: types.summary, location: loc)
            return Apply(op: op, inputs: inputs, outputTypes: placeholder(op), error: e, location: loc)
        }
    }

    private static func placeholder(_ op: any Op) -> [TensorType] {
        Array(repeating: TensorType(.float64, shape: []), count: op.outputCount)
    }
}

/// Applies `op` and returns its single output.
@inline(__always)
func apply1(_ op: any Op, _ inputs: Variable..., location: SourceLocation? = nil) -> Variable {
    Apply.make(op, inputs, location: location).outputs[0]
}
