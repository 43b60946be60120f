import NDArray
import RealModule

/// Softmax along an axis, computed stably (the maximum is subtracted first).
public struct Softmax: DifferentiableOp {
    public let axis: Int
    public var description: String { "Softmax{axis=\(axis)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try softmaxType(inputs[0], axis: axis)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [try alongAxis(inputs[0], axis: axis, log: false)]
    }
}

/// `log(softmax(x))` along an axis, computed as `x - max - log(sum(exp(x - max)))`: finite for
/// any finite input.
public struct LogSoftmax: Op {
    public let axis: Int
    public var description: String { "LogSoftmax{axis=\(axis)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try softmaxType(inputs[0], axis: axis)
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [try alongAxis(inputs[0], axis: axis, log: true)]
    }
}

private func softmaxType(_ x: TensorType, axis: Int) throws -> [TensorType] {
    guard x.ndim >= 1, axis >= 0, axis < x.ndim else { throw OpError("axis \(axis) is out of range for \(x)") }
    guard x.dtype.isFloat else { throw OpError("softmax needs a float tensor, got \(x); cast it first") }
    return [x]
}

private func alongAxis(_ x: NDArray, axis: Int, log: Bool) throws -> NDArray {
    // Move the axis last, work on contiguous rows, move it back.
    var perm = Array(0..<x.ndim)
    perm.remove(at: axis)
    perm.append(axis)
    let moved = try x.permuted(perm).contiguous(forceCopy: true)
    let n = x.shape[axis]
    let rows = n == 0 ? 0 : moved.count / n
    if x.dtype == .float32 { rowsSoftmax(moved.basePointer(as: Float.self), rows: rows, n: n, log: log) }
    else { rowsSoftmax(moved.basePointer(as: Double.self), rows: rows, n: n, log: log) }
    var inverse = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return try moved.permuted(inverse)
}

private func rowsSoftmax<T: Real & BinaryFloatingPoint>(_ p: UnsafeMutablePointer<T>, rows: Int, n: Int, log: Bool) {
    for r in 0..<rows {
        let row = p + r * n
        var m = -T.infinity
        for i in 0..<n where row[i] > m || row[i].isNaN { m = row[i] }
        if m.isInfinite { m = 0 }
        var s: Double = 0
        for i in 0..<n { s += Double(T.exp(row[i] - m)) }
        if log {
            let ls = T(Foundation_log(s))
            for i in 0..<n { row[i] = row[i] - m - ls }
        } else {
            for i in 0..<n { row[i] = T(Double(T.exp(row[i] - m)) / s) }
        }
    }
}

@inline(__always) private func Foundation_log(_ x: Double) -> Double { Double.log(x) }

/// Softmax along `axis` (default the last).
///
/// ```swift
/// let p = softmax(dot(x, W) + b)
/// ```
public func softmax(_ x: Variable, axis: Int = -1) -> Variable {
    apply1(Softmax(axis: axis < 0 ? axis + x.ndim : axis), [x])
}

/// `log(softmax(x))`, stable for large logits.
public func logSoftmax(_ x: Variable, axis: Int = -1) -> Variable {
    apply1(LogSoftmax(axis: axis < 0 ? axis + x.ndim : axis), [x])
}

extension Softmax {
    /// `(g - Σ g·z) · z` along the axis.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return [.disconnected] }
        let z = node.outputs[0]
        return [.value((g - sum(g * z, axis: Axes([axis]), keepdims: true)) * z)]
    }
}

extension LogSoftmax: DifferentiableOp {
    /// `g - exp(z) · Σ g` along the axis.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return [.disconnected] }
        let z = node.outputs[0]
        return [.value(g - exp(z) * sum(g, axis: Axes([axis]), keepdims: true))]
    }
}
