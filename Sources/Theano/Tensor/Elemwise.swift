import NDArray

/// Lifts a ``ScalarOp`` to tensors: NumPy broadcasting at run time, static shapes broadcast in
/// the type rule (a conflict between two known lengths is a type error).
///
/// Generic over the scalar op, so rewrites match `node.op as? Elemwise<Log>` and each op's loop
/// is specialised.
public struct Elemwise<S: ScalarOp>: DifferentiableOp {
    public let scalar: S

    public init(_ scalar: S) { self.scalar = scalar }

    public var description: String { scalar.description }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (_, out) = try scalar.dtypes(inputs.map(\.dtype))
        return [TensorType(out, shape: try broadcastStatic(inputs.map(\.shape)))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (compute, out) = try scalar.dtypes(inputs.map(\.dtype))
        let shape: [Int]
        do { shape = try NDArray.broadcastShapes(inputs.map(\.shape)) } catch {
            throw OpError("\(error)", kind: .shape)
        }
        // Integer and bool work is done in Int64 and wrapped to the output dtype afterwards.
        let domain: DType = compute.isFloat ? compute : .int64
        let args = try inputs.map { a in
            try (a.dtype == domain ? a : a.cast(to: domain)).broadcast(to: shape)
        }
        let result = try NDArray.empty(shape, dtype: domain)
        scalar.run(args, into: result)
        return [domain == out ? result : result.cast(to: out)]
    }
}

extension Elemwise {
    /// The scalar op's derivative, cast to each input's dtype and summed back to its shape.
    /// Integer and bool inputs, and bool outputs, are disconnected.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let out = node.outputs[0]
        guard let g = gradients[0], out.isDifferentiable else { return node.inputs.map { _ in .disconnected } }
        let grads = scalar.gradient(node.inputs, out, g)
        return zip(node.inputs, grads).map { x, gx in
            guard x.isDifferentiable else { return .disconnected }
            guard let gx else { return .zero }
            return .value(reduceGradient(cast(gx, x.dtype), to: x))
        }
    }
}

/// Broadcasts static shapes: a known length meets 1 or unknown; two different known lengths
/// (neither 1) are an error.
func broadcastStatic(_ shapes: [[Int?]]) throws -> [Int?] {
    let nd = shapes.map(\.count).max() ?? 0
    var out = [Int?](repeating: 1, count: nd)
    for s in shapes {
        let lead = nd - s.count
        for (i, n) in s.enumerated() {
            let j = lead + i
            switch (out[j], n) {
            case (1, _): out[j] = n
            case (_, 1): break
            case (nil, _), (_, nil): out[j] = out[j] ?? n
            case (let a?, let b?) where a != b:
                let listed = shapes.map(staticShapeText).joined(separator: ", ")
                throw OpError("shapes \(listed) cannot be broadcast: dimension \(j) is \(a) and \(b)", kind: .shape)
            default: break
            }
        }
    }
    // A dimension that was 1 in one input and unknown in another is unknown.
    for s in shapes {
        let lead = nd - s.count
        for (i, n) in s.enumerated() where n == nil && out[lead + i] == 1 { out[lead + i] = nil }
    }
    return out
}

/// `(?, 3)` for a static shape.
func staticShapeText(_ shape: [Int?]) -> String {
    let dims: [String] = shape.map { d in d.map(String.init) ?? "?" }
    return "(" + dims.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

/// Applies a scalar op element-wise.
func elemwise<S: ScalarOp>(_ op: S, _ inputs: Variable...) -> Variable {
    apply1(Elemwise(op), inputs)
}

@inline(__always)
func apply1(_ op: any Op, _ inputs: [Variable]) -> Variable {
    Apply.make(op, inputs).outputs[0]
}

extension Elemwise {
    public func outputLength(_ node: Apply, output: Int, dim: Int) -> Variable? {
        ShapeInference.throughFullInput(node, output: output, dim: dim)
    }
}
