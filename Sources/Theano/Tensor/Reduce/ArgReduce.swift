import NDArray

/// Position of the maximum or minimum along one axis (or of the flattened tensor), as int64.
/// The first occurrence wins; NaN counts as the extreme, as in NumPy.
public struct ArgReduce: Op {
    public let isMax: Bool
    /// `nil`: over the flattened tensor.
    public let axis: Int?

    public var description: String { "\(isMax ? "Argmax" : "Argmin"){axis=\(axis.map(String.init) ?? "None")}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard let a = axis else { return [TensorType(.int64, shape: [])] }
        guard a >= 0 && a < x.ndim else { throw OpError("axis \(a) is out of range for \(x)") }
        if x.shape[a] == 0 {
            throw OpError("attempt to get \(isMax ? "argmax" : "argmin") of an empty axis", kind: .shape)
        }
        var shape = x.shape
        shape.remove(at: a)
        return [TensorType(.int64, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        var x = inputs[0]
        if axis == nil { x = try x.reshaped([-1]) }
        let a = axis ?? 0
        guard x.shape[a] > 0 else {
            throw OpError("attempt to get \(isMax ? "argmax" : "argmin") of an empty sequence", kind: .shape)
        }
        let kept = (0..<x.ndim).filter { $0 != a }
        let outShape = kept.map { x.shape[$0] }
        let starts = allOffsets(shape: outShape, strides: kept.map { x.strides[$0] }, base: x.offset)
        let values = x.doublesView
        let n = x.shape[a]
        let st = x.strides[a]
        let result: [Int64] = starts.map { s in
            var best = 0
            var bestValue = values(s)
            if bestValue.isNaN { return 0 }
            for i in 1..<max(n, 1) {
                let v = values(s + i * st)
                if v.isNaN { return Int64(i) }
                if isMax ? v > bestValue : v < bestValue {
                    best = i
                    bestValue = v
                }
            }
            return Int64(best)
        }
        return [try NDArray(vector: result).reshaped(outShape)]
    }
}

extension NDArray {
    /// Reads the element at a raw storage offset as `Double` (reference paths only).
    var doublesView: (Int) -> Double {
        let raw = storage.pointer
        switch dtype {
        case .float32: return { Double(raw.assumingMemoryBound(to: Float.self)[$0]) }
        case .float64: return { raw.assumingMemoryBound(to: Double.self)[$0] }
        case .int8: return { Double(raw.assumingMemoryBound(to: Int8.self)[$0]) }
        case .int16: return { Double(raw.assumingMemoryBound(to: Int16.self)[$0]) }
        case .int32: return { Double(raw.assumingMemoryBound(to: Int32.self)[$0]) }
        case .int64: return { Double(raw.assumingMemoryBound(to: Int64.self)[$0]) }
        case .uint8: return { Double(raw.assumingMemoryBound(to: UInt8.self)[$0]) }
        case .bool: return { raw.assumingMemoryBound(to: Bool.self)[$0] ? 1 : 0 }
        }
    }
}

/// Index of the maximum along `axis` (of the flattened tensor when nil).
///
/// ```swift
/// let prediction = argmax(p, axis: 1)
/// ```
public func argmax(_ x: Variable, axis: Int? = nil, keepdims: Bool = false) -> Variable {
    argReduce(x, isMax: true, axis: axis, keepdims: keepdims)
}

/// Index of the minimum along `axis` (of the flattened tensor when nil).
public func argmin(_ x: Variable, axis: Int? = nil, keepdims: Bool = false) -> Variable {
    argReduce(x, isMax: false, axis: axis, keepdims: keepdims)
}

private func argReduce(_ x: Variable, isMax: Bool, axis: Int?, keepdims: Bool) -> Variable {
    let a = axis.map { $0 < 0 ? $0 + x.ndim : $0 }
    let r = apply1(ArgReduce(isMax: isMax, axis: a), [x])
    guard keepdims else { return r }
    return a.map { keepDims(r, axes: [$0], ndim: x.ndim) } ?? keepDims(r, axes: Array(0..<x.ndim), ndim: x.ndim)
}

// MARK: - Native kernel (C/reduce.c)

extension ArgReduce: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.reduce, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? {
        ArgReduceKernel(fixed: code.fixed, op: self)
    }
}

extension ArgReduce {
    /// `x` as the contiguous (outer, n, inner) block its kernels read (flattened when the axis is
    /// nil), and the result's shape.
    func block(_ x: NDArray) throws -> (x: NDArray, outer: Int, n: Int, inner: Int, shape: [Int]) {
        let a = axis ?? 0
        let src = axis == nil ? try x.contiguous().reshaped([-1]) : x.contiguous()
        let shape = Array(src.shape[..<a]) + Array(src.shape[(a + 1)...])
        return (src, src.shape[..<a].reduce(1, *), src.shape[a], src.shape[(a + 1)...].reduce(1, *), shape)
    }
}

/// `argmax` / `argmin` of a float array through the native kernel.
struct ArgReduceKernel: Kernel {
    let fixed: FixedKernels
    let op: ArgReduce

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard x.count > 0, let f = fixed[x.dtype]?.argReduce else { return try op.perform(inputs) }
        let (src, outer, n, inner, shape) = try op.block(x)
        let out = try reusable(buffers, 0, shape: shape, dtype: .int64) ?? NDArray.empty(shape, dtype: .int64)
        withExtendedLifetime(src) {
            f(Int64(outer), Int64(n), Int64(inner), src.rawBase, out.basePointer(as: Int64.self), op.isMax ? 1 : 0)
        }
        return [out]
    }
}
