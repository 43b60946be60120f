/// One axis of a basic index: a single position (the axis is dropped) or a strided range.
public enum AxisIndex: Hashable, Sendable {
    case at(Int)
    /// Python-style slice: `nil` bounds mean "from the start/to the end" for the step's direction.
    case range(start: Int?, stop: Int?, step: Int)
    public static let all = AxisIndex.range(start: nil, stop: nil, step: 1)
}

extension NDArray {
    /// A view selecting along each axis (trailing axes are kept whole). Indices may be negative;
    /// slice bounds are clipped as in Python.
    ///
    /// ```swift
    /// let rows = try a.sliced([.range(start: 10, stop: 20, step: 1)])   // no copy
    /// ```
    public func sliced(_ index: [AxisIndex]) throws(NDArrayError) -> NDArray {
        guard index.count <= ndim else {
            throw .indexOutOfRange("\(index.count) indices for an array of \(ndim) dimensions")
        }
        var newShape: [Int] = []
        var newStrides: [Int] = []
        var off = offset
        for axis in 0..<ndim {
            let n = shape[axis]
            let s = strides[axis]
            let entry = axis < index.count ? index[axis] : .all
            switch entry {
            case .at(let i):
                let j = i < 0 ? i + n : i
                guard j >= 0 && j < n else {
                    throw .indexOutOfRange("index \(i) is out of bounds for axis \(axis) with size \(n)")
                }
                off += j * s
            case .range(let start, let stop, let step):
                guard step != 0 else { throw .indexOutOfRange("slice step cannot be zero") }
                let (b, len) = NDArray.sliceBounds(n: n, start: start, stop: stop, step: step)
                if len > 0 { off += b * s }
                newShape.append(len)
                newStrides.append(s * step)
            }
        }
        return NDArray(storage: storage, dtype: dtype, shape: newShape, strides: newStrides, offset: off)
    }

    /// Python's `slice.indices` + length: the first index and the element count.
    public static func sliceBounds(n: Int, start: Int?, stop: Int?, step: Int) -> (start: Int, count: Int) {
        func clip(_ v: Int, _ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(v, lo), hi) }
        if step > 0 {
            let b = start.map { clip($0 < 0 ? $0 + n : $0, 0, n) } ?? 0
            let e = stop.map { clip($0 < 0 ? $0 + n : $0, 0, n) } ?? n
            return (b, e > b ? (e - b + step - 1) / step : 0)
        } else {
            let b = start.map { clip($0 < 0 ? $0 + n : $0, -1, n - 1) } ?? n - 1
            let e = stop.map { clip($0 < 0 ? $0 + n : $0, -1, n - 1) } ?? -1
            return (b, b > e ? (b - e - step - 1) / (-step) : 0)
        }
    }

    /// A view with axes reordered: result axis `i` is `self`'s axis `axes[i]`.
    public func permuted(_ axes: [Int]) throws(NDArrayError) -> NDArray {
        guard axes.count == ndim, Set(axes) == Set(0..<ndim) else {
            throw .invalidShape("\(axes) is not a permutation of the \(ndim) axes")
        }
        return NDArray(
            storage: storage, dtype: dtype, shape: axes.map { shape[$0] },
            strides: axes.map { strides[$0] }, offset: offset)
    }

    /// The transpose (axes reversed), as a view.
    public func transposed() -> NDArray {
        NDArray(storage: storage, dtype: dtype, shape: shape.reversed(), strides: strides.reversed(), offset: offset)
    }

    /// A view broadcast to `target` by NumPy's rules (stride 0 on repeated axes).
    public func broadcast(to target: [Int]) throws(NDArrayError) -> NDArray {
        guard target.count >= ndim else {
            throw .shapeMismatch("cannot broadcast shape \(shape) to \(target)")
        }
        let lead = target.count - ndim
        var newStrides = [Int](repeating: 0, count: target.count)
        for i in 0..<ndim {
            if shape[i] == target[lead + i] {
                newStrides[lead + i] = strides[i]
            } else if shape[i] != 1 {
                throw .shapeMismatch("cannot broadcast shape \(shape) to \(target)")
            }
        }
        return NDArray(storage: storage, dtype: dtype, shape: target, strides: newStrides, offset: offset)
    }

    /// The NumPy broadcast of several shapes.
    public static func broadcastShapes(_ shapes: [[Int]]) throws(NDArrayError) -> [Int] {
        let nd = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: nd)
        for s in shapes {
            let lead = nd - s.count
            for (i, n) in s.enumerated() {
                let j = lead + i
                if out[j] == 1 {
                    out[j] = n
                } else if n != 1 && n != out[j] {
                    throw .shapeMismatch(
                        "shapes \(shapes.map { "\($0)" }.joined(separator: ", ")) cannot be broadcast together")
                }
            }
        }
        return out
    }

    /// Same elements with a new shape; one dimension may be -1 (inferred). A view when possible.
    public func reshaped(_ newShape: [Int]) throws(NDArrayError) -> NDArray {
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1, !target.contains(where: { $0 < -1 }) else {
            throw .invalidShape("cannot reshape \(shape) to \(newShape)")
        }
        if let u = unknown.first {
            let known = target.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
            guard known != 0, count % known == 0 else {
                throw .shapeMismatch("cannot reshape array of size \(count) into shape \(newShape)")
            }
            target[u] = count / known
        }
        guard target.reduce(1, *) == count else {
            throw .shapeMismatch("cannot reshape array of size \(count) into shape \(newShape)")
        }
        let base = contiguous()
        return NDArray(
            storage: base.storage, dtype: dtype, shape: target,
            strides: NDArray.contiguousStrides(target), offset: base.offset)
    }

    /// A view with a length-1 axis inserted at `axis`.
    public func expandingDims(at axis: Int) throws(NDArrayError) -> NDArray {
        let a = axis < 0 ? axis + ndim + 1 : axis
        guard a >= 0 && a <= ndim else { throw .indexOutOfRange("axis \(axis) for expandDims of \(ndim)-d array") }
        var sh = shape
        var st = strides
        sh.insert(1, at: a)
        st.insert(0, at: a)
        return NDArray(storage: storage, dtype: dtype, shape: sh, strides: st, offset: offset)
    }

    /// A view of the same storage with explicit shape, strides (in elements) and offset; throws
    /// when some element would fall outside the storage.
    public func view(shape: [Int], strides: [Int], offset: Int? = nil) throws(NDArrayError) -> NDArray {
        guard shape.count == strides.count else {
            throw .invalidShape("shape \(shape) and strides \(strides) differ in length")
        }
        try NDArray.validate(shape: shape)
        let off = offset ?? self.offset
        let capacity = storage.byteCount / dtype.itemSize
        if !shape.contains(0) {
            var lo = off
            var hi = off
            for (n, s) in zip(shape, strides) { if s > 0 { hi += (n - 1) * s } else { lo += (n - 1) * s } }
            guard lo >= 0 && hi < Swift.max(capacity, 1) else {
                throw .indexOutOfRange("view \(shape) with strides \(strides) exceeds the storage")
            }
        }
        return NDArray(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: off)
    }
}
