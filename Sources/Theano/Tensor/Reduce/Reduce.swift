import NDArray

/// Which reduction a ``Reduce`` node computes.
public enum ReduceKind: String, Hashable, Sendable {
    case sum, prod, mean, max, min, all, any

    /// NumPy's result dtype: sums and products of ints and bools are int64, means of them
    /// float64, `all`/`any` bool, `max`/`min` keep the dtype.
    func outputDType(_ d: DType) -> DType {
        switch self {
        case .sum, .prod: d.isFloat ? d : .int64
        case .mean: d.isFloat ? d : .float64
        case .max, .min: d
        case .all, .any: .bool
        }
    }
}

/// A reduction over a set of axes (sorted, non-negative); floats accumulate in float64.
public struct Reduce: DifferentiableOp {
    public let kind: ReduceKind
    public let axes: [Int]

    public var description: String { "\(kind.rawValue.capitalized){axes=\(axes)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard axes.allSatisfy({ $0 >= 0 && $0 < x.ndim }), Set(axes).count == axes.count else {
            throw OpError("axes \(axes) are out of range for a \(x.ndim)-d tensor")
        }
        if kind == .max || kind == .min, axes.contains(where: { x.shape[$0] == 0 }) {
            throw OpError("\(kind) of an empty axis has no identity", kind: .shape)
        }
        let kept = (0..<x.ndim).filter { !axes.contains($0) }
        return [TensorType(kind.outputDType(x.dtype), shape: kept.map { x.shape[$0] })]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let kept = (0..<x.ndim).filter { !axes.contains($0) }
        let reducedShape = axes.map { x.shape[$0] }
        let n = reducedShape.reduce(1, *)
        if n == 0 && (kind == .max || kind == .min) {
            throw OpError("zero-size array to reduction operation \(kind), which has no identity", kind: .shape)
        }
        let outShape = kept.map { x.shape[$0] }
        if kind == .sum || kind == .mean, x.dtype.isFloat, x.isContiguous, !axes.isEmpty, axes == Array(0..<axes.count),
            !kept.isEmpty
        {
            return [try leadingSum(x, rows: n, shape: outShape)]
        }
        let starts = allOffsets(shape: outShape, strides: kept.map { x.strides[$0] }, base: x.offset)
        let loop = StridedLoop(shape: reducedShape, strides: [axes.map { x.strides[$0] }])
        let r = x.dtype.visit(ReduceVisitor(x: x, kind: kind, starts: starts, loop: loop, count: n))
        let outDType = kind.outputDType(x.dtype)
        let flat: NDArray = r.isFloat ? NDArray(vector: r.doubles) : NDArray(vector: r.ints)
        return [try flat.reshaped(outShape).cast(to: outDType)]
    }
}

extension Reduce {
    /// Sum (or mean) over the leading axes of a contiguous float array, row after row into a
    /// float64 accumulator: the bias-gradient pattern (`sum(g, axis: 0)`), vectorised, and in the
    /// same order of additions per element as the general loop.
    private func leadingSum(_ x: NDArray, rows: Int, shape: [Int]) throws -> NDArray {
        let cols = shape.reduce(1, *)
        var acc = [Double](repeating: 0, count: cols)
        acc.withUnsafeMutableBufferPointer { a in
            guard let a = a.baseAddress else { return }
            if x.dtype == .float32 {
                let p = x.storage.pointer.assumingMemoryBound(to: Float.self) + x.offset
                for r in 0..<rows {
                    let row = p + r * cols
                    for j in 0..<cols { a[j] += Double(row[j]) }
                }
            } else {
                let p = x.storage.pointer.assumingMemoryBound(to: Double.self) + x.offset
                for r in 0..<rows {
                    let row = p + r * cols
                    for j in 0..<cols { a[j] += row[j] }
                }
            }
            if kind == .mean { for j in 0..<cols { a[j] /= Double(rows) } }
        }
        return try NDArray(vector: acc).reshaped(shape).cast(to: x.dtype)
    }
}

private struct ReduceResult {
    var isFloat: Bool
    var doubles: [Double] = []
    var ints: [Int64] = []
}

private struct ReduceVisitor: DTypeVisitor {
    let x: NDArray, kind: ReduceKind, starts: [Int], loop: StridedLoop, count: Int

