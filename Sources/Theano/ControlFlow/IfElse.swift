import NDArray

/// `then` when `condition` is true, else `otherwise`, computing only the branch taken (Theano's
/// lazy `ifelse`; ``select(_:_:_:)`` is the elementwise form, which computes both). Each branch's
/// graph becomes a function of its own, compiled on first use; the node's inputs are the graph
/// inputs the branches read. The gradient follows the branch taken (an `ifelse` of the two
/// branches' gradients).
///
/// ```swift
/// let cheap = ifelse(lt(n, 10), exactSum, approximateSum)
/// ```
///
/// Work shared with the rest of the graph is computed again inside the branch that uses it.
public func ifelse(_ condition: Variable, _ then: Variable, _ otherwise: Variable) -> Variable {
    let location = SourceLocation.capture()
    let roots = Graph.roots([then, otherwise]).filter { !($0 is Constant) }
    let placeholders = roots.map { Variable(type: $0.type, name: $0.name, owner: nil, index: 0, location: $0.location) }
    let replace = Dictionary(uniqueKeysWithValues: zip(roots, placeholders))
    let branches = Graph.clone([then, otherwise], replacing: replace)
    let op = IfElse(
        then: ScanBody(inputs: placeholders, outputs: [branches[0]]),
        otherwise: ScanBody(inputs: placeholders, outputs: [branches[1]]))
    return Apply.make(op, [condition] + roots, location: location).outputs[0]
}

/// The node of ``ifelse(_:_:_:)``: inputs are the condition, then the branches' graph inputs.
public struct IfElse: DifferentiableOp {
    let then: ScanBody
    let otherwise: ScanBody

    public static func == (a: IfElse, b: IfElse) -> Bool { a.then === b.then && a.otherwise === b.otherwise }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(then)) }
    public var description: String { "IfElse" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].ndim == 0 else { throw OpError("ifelse needs a scalar condition, got \(inputs[0])") }
        let (a, b) = (then.outputs[0].type, otherwise.outputs[0].type)
        guard a.dtype == b.dtype, a.ndim == b.ndim else {
            throw OpError("ifelse's branches must have the same dtype and rank: \(a) and \(b)")
        }
        return [TensorType(a.dtype, shape: zip(a.shape, b.shape).map { $0 == $1 ? $0 : nil })]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let branch = try inputs[0].item() != 0 ? then : otherwise
        return try branch.step(Array(inputs.dropFirst()))
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return node.inputs.map { _ in .disconnected } }
        let roots = Array(node.inputs.dropFirst())
        // Each branch again, over the node's own inputs (which givens or rewrites may have replaced).
        func branch(_ body: ScanBody) -> Variable {
            Graph.clone(body.outputs, replacing: Dictionary(uniqueKeysWithValues: zip(body.inputs, roots)))[0]
        }
        let float = roots.map(\.isDifferentiable)
        let wrt = zip(roots, float).filter { $1 }.map(\.0)
        guard !wrt.isEmpty, let ga = try? grad(sum(branch(then) * g), wrt: wrt, disconnectedInputs: .ignore),
            let gb = try? grad(sum(branch(otherwise) * g), wrt: wrt, disconnectedInputs: .ignore)
        else { return node.inputs.map { _ in .disconnected } }
        var result: [InputGradient] = [.disconnected]
        var k = 0
        for isFloat in float {
            guard isFloat else {
                result.append(.disconnected)
                continue
            }
            result.append(.value(ifelse(node.inputs[0], ga[k], gb[k])))
            k += 1
        }
        return result
    }
}

extension IfElse: InnerGraphOp {
    var innerGraphs: [(label: String, outputs: [Variable])] {
        [("then", then.outputs), ("else", otherwise.outputs)]
    }
}
