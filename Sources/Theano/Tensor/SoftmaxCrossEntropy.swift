import NDArray
import RealModule

/// `-log(softmax(z))[i, y[i]]` for each row of `z`, computed in one pass without forming the log
/// of a probability; its gradient is `(softmax(z) − onehot(y)) · g`. The stabilize phase puts it
/// in place of the negative log-likelihood pattern `log(softmax(z))[arange(n), y]`.
public struct SoftmaxCrossEntropy: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let z = inputs[0], y = inputs[1]
        guard z.ndim == 2, z.dtype.isFloat else { throw OpError("logits must be a float matrix, got \(z)") }
        guard y.ndim == 1, y.dtype.isInteger else { throw OpError("labels must be an integer vector, got \(y)") }
        if let a = z.shape[0], let b = y.shape[0], a != b {
            throw OpError("\(a) rows of logits but \(b) labels", kind: .shape)
        }
        return [TensorType(z.dtype, shape: [z.shape[0] ?? y.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let z = inputs[0].cast(to: .float64), labels = inputs[1].scalars(as: Int64.self)
        let (rows, cols) = (z.shape[0], z.shape[1])
        guard labels.count == rows else { throw OpError("\(rows) rows of logits but \(labels.count) labels", kind: .shape) }
        let p = z.basePointer(as: Double.self)
        var out = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            var label = Int(labels[r])
            if label < 0 { label += cols }
            guard label >= 0 && label < cols else {
                throw OpError("label \(labels[r]) is out of range for \(cols) classes", kind: .shape)
            }
            let row = p + r * cols
            var m = -Double.infinity
            for j in 0..<cols where row[j] > m { m = row[j] }
            if m.isInfinite { m = 0 }
            var s = 0.0
            for j in 0..<cols { s += Double.exp(row[j] - m) }
            out[r] = m + Double.log(s) - row[label]
        }
        return [NDArray(vector: out).cast(to: inputs[0].dtype)]
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return [.disconnected, .disconnected] }
        let z = node.inputs[0], y = node.inputs[1]
        let onehot = incSubtensor(zerosLike(z)[arange(y.shape[0]), y], Constant(NDArray(scalar: 1, dtype: z.dtype)))
        return [.value((softmax(z) - onehot) * g.dimshuffle(0, "x")), .disconnected]
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
