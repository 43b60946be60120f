import NDArray
import RealModule

/// `-log(softmax(z))[i, y[i]]` for each row of `z`, computed in one pass without forming the log
/// of a probability; its gradient is `(softmax(z) − onehot(y)) · g`. The stabilize phase puts it
/// in place of the negative log-likelihood pattern `log(softmax(z))[arange(n), y]`.
public struct SoftmaxCrossEntropy: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let z = inputs[0]
        let y = inputs[1]
        guard z.ndim == 2, z.dtype.isFloat else { throw OpError("logits must be a float matrix, got \(z)") }
        guard y.ndim == 1, y.dtype.isInteger else { throw OpError("labels must be an integer vector, got \(y)") }
        if let a = z.shape[0], let b = y.shape[0], a != b {
            throw OpError("\(a) rows of logits but \(b) labels", kind: .shape)
        }
        return [TensorType(z.dtype, shape: [z.shape[0] ?? y.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let z = inputs[0].contiguous()
        let labels = try checkedLabels(inputs[1], rows: z.shape[0], classes: z.shape[1])
        let out = try NDArray.empty([z.shape[0]], dtype: z.dtype)
        if z.dtype == .float32 {
            crossEntropyRows(Float.self, z, labels, out)
        } else {
            crossEntropyRows(Double.self, z, labels, out)
        }
        return [out]
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return [.disconnected, .disconnected] }
        return [.value(apply1(SoftmaxCrossEntropyGrad(), [node.inputs[0], node.inputs[1], g])), .disconnected]
    }
}

/// The gradient of ``SoftmaxCrossEntropy`` with respect to the logits, `(softmax(z) − onehot(y))
/// · g[:, None]`, in one pass per row: no softmax, one-hot or product arrays in between.
public struct SoftmaxCrossEntropyGrad: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let z = inputs[0]
        let y = inputs[1]
        let g = inputs[2]
        guard z.ndim == 2, z.dtype.isFloat, y.ndim == 1, y.dtype.isInteger, g.ndim == 1, g.dtype == z.dtype else {
            throw OpError(
                "needs float logits (matrix), integer labels and a gradient vector of the logits' dtype, got "
                    + "\(inputs.summary)"
            )
        }
        return [z]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let z = inputs[0].contiguous()
        let g = inputs[2].contiguous()
        let labels = try checkedLabels(inputs[1], rows: z.shape[0], classes: z.shape[1])
        guard g.count == z.shape[0] else {
            throw OpError("\(z.shape[0]) rows of logits but \(g.count) gradients", kind: .shape)
        }
        let out = try NDArray.empty(z.shape, dtype: z.dtype)
        if z.dtype == .float32 {
            crossEntropyGradRows(Float.self, z, labels, g, out)
        } else {
            crossEntropyGradRows(Double.self, z, labels, g, out)
        }
        return [out]
    }

    /// Second derivatives, through the softmax's Jacobian: with s = softmax(z) and G the incoming
    /// gradient, ∂/∂z = s ⊙ (G g − Σⱼ s G g) per row and ∂/∂g = Σⱼ (s − onehot) ⊙ G.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let G = gradients[0] else { return [.disconnected, .disconnected, .disconnected] }
        let (z, y, g) = (node.inputs[0], node.inputs[1], node.inputs[2])
        let s = softmax(z)
        let onehot = incSubtensor(zerosLike(z)[arange(y.shape[0]), y], Constant(NDArray(scalar: 1, dtype: z.dtype)))
        let gg = G * g.dimshuffle(0, "x")
        return [
            .value(s * (gg - sum(s * gg, axis: 1, keepdims: true))), .disconnected,
            .value(sum((s - onehot) * G, axis: 1))
        ]
    }
}

/// Labels as Int, negative ones counted from the end, each checked against the class count.
private func checkedLabels(_ y: NDArray, rows: Int, classes: Int) throws -> [Int] {
    let labels = y.scalars(as: Int64.self)
    guard labels.count == rows else { throw OpError("\(rows) rows of logits but \(labels.count) labels", kind: .shape) }
    return try labels.map { l in
        let k = l < 0 ? Int(l) + classes : Int(l)
        guard k >= 0 && k < classes else {
            throw OpError("label \(l) is out of range for \(classes) classes", kind: .shape)
        }
        return k
    }
}