    func visit<T: NDElement>(_: T.Type) -> ReduceResult {
        let p = x.storage.pointer.assumingMemoryBound(to: T.self)
        let isFloat = T.dtype.isFloat && kind != .all && kind != .any
        var result = ReduceResult(isFloat: isFloat)
        if isFloat {
            result.doubles = starts.map { start in
                var acc: Double = kind == .prod ? 1 : (kind == .max ? -.infinity : (kind == .min ? .infinity : 0))
                var nan = false
                loop.forEachRow(offsets: [start]) { o, n, s in
                    var i = o[0]
                    let st = s[0]
                    switch kind {
                    case .sum, .mean:
                        // (A `where` on a multi-pattern case binds to the last pattern only: test inside.)
                        if st == 1 && T.self == Float.self {
                            acc += contiguousSum(UnsafeRawPointer(p + i).assumingMemoryBound(to: Float.self), n)
                        } else if st == 1 && T.self == Double.self {
                            acc += contiguousSum(UnsafeRawPointer(p + i).assumingMemoryBound(to: Double.self), n)
                        } else {
                            for _ in 0..<n {
                                acc += p[i].doubleValue
                                i += st
                            }
                        }
                    case .prod:
                        for _ in 0..<n {
                            acc *= p[i].doubleValue
                            i += st
                        }
                    case .max:
                        for _ in 0..<n {
                            let v = p[i].doubleValue
                            if v > acc { acc = v } else if v.isNaN { nan = true }
                            i += st
                        }
                    case .min:
                        for _ in 0..<n {
                            let v = p[i].doubleValue
                            if v < acc { acc = v } else if v.isNaN { nan = true }
                            i += st
                        }
                    case .all, .any: break
                    }
                }
                if nan { return .nan }
                return kind == .mean ? acc / Double(count) : acc
            }
        } else {
            result.ints = starts.map { start in
                var acc: Int64 = kind == .prod || kind == .all ? 1 : (kind == .max ? .min : (kind == .min ? .max : 0))
                loop.forEachRow(offsets: [start]) { o, n, s in
                    var i = o[0]
                    let st = s[0]
                    switch kind {
                    case .sum, .mean:
                        for _ in 0..<n {
                            acc = acc &+ p[i].int64Value
                            i += st
                        }
                    case .prod:
                        for _ in 0..<n {
                            acc = acc &* p[i].int64Value
                            i += st
                        }
                    case .max:
                        for _ in 0..<n {
                            acc = Swift.max(acc, p[i].int64Value)
                            i += st
                        }
                    case .min:
                        for _ in 0..<n {
                            acc = Swift.min(acc, p[i].int64Value)
                            i += st
                        }
                    case .all:
                        for _ in 0..<n {
                            if p[i].doubleValue == 0 { acc = 0 }
                            i += st
                        }
                    case .any:
                        for _ in 0..<n {
                            if p[i].doubleValue != 0 { acc = 1 }
                            i += st
                        }
                    }
                }
                return acc
            }
            if kind == .mean {
                result.isFloat = true
                result.doubles = result.ints.map { Double($0) / Double(count) }
            }
        }
        return result
    }
}

/// The sum of a contiguous run, accumulated in float64 across eight lanes (vectorised; as
/// accurate as the scalar float64 loop to within rounding of the final additions).
@inline(__always)
private func contiguousSum<F: BinaryFloatingPoint & SIMDScalar>(_ p: UnsafePointer<F>, _ n: Int) -> Double {
    var lanes = SIMD8<Double>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<F>.self)
        lanes += SIMD8<Double>(v)
        i += 8
    }
    var total = lanes.sum()
    while i < n {
        total += Double(p[i])
        i += 1
    }
    return total
}

/// Axes for a reduction: one axis, several, or all (`nil`).
public struct Axes: ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    let values: [Int]?
    public init(integerLiteral value: Int) { values = [value] }
    public init(arrayLiteral elements: Int...) { values = elements }
    public init(nilLiteral: ()) { values = nil }
    public init(_ values: [Int]?) { self.values = values }

    func normalized(_ ndim: Int) -> [Int]? {
        guard let v = values else { return Array(0..<ndim) }
        let n = v.map { $0 < 0 ? $0 + ndim : $0 }
        guard n.allSatisfy({ $0 >= 0 && $0 < ndim }), Set(n).count == n.count else { return nil }
        return n.sorted()
    }
}

func reduce(_ kind: ReduceKind, _ x: Variable, _ axis: Axes, keepdims: Bool) -> Variable {
    guard let axes = axis.normalized(x.ndim) else {
        return invalid("axes \(axis.values ?? []) are out of range for \(x.label)", x, op: kind.rawValue.capitalized)
    }
    let r = apply1(Reduce(kind: kind, axes: axes), [x])
    return keepdims ? keepDims(r, axes: axes, ndim: x.ndim) : r
}

/// Re-inserts reduced axes as length-1 axes.
func keepDims(_ r: Variable, axes: [Int], ndim: Int) -> Variable {
    var pattern: [Int?] = []
    var k = 0
    for d in 0..<ndim {
        if axes.contains(d) {
            pattern.append(nil)
        } else {
            pattern.append(k)
            k += 1
        }
    }
    return apply1(DimShuffle(pattern), [r])
}

