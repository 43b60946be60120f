import NDArray

/// A bound of an index: a Swift integer or a symbolic integer scalar.
public enum IndexValue {
    case int(Int)
    case variable(Variable)
}

/// What one position of a subscript means.
public enum IndexComponent {
    /// A single position: the axis is dropped.
    case at(IndexValue)
    /// A slice with optional bounds and step (Python's `start:stop:step`).
    case slice(IndexValue?, IndexValue?, IndexValue?)
    /// Advanced indexing by an integer tensor.
    case array(Variable)
}

/// Anything usable inside `x[…]`: `Int`, Swift ranges of `Int`, symbolic scalars (`x[i]`),
/// symbolic ranges (`x[i * 600 ..< (i + 1) * 600]`), ``Slice`` (with steps, `.all`), and
/// integer tensors for advanced indexing (`p[arange(n), y]`).
public protocol TensorIndex {
    var indexComponent: IndexComponent { get }
}

extension Int: TensorIndex {
    public var indexComponent: IndexComponent { .at(.int(self)) }
}

extension Variable: TensorIndex {
    public var indexComponent: IndexComponent { ndim == 0 ? .at(.variable(self)) : .array(self) }
}

extension Range: TensorIndex where Bound == Int {
    public var indexComponent: IndexComponent { .slice(.int(lowerBound), .int(upperBound), nil) }
}

extension ClosedRange: TensorIndex where Bound == Int {
    public var indexComponent: IndexComponent {
        .slice(.int(lowerBound), upperBound == -1 ? nil : .int(upperBound + 1), nil)
    }
}

extension PartialRangeFrom: TensorIndex where Bound == Int {
    public var indexComponent: IndexComponent { .slice(.int(lowerBound), nil, nil) }
}

extension PartialRangeUpTo: TensorIndex where Bound == Int {
    public var indexComponent: IndexComponent { .slice(nil, .int(upperBound), nil) }
}

extension PartialRangeThrough: TensorIndex where Bound == Int {
    public var indexComponent: IndexComponent { .slice(nil, upperBound == -1 ? nil : .int(upperBound + 1), nil) }
}

/// A Python-style slice `start:stop:step`; any part may be omitted or symbolic.
///
/// ```swift
/// x[Slice(step: -1)]          // x[::-1]
/// x[.all, 0]                  // x[:, 0]
/// ```
public struct Slice: TensorIndex {
    public var start: IndexValue?, stop: IndexValue?, step: IndexValue?
    public init(_ start: Int? = nil, _ stop: Int? = nil, step: Int? = nil) {
        self.start = start.map(IndexValue.int)
        self.stop = stop.map(IndexValue.int)
        self.step = step.map(IndexValue.int)
    }
    public init(start: Variable?, stop: Variable?, step: Variable? = nil) {
        self.start = start.map(IndexValue.variable)
        self.stop = stop.map(IndexValue.variable)
        self.step = step.map(IndexValue.variable)
    }
    public var indexComponent: IndexComponent { .slice(start, stop, step) }
}

extension TensorIndex where Self == Slice {
    /// The whole axis (`:`).
    public static var all: Slice { Slice() }
}

/// A symbolic half-open range `a ..< b`, for minibatch slices.
public struct SymbolicRange: TensorIndex {
    public let lower: Variable, upper: Variable
    public var indexComponent: IndexComponent { .slice(.variable(lower), .variable(upper), nil) }
}

/// `a ..< b` with symbolic integer bounds.
///
/// ```swift
/// trainX[index * 600 ..< (index + 1) * 600]
/// ```
public func ..< (a: Variable, b: Variable) -> SymbolicRange { SymbolicRange(lower: a, upper: b) }

extension Variable {
    /// Basic and advanced indexing, as NumPy: `x[2]`, `x[1..<3, .all]`, `x[i * B ..< (i + 1) * B]`,
    /// `x[Slice(step: 2)]`, `p[arange(n), y]`, `W[idx]`. Basic indexing is a view (no copy).
    public subscript(_ indices: any TensorIndex...) -> Variable {
        index(indices.map(\.indexComponent))
    }

    /// Indexing with a list of indices built at run time: `x[indices: [Slice(1, 3), 2]]` is `x[Slice(1, 3), 2]`.
    public subscript(indices indices: [any TensorIndex]) -> Variable {
        index(indices.map(\.indexComponent))
    }

    func index(_ components: [IndexComponent]) -> Variable {
        let arrays = components.indices.filter {
            if case .array = components[$0] { return true }
            return false
        }
        if arrays.isEmpty { return basicIndex(components) }
        guard let first = arrays.first, arrays == Array(first..<first + arrays.count) else {
            return invalid("advanced indices separated by slices are not supported; index in two steps", self)
        }
        if components.contains(where: {
            if case .at = $0 { return true }
            return false
        }) {
            return invalid(
                "mixing integer positions with advanced (array) indices is not supported; use a slice or an array", self
            )
        }
        // Slices first (a view), then the arrays on their contiguous block of axes.
        let basic = components.map { c -> IndexComponent in
            if case .array = c { return .slice(nil, nil, nil) }
            return c
        }
        let base = basic.allSatisfy(\.isFullSlice) ? self : basicIndex(basic)
        var idx: [Variable] = []
        for c in components { if case .array(let v) = c { idx.append(v) } }
        return apply1(AdvancedSubtensor(first: first, count: idx.count, sliced: base !== self), [base] + idx)
    }

    func basicIndex(_ components: [IndexComponent]) -> Variable {
        var entries: [IndexEntry] = []
        var bounds: [Variable] = []
        func bound(_ v: IndexValue?) -> IndexBound? {
            switch v {
            case nil: return nil
            case .int(let i)?: return .constant(i)
            case .variable(let x)?:
                if let c = x as? Constant, c.value.count == 1, let i = try? c.value.item() { return .constant(Int(i)) }
                bounds.append(x)
                return .input
            }
        }
        for c in components {
            switch c {
            case .at(let v): entries.append(.at(bound(v) ?? .constant(0)))
            case .slice(let a, let b, let s): entries.append(.slice(start: bound(a), stop: bound(b), step: bound(s)))
            case .array: break
            }
        }
        return apply1(Subtensor(entries), [self] + bounds)
    }
}

extension IndexComponent {
    var isFullSlice: Bool {
        if case .slice(nil, nil, nil) = self { return true }
        return false
    }
}
