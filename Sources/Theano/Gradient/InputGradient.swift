import NDArray

/// The gradient an op gives one of its inputs.
public enum InputGradient {
    /// A symbolic gradient with the input's shape (or broadcastable to it).
    case value(Variable)
    /// Connected, but identically zero (floor, round, comparisons of floats, …).
    case zero
    /// The input does not influence the outputs differentiably (integer inputs, shapes, indices).
    case disconnected
    /// The op cannot differentiate with respect to this input; `grad` reports the reason if a
    /// requested variable depends on it.
    case undefined(String)
}

/// Ops that define their gradient conform to this refinement of ``Op``.
public protocol DifferentiableOp: Op {
    /// Input gradients from output gradients (`nil`: that output does not reach the cost).
    func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient]
}

extension Variable {
    /// Whether gradients can flow through it.
    var isDifferentiable: Bool { dtype.isFloat }
}
