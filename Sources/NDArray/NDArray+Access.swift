extension NDArray {
    /// All elements in row-major order, converted to `T`.
    ///
    /// ```swift
    /// try NDArray([1, 2, 3] as [Int32]).scalars(as: Double.self)   // [1.0, 2.0, 3.0]
    /// ```
    public func scalars<T: NDElement>(as: T.Type) -> [T] {
        let c = T.dtype == dtype ? contiguous() : cast(to: T.dtype)
        let p = c.storage.readPointer.assumingMemoryBound(to: T.self) + c.offset
        return Array(UnsafeBufferPointer(start: p, count: c.count))
    }

    /// Elements as `Double`, row-major.
    public var doubles: [Double] { scalars(as: Double.self) }

    /// The single element of a one-element array, as `Double`.
    public func item() throws(NDArrayError) -> Double {
        guard count == 1 else { throw .shapeMismatch("item() needs one element, array has shape \(shape)") }
        // The one element sits at `offset` whatever the strides; read it without building an array.
        return dtype.visit(ReadVisitor(raw: storage.readPointer, offset: offset))
    }

    /// The element at `indices` (negative indices count from the end), as `Double`.
    public func element(at indices: [Int]) throws(NDArrayError) -> Double {
        let off = try elementOffset(indices)
        return dtype.visit(ReadVisitor(raw: storage.readPointer, offset: off))
    }

    /// Sets the element at `indices` (copying first if the storage is shared).
    public mutating func setElement(at indices: [Int], to value: Double) throws(NDArrayError) {
        _ = try elementOffset(indices)
        makeUnique()
        let off = try elementOffset(indices)
        dtype.visit(WriteVisitor(raw: storage.pointer, offset: off, value: value))
    }

    func elementOffset(_ indices: [Int]) throws(NDArrayError) -> Int {
        guard indices.count == ndim else {
            throw .indexOutOfRange("\(indices.count) indices for an array of \(ndim) dimensions")
        }
        var off = offset
        for (axis, i) in indices.enumerated() {
            let j = i < 0 ? i + shape[axis] : i
            guard j >= 0 && j < shape[axis] else {
                throw .indexOutOfRange("index \(i) for axis \(axis) of length \(shape[axis])")
            }
            off += j * strides[axis]
        }
        return off
    }

    /// A C-contiguous array with the same elements: `self` when already contiguous and not forced.
    public func contiguous(forceCopy: Bool = false) -> NDArray {
        if !forceCopy && isContiguous { return self }
        return cast(to: dtype, forceCopy: true)
    }

    /// A contiguous copy converted to `dtype` (NumPy's `astype`: floats truncate toward zero
    /// when cast to integers; NaN and out-of-range values give 0 or the nearest bound).
    public func cast(to dtype: DType, forceCopy: Bool = false) -> NDArray {
        if dtype == self.dtype && !forceCopy && isContiguous { return self }
        let out = NDArray(uninitialized: shape, dtype: dtype)
        copyConverting(into: out)
        return out
    }

    /// A contiguous array of `dtype` whose elements are `f` of this array's elements.
    ///
    /// ```swift
    /// let pixels = bytes.mapElements(to: .float32) { $0 / 256 }
    /// ```
    public func mapElements(to dtype: DType, _ f: (Double) -> Double) -> NDArray {
        let src = contiguous()
        var out = NDArray(uninitialized: shape, dtype: dtype)
        let read = src.dtype.visit(DoubleReader(raw: src.storage.readPointer, offset: src.offset))
        out.withMutableElements(as: Double.self) { f(read($0)) }
        return out
    }

    /// Writes `self`'s elements, converted, into `out`, which has the same shape (or one `self`
    /// broadcasts to).
    func copyConverting(into out: NDArray) {
        if dtype == out.dtype, shape == out.shape, isContiguous, out.isContiguous {
            (out.storage.pointer + out.offset * dtype.itemSize)
                .copyMemory(from: storage.readPointer + offset * dtype.itemSize, byteCount: count * dtype.itemSize)
            return
        }
        let src = self.ndim == out.ndim ? self : (try? self.broadcast(to: out.shape)) ?? self
        self.dtype.visit(CopyOuter(src: src, dst: out))
    }
}

private struct DoubleReader: DTypeVisitor {
    let raw: UnsafeMutableRawPointer, offset: Int
    func visit<T: NDElement>(_: T.Type) -> (Int) -> Double {
        let p = raw.assumingMemoryBound(to: T.self) + offset
        return { p[$0].doubleValue }
    }
}

private struct ReadVisitor: DTypeVisitor {
    let raw: UnsafeMutableRawPointer, offset: Int
    func visit<T: NDElement>(_: T.Type) -> Double { raw.assumingMemoryBound(to: T.self)[offset].doubleValue }
}

private struct WriteVisitor: DTypeVisitor {
    let raw: UnsafeMutableRawPointer, offset: Int, value: Double
    func visit<T: NDElement>(_: T.Type) { raw.assumingMemoryBound(to: T.self)[offset] = T(double: value) }
}

private struct CopyOuter: DTypeVisitor {
    let src: NDArray, dst: NDArray
    func visit<T: NDElement>(_: T.Type) { dst.dtype.visit(CopyInner<T>(src: src, dst: dst)) }
}

private struct CopyInner<T: NDElement>: DTypeVisitor {
    let src: NDArray, dst: NDArray
    func visit<U: NDElement>(_: U.Type) {
        let s = src.storage.readPointer.assumingMemoryBound(to: T.self)
        let d = dst.storage.pointer.assumingMemoryBound(to: U.self)
        StridedLoop(shape: dst.shape, strides: [src.strides, dst.strides])
            .forEachRow(offsets: [src.offset, dst.offset]) { o, n, st in
                var i = o[0]
                var j = o[1]
                let si = st[0]
                let sj = st[1]
                if T.self == U.self && si == 1 && sj == 1 {
                    UnsafeMutableRawPointer(d + j).copyMemory(from: s + i, byteCount: n * MemoryLayout<T>.stride)
                    return
                }
                for _ in 0..<n {
                    d[j] = convertElement(s[i], to: U.self)
                    i += si
                    j += sj
                }
            }
    }
}
