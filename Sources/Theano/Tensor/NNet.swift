import NDArray

/// Element-wise binary cross-entropy `-(t log p + (1 - t) log(1 - p))`.
///
/// ```swift
/// let cost = mean(binaryCrossentropy(sigmoid(dot(x, w) + b), y))
/// ```
public func binaryCrossentropy(_ p: Variable, _ t: Variable) -> Variable {
    -(t * log(p) + (1 - t) * log(1 - p))
}

/// Per-row categorical cross-entropy of probabilities `p` (rows sum to 1) against integer labels
/// (a vector: `-log(p[i, y[i]])`) or one-hot / soft targets of `p`'s shape (`-Σ t log p`).
public func categoricalCrossentropy(_ p: Variable, _ targets: Variable) -> Variable {
    if targets.dtype.isInteger && targets.ndim == p.ndim - 1 {
        guard p.ndim == 2 else {
            return invalid(
                "integer labels need a matrix of probabilities, got \(p.label)", p, targets,
                op: "CategoricalCrossentropy")
        }
        return -log(p[arange(targets.shape[0]), targets])
    }
    guard targets.ndim == p.ndim else {
        return invalid(
            "targets \(targets.label) must be integer labels (one rank less) or a tensor shaped like \(p.label)",
            p, targets, op: "CategoricalCrossentropy")
    }
    return -sum(targets * log(p), axis: -1)
}
