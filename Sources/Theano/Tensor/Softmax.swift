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
    if x.dtype == .float32 {
        rowsSoftmax(moved.basePointer(as: Float.self), rows: rows, n: n, log: log)
    } else {
        rowsSoftmax(moved.basePointer(as: Double.self), rows: rows, n: n, log: log)
    }
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

extension Softmax {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        ShapeInference.length(node.inputs[0], d)
    }
}

extension LogSoftmax {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        ShapeInference.length(node.inputs[0], d)
    }
}

// MARK: - Native kernel (C/softmax.c)

extension Softmax: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.softmax, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? {
        SoftmaxKernel(fixed: code.fixed, axis: axis, log: false)
    }
}

extension LogSoftmax: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.softmax, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? {
        SoftmaxKernel(fixed: code.fixed, axis: axis, log: true)
    }
}

/// Softmax or log-softmax along the last axis through the row kernels; other axes run the
/// reference.
struct SoftmaxKernel: Kernel {
    let fixed: FixedKernels
    let axis: Int
    let log: Bool

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard axis == x.ndim - 1, let f = fixed[x.dtype]?.softmax else {
            return try log ? LogSoftmax(axis: axis).perform(inputs) : Softmax(axis: axis).perform(inputs)
        }
        let src = x.contiguous()
        let out = try reusable(buffers, 0, shape: x.shape, dtype: x.dtype) ?? NDArray.empty(x.shape, dtype: x.dtype)
        let n = x.shape.last ?? 1
        let rows = n == 0 ? 0 : src.count / n
        withExtendedLifetime(src) { f(Int64(rows), Int64(n), src.rawBase, out.rawBase, log ? 1 : 0) }
        return [out]
    }
}
