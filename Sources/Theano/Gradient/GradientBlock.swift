import NDArray

/// Identity in the forward pass that changes the gradient: blocks it (`disconnectedGrad`) or
/// makes it zero (`zeroGrad`).
public struct GradientBlock: DifferentiableOp {
    public let disconnected: Bool
    public var description: String { disconnected ? "DisconnectedGrad" : "ZeroGrad" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [inputs[0]] }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { [inputs[0]] }
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        [disconnected ? .disconnected : .zero]
    }
}

/// `x`, with no gradient flowing back through it: the variables it depends on are treated as
/// constants (requesting a gradient only reachable through it is a disconnected-input error).
///
/// ```swift
/// let cost = mean(freeEnergy(v)) - mean(freeEnergy(disconnectedGrad(chainEnd)))
/// ```
public func disconnectedGrad(_ x: Variable) -> Variable { apply1(GradientBlock(disconnected: true), [x]) }

/// `x`, whose gradient is zero (still connected: no disconnected-input error).
public func zeroGrad(_ x: Variable) -> Variable { apply1(GradientBlock(disconnected: false), [x]) }
