import NDArray
import Synchronization

/// One application of an ``Op`` to input variables, producing output variables.
///
/// Graph construction never throws (operators cannot): when the type rule rejects the inputs,
/// the node keeps the error and where it was built, and `function`, `grad` and `eval` throw it.
///
/// An output keeps its node alive (``Variable/owner``) but the node holds its outputs weakly, so
/// a graph is freed as soon as nobody holds its variables (a strong reference both ways would
/// make every node a cycle, and no graph would ever be released). An output that nobody holds is
/// made again, with the same type, when ``outputs`` is read: nobody can tell it from the old one,
/// since nobody held that.
public final class Apply {
    public let op: any Op
    /// Mutable only inside a ``FunctionGraph``, which works on its own clone of the graph.
    public internal(set) var inputs: [Variable]
    public let location: SourceLocation
    /// Why this node is invalid, if it is.
    public let error: TheanoError?
    private let outputTypes: [TensorType]
    /// Locked: graphs are read from several threads (functions compiled and called concurrently).
    private let slots: Mutex<[WeakOutput]>

    private struct WeakOutput: @unchecked Sendable { weak var variable: Variable? }

    init(op: any Op, inputs: [Variable], outputTypes: [TensorType], error: TheanoError?, location: SourceLocation) {
        self.op = op
        self.inputs = inputs
        self.location = location
        self.error = error
        self.outputTypes = outputTypes
        slots = Mutex(Array(repeating: WeakOutput(), count: outputTypes.count))
    }

    /// The variables this node computes, in order.
    public var outputs: [Variable] {
        slots.withLock { slots in
            Handed(
                (0..<slots.count).map { i in
                    if let v = slots[i].variable { return v }
                    let v = Variable(type: outputTypes[i], name: nil, owner: self, index: i, location: location)
                    slots[i].variable = v
                    return v
                })
        }.value
    }

    /// The outputs leave the lock to the thread that asked for them; graphs are not Sendable,
    /// and `Mutex` hands only Sendable values out.
    private struct Handed: @unchecked Sendable {
        let value: [Variable]
        init(_ value: [Variable]) { self.value = value }
    }

    /// How many variables this node computes (without making any).
    public var outputCount: Int { outputTypes.count }

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