/// `logsumexp(row) − row[label]` per row, accumulated in float64.
private func crossEntropyRows<T: Real & BinaryFloatingPoint>(_: T.Type, _ z: NDArray, _ labels: [Int], _ out: NDArray) {
    let cols = z.shape[1]
    let p = z.basePointer(as: T.self)
    let o = out.basePointer(as: T.self)
    for (r, label) in labels.enumerated() {
        let row = p + r * cols
        var m = -T.infinity
        for j in 0..<cols where row[j] > m { m = row[j] }
        if m.isInfinite { m = 0 }
        var s = 0.0
        for j in 0..<cols { s += Double.exp(Double(row[j] - m)) }
        o[r] = T(Double(m) + Double.log(s) - Double(row[label]))
    }
}

/// `(softmax(row) − onehot(label)) · g[row]` per row.
private func crossEntropyGradRows<T: Real & BinaryFloatingPoint>(
    _: T.Type, _ z: NDArray, _ labels: [Int], _ g: NDArray, _ out: NDArray
) {
    let cols = z.shape[1]
    let p = z.basePointer(as: T.self)
    let o = out.basePointer(as: T.self)
    let pg = g.basePointer(as: T.self)
    for (r, label) in labels.enumerated() {
        let row = p + r * cols
        let dst = o + r * cols
        var m = -T.infinity
        for j in 0..<cols where row[j] > m { m = row[j] }
        if m.isInfinite { m = 0 }
        var s = 0.0
        for j in 0..<cols { s += Double.exp(Double(row[j] - m)) }
        let scale = Double(pg[r]) / s
        for j in 0..<cols { dst[j] = T(Double.exp(Double(row[j] - m)) * scale) }
        dst[label] -= pg[r]
    }
}

/// Per-row cross-entropy of softmax(logits) against integer labels, fused and stable.
///
/// ```swift
/// let cost = mean(softmaxCrossEntropy(dot(x, W) + b, y))
/// ```
public func softmaxCrossEntropy(_ logits: Variable, _ labels: Variable) -> Variable {
    apply1(SoftmaxCrossEntropy(), [logits, labels])
}

extension SoftmaxCrossEntropy {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        ShapeInference.length(node.inputs[0], 0)
    }
}

extension SoftmaxCrossEntropyGrad {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        ShapeInference.length(node.inputs[0], d)
    }
}

// MARK: - Native kernel (C/softmax.c)

extension SoftmaxCrossEntropy: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.softmax, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? {
        CrossEntropyKernel(fixed: code.fixed, grad: false)
    }
}

extension SoftmaxCrossEntropyGrad: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.softmax, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? {
        CrossEntropyKernel(fixed: code.fixed, grad: true)
    }
}

/// The fused cross-entropy (`grad: false`) or its gradient through the row kernels.
struct CrossEntropyKernel: Kernel {
    let fixed: FixedKernels
    let grad: Bool

    private func reference(_ inputs: [NDArray]) throws -> [NDArray] {
        try grad ? SoftmaxCrossEntropyGrad().perform(inputs) : SoftmaxCrossEntropy().perform(inputs)
    }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let z = inputs[0].contiguous()
        let (count, classes) = (z.shape[0], z.shape[1])
        let labels = labelValues(inputs[1])
        guard labels.count == count else {
            throw OpError("\(count) rows of logits but \(labels.count) labels", kind: .shape)
        }
        let table = fixed[z.dtype]
        // Out-of-range labels get the reference's error.
        guard let f = grad ? table?.crossEntropyGrad : table?.crossEntropy,
            !labels.contains(where: { $0 < 0 || $0 >= Int64(classes) })
        else { return try reference(inputs) }
        let g = grad ? inputs[2].contiguous() : z
        if grad && g.count != count { throw OpError("\(count) rows of logits but \(g.count) gradients", kind: .shape) }
        let shape = grad ? z.shape : [count]
        let out = try reusable(buffers, 0, shape: shape, dtype: z.dtype) ?? NDArray.empty(shape, dtype: z.dtype)
        withExtendedLifetime((z, g)) {
            labels.withUnsafeBufferPointer { l in
                f(Int64(count), Int64(classes), z.rawBase, l.baseAddress, g.rawBase, out.rawBase)
            }
        }
        return [out]
    }
}