/// Sum over `axis` (one, several, or all when nil); ints and bools sum to int64.
///
/// ```swift
/// let l2 = sum(W ** 2)
/// let rowSums = sum(x, axis: 1, keepdims: true)
/// ```
public func sum(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.sum, x, axis, keepdims: keepdims)
}
/// Product over `axis`.
public func prod(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.prod, x, axis, keepdims: keepdims)
}
/// Arithmetic mean over `axis` (ints give float64).
public func mean(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.mean, x, axis, keepdims: keepdims)
}
/// Maximum over `axis`; NaN propagates.
public func max(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.max, x, axis, keepdims: keepdims)
}
/// Minimum over `axis`; NaN propagates.
public func min(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.min, x, axis, keepdims: keepdims)
}
/// Whether every element over `axis` is nonzero.
public func all(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.all, x, axis, keepdims: keepdims)
}
/// Whether any element over `axis` is nonzero.
public func any(_ x: Variable, axis: Axes = nil, keepdims: Bool = false) -> Variable {
    reduce(.any, x, axis, keepdims: keepdims)
}

/// Variance over `axis` with `ddof` delta degrees of freedom (NumPy's `var`).
public func variance(_ x: Variable, axis: Axes = nil, keepdims: Bool = false, ddof: Int = 0) -> Variable {
    guard let axes = axis.normalized(x.ndim) else {
        return invalid("axes \(axis.values ?? []) are out of range for \(x.label)", x, op: "Var")
    }
    let xf = x.dtype.isFloat ? x : cast(x, .float64)
    let centered = xf - mean(xf, axis: Axes(axes), keepdims: true)
    let s = sum(sqr(centered), axis: Axes(axes), keepdims: keepdims)
    let counts = axes.map { xf.shape[$0] }
    let n = counts.dropFirst().reduce(counts.first ?? Constant(NDArray(scalar: Int64(1)))) { $0 * $1 }
    return s / cast(n - Double(ddof), xf.dtype)
}

/// Standard deviation over `axis` (NumPy's `std`).
public func std(_ x: Variable, axis: Axes = nil, keepdims: Bool = false, ddof: Int = 0) -> Variable {
    sqrt(variance(x, axis: axis, keepdims: keepdims, ddof: ddof))
}

extension Reduce {
    /// sum/mean: the gradient broadcast back (divided by the count for mean); max/min: split
    /// evenly among the positions equal to the result (as JAX and PyTorch do); prod: the product
    /// of the other entries, exact with zeros (one zero: only it gets a gradient; several: none).
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        let z = node.outputs[0]
        guard let g = gradients[0], x.isDifferentiable, z.isDifferentiable else { return [.disconnected] }
        let gk = keepDims(g, axes: axes, ndim: x.ndim)
        let zk = keepDims(z, axes: axes, ndim: x.ndim)
        switch kind {
        case .sum: return [.value(fill(x, gk))]
        case .mean:
            let counts = axes.map { x.shape[$0] }
            let n = counts.dropFirst().reduce(counts.first ?? Constant(NDArray(scalar: Int64(1)))) { $0 * $1 }
            return [.value(fill(x, gk / cast(n, x.dtype)))]
        case .prod: return [.value(gk * productOfOthers(x))]
        case .max, .min:
            let hit = cast(eq(x, zk), x.dtype)
            // A NaN slice matches nowhere: its count is 0 and so is its gradient.
            let ties = maximum(sum(hit, axis: Axes(axes), keepdims: true), 1)
            return [.value(gk * hit / ties)]
        case .all, .any: return [.disconnected]
        }
    }

    /// For each entry, the product of the other entries of its slice, without dividing by zero:
    /// with no zero in the slice `prod / x`; with one, the product of the rest at the zero and 0
    /// elsewhere; with several, 0 everywhere.
    private func productOfOthers(_ x: Variable) -> Variable {
        let zero = eq(x, 0)
        let nonzero = select(neq(x, 0), x, 1)
        let zeros = sum(cast(zero, x.dtype), axis: Axes(axes), keepdims: true)
        let rest = prod(nonzero, axis: Axes(axes), keepdims: true)
        return select(eq(zeros, 0), rest / nonzero, select(zero && eq(zeros, 1), rest, 0))
    }
}

extension Reduce {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        let kept = (0..<node.inputs[0].ndim).filter { !axes.contains($0) }
        return d < kept.count ? ShapeInference.length(node.inputs[0], kept[d]) : nil
    }

    public var kernelAgreement: KernelAgreement { kind == .sum || kind == .mean ? .reorderedSums : .sameOrder }
}
