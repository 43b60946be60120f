import NDArray

/// Advanced (integer-array) indexing on a contiguous block of axes `first ..< first + count`:
/// the index arrays broadcast together to shape B and the result has shape
/// `x.shape[..<first] + B + x.shape[(first + count)...]`, as NumPy. Always a copy.
public struct AdvancedSubtensor: DifferentiableOp {
    public let first: Int
    public let count: Int
    /// Whether the slices before it belong to the same indexing (`x[1..<3, idx]`, split into a
    /// slice then the arrays): `setSubtensor` then writes the result back into `x`. Written in
    /// two steps (`x[1][idx]`), the target is `x[1]`, as in Theano and NumPy.
    public var sliced = false

    public init(first: Int, count: Int, sliced: Bool = false) {
        self.first = first
        self.count = count
        self.sliced = sliced
    }

    public var description: String { "AdvancedSubtensor{axes \(first)..<\(first + count)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        let idx = Array(inputs.dropFirst())
        try checkAdvanced(x: x, idx: idx, first: first)
        let b = try broadcastStatic(idx.map(\.shape))
        return [TensorType(x.dtype, shape: Array(x.shape[..<first]) + b + Array(x.shape[(first + idx.count)...]))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let plan = try AdvancedPlan(x: x, idx: Array(inputs.dropFirst()), first: first)
        let out = try NDArray.zeros(plan.resultShape, dtype: x.dtype)
        transferBlocks(
            from: x, offsets: plan.offsets, strides: plan.trailingStrides,
            to: out, offsets: plan.contiguousOffsets, strides: NDArray.contiguousStrides(plan.trailing),
            shape: plan.trailing, accumulate: false)
        return [out]
    }
}

func checkAdvanced(x: TensorType, idx: [TensorType], first: Int) throws {
    guard first + idx.count <= x.ndim else {
        throw OpError("too many indices (\(first + idx.count)) for a \(x.ndim)-d tensor")
    }
    for t in idx where !t.dtype.isInteger {
        throw OpError(
            "advanced indices must be integer tensors, got \(t)"
                + (t.dtype == .bool ? " (boolean masks are not supported; use nonzero positions)" : ""))
    }
}

/// Where each indexed block lives in `x` and in the result, checked against the bounds.
struct AdvancedPlan {
    var resultShape: [Int] = []
    var trailing: [Int] = []
    var trailingStrides: [Int] = []
    /// Offset in `x` of each block, in result order.
    var offsets: [Int] = []
    /// Offset of each block in a contiguous result.
    var contiguousOffsets: [Int] = []

    init(x: NDArray, idx: [NDArray], first: Int) throws {
        let m = idx.count
        let b: [Int]
        do { b = try NDArray.broadcastShapes(idx.map(\.shape)) } catch {
            throw OpError("index arrays cannot be broadcast together: \(idx.map(\.shape))", kind: .shape)
        }
        let ind = try idx.map { try $0.broadcast(to: b).scalars(as: Int64.self) }
        let prefix = Array(x.shape[..<first])
        trailing = Array(x.shape[(first + m)...])
        trailingStrides = Array(x.strides[(first + m)...])
        resultShape = prefix + b + trailing
        let nb = b.reduce(1, *)
        let blockSize = trailing.reduce(1, *)
        var idxOffsets = [Int](repeating: 0, count: nb)
        for k in 0..<nb {
            var off = 0
            for j in 0..<m {
                let n = x.shape[first + j]
                var i = Int(ind[j][k])
                if i < 0 { i += n }
                guard i >= 0 && i < n else {
                    throw OpError(
                        "index \(ind[j][k]) is out of bounds for axis \(first + j) with size \(n)", kind: .shape)
                }
                off += i * x.strides[first + j]
            }
            idxOffsets[k] = off
        }
        let prefixOffsets = allOffsets(shape: prefix, strides: Array(x.strides[..<first]), base: x.offset)
        offsets.reserveCapacity(prefixOffsets.count * nb)
        for p in prefixOffsets { for o in idxOffsets { offsets.append(p + o) } }
        contiguousOffsets = (0..<offsets.count).map { $0 * blockSize }
    }
}

/// Writes `y` into (or adds it to) the positions of `x` selected by advanced indices; repeated
/// positions accumulate when incrementing. `x` itself is not modified: the output is a copy.
public struct AdvancedIncSubtensor: Op {
    public let first: Int
    public let count: Int
    public let set: Bool

