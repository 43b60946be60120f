import NDArray

/// Stands for a construction that cannot be built (a misuse found while building the graph);
/// its type rule always throws, so `function`, `grad` and `eval` report the message with the
/// user's source location.
public struct Invalid: Op {
    public let message: String
    public let name: String
    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { throw OpError(message) }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { throw OpError(message) }
    public var description: String { name }
}

/// A variable whose node carries `message` as an error.
func invalid(_ message: String, _ inputs: Variable..., op: String = "Subtensor") -> Variable {
    apply1(Invalid(message: message, name: op), inputs)
}
