import NDArray

/// One bound of a basic index: known when the graph is built, or the next symbolic input.
public enum IndexBound: Hashable, Sendable, CustomStringConvertible {
    case constant(Int)
    case input
    public var description: String {
        switch self {
        case .constant(let i): "\(i)"
        case .input: "$"
        }
    }
}

/// One axis of a basic index in an op: a position (axis dropped) or a slice.
public enum IndexEntry: Hashable, Sendable, CustomStringConvertible {
    case at(IndexBound)
    case slice(start: IndexBound?, stop: IndexBound?, step: IndexBound?)

    public var description: String {
        switch self {
        case .at(let b): return b.description
        case .slice(let a, let b, let c):
            return (a?.description ?? "") + ":" + (b?.description ?? "") + (c.map { ":\($0)" } ?? "")
        }
    }

    var inputCount: Int {
        switch self {
        case .at(let b): return b == .input ? 1 : 0
        case .slice(let a, let b, let c): return [a, b, c].filter { $0 == .input }.count
        }
    }
}

/// Basic indexing `x[i, a..<b, ::s]`: a view of the input, never a copy. Symbolic bounds are
/// extra integer scalar inputs in entry order.
public struct Subtensor: DifferentiableOp {
    public let entries: [IndexEntry]

    public init(_ entries: [IndexEntry]) { self.entries = entries }
    public var description: String { "Subtensor{\(entries.map(\.description).joined(separator: ", "))}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard entries.count <= x.ndim else {
            throw OpError("too many indices (\(entries.count)) for a \(x.ndim)-d tensor")
        }
        for b in inputs.dropFirst() where !(b.ndim == 0 && (b.dtype.isInteger || b.dtype == .bool)) {
            throw OpError("index bounds must be integer scalars, got \(b)")
        }
        var shape: [Int?] = []
        for axis in 0..<x.ndim {
            let n = x.shape[axis]
            guard axis < entries.count else {
                shape.append(n)
                continue
            }
            switch entries[axis] {
            case .at(.constant(let i)):
                if let n, i >= n || i < -n {
                    throw OpError("index \(i) is out of bounds for axis \(axis) with size \(n)", kind: .shape)
                }
            case .at(.input): break
            case .slice(let a, let b, let c):
                if case .constant(0)? = c { throw OpError("slice step cannot be zero") }
                func k(_ v: IndexBound?) -> Int?? {
                    switch v {
                    case nil: .some(nil)
                    case .constant(let i)?: .some(i)
                    case .input?: nil
                    }
                }
                if let n, let a = k(a), let b = k(b), let c = k(c) {
                    shape.append(NDArray.sliceBounds(n: n, start: a, stop: b, step: c ?? 1).count)
                } else if a == nil && b == nil && (c == nil || c == .constant(1)) {
                    shape.append(n)
                } else {
                    shape.append(nil)
                }
            }
        }
        return [TensorType(x.dtype, shape: shape)]
    }

    /// The concrete index for run-time bound values.
    func axisIndices(_ bounds: ArraySlice<NDArray>) throws -> [AxisIndex] {
        var it = bounds.makeIterator()
        func value(_ b: IndexBound?) throws -> Int? {
            switch b {
            case nil: return nil
            case .constant(let i)?: return i
            case .input?:
                guard let v = it.next() else { throw OpError("missing index bound", kind: .runtime) }
                return Int(try v.item())
            }
        }
        return try entries.map { e in
            switch e {
            case .at(let b): return .at(try value(b) ?? 0)
            case .slice(let a, let b, let c):
                let start = try value(a)
                let stop = try value(b)
                let step = try value(c) ?? 1
                guard step != 0 else { throw OpError("slice step cannot be zero", kind: .shape) }
                return .range(start: start, stop: stop, step: step)
            }
        }
    }

    /// The output is a view of the input (no copy).
    public var viewMap: [Int: Int] { [0: 0] }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        do { return [try inputs[0].sliced(try axisIndices(inputs.dropFirst()))] } catch let e as NDArrayError {
            throw OpError("\(e)", kind: .shape)
        }
    }
}

extension Subtensor {
    /// Scatters the gradient into zeros of the input's shape; bounds are disconnected.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        let rest = node.inputs.dropFirst().map { _ in InputGradient.disconnected }
        guard let g = gradients[0], x.isDifferentiable else { return [.disconnected] + rest }
        return [.value(apply1(IncSubtensor(entries: entries, set: false), [zerosLike(x), g] + node.inputs.dropFirst()))]
            + rest
    }
}

extension Subtensor {
    public var replayRole: ReplayRole { .view }
}