    public var description: String { "Advanced\(set ? "Set" : "Inc")Subtensor{axes \(first)..<\(first + count)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        let y = inputs[1]
        let idx = Array(inputs.dropFirst(2))
        try checkAdvanced(x: x, idx: idx, first: first)
        try checkIncValue(x: x, y: y)
        let b = try broadcastStatic(idx.map(\.shape))
        let target = Array(x.shape[..<first]) + b + Array(x.shape[(first + idx.count)...])
        _ = try broadcastStatic([target, y.shape])
        guard y.ndim <= target.count else {
            throw OpError("value \(y) has more dimensions than the indexed \(target.count)-d selection", kind: .shape)
        }
        return [x]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let out = x.freshCopy()
        let plan = try AdvancedPlan(x: out, idx: Array(inputs.dropFirst(2)), first: first)
        let y = try broadcastValue(inputs[1], to: plan.resultShape, dtype: x.dtype)
        let yBlocks = allOffsets(
            shape: Array(plan.resultShape.prefix(plan.resultShape.count - plan.trailing.count)),
            strides: Array(y.strides.prefix(y.ndim - plan.trailing.count)), base: y.offset)
        transferBlocks(
            from: y, offsets: yBlocks, strides: Array(y.strides.suffix(plan.trailing.count)),
            to: out, offsets: plan.offsets, strides: plan.trailingStrides,
            shape: plan.trailing, accumulate: !set)
        return [out]
    }
}

func checkIncValue(x: TensorType, y: TensorType) throws {
    guard y.dtype.canCastSafely(to: x.dtype) else {
        throw OpError(
            "cannot write \(y.dtype) values into a \(x.dtype) tensor without losing precision; cast them first")
    }
}

/// `y` converted to `dtype` and broadcast to `shape`, with a shape error naming both.
func broadcastValue(_ y: NDArray, to shape: [Int], dtype: DType) throws -> NDArray {
    do { return try (y.dtype == dtype ? y : y.cast(to: dtype)).broadcast(to: shape) } catch {
        throw OpError("value of shape \(y.shape) cannot be broadcast to the selection's shape \(shape)", kind: .shape)
    }
}

extension AdvancedSubtensor {
    /// A scatter-add into zeros: repeated indices accumulate.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        let rest = node.inputs.dropFirst().map { _ in InputGradient.disconnected }
        guard let g = gradients[0], x.isDifferentiable else { return [.disconnected] + rest }
        let op = AdvancedIncSubtensor(first: first, count: count, set: false)
        return [.value(apply1(op, [zerosLike(x), g] + node.inputs.dropFirst()))] + rest
    }
}

extension AdvancedIncSubtensor: DifferentiableOp {
    /// `x`: the gradient (with the selection zeroed when setting); `y`: the selected gradient.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        let y = node.inputs[1]
        let idx = Array(node.inputs.dropFirst(2))
        let rest = idx.map { _ in InputGradient.disconnected }
        guard let g = gradients[0] else { return [.disconnected, .disconnected] + rest }
        let gx: InputGradient =
            !x.isDifferentiable
            ? .disconnected
            : .value(
                set
                    ? apply1(
                        AdvancedIncSubtensor(first: first, count: count, set: true),
                        [g, Constant(NDArray(scalar: 0, dtype: g.dtype))] + idx) : g)
        let gy: InputGradient =
            !y.isDifferentiable
            ? .disconnected
            : .value(
                reduceGradient(cast(apply1(AdvancedSubtensor(first: first, count: count), [g] + idx), y.dtype), to: y))
        return [gx, gy] + rest
    }
}
