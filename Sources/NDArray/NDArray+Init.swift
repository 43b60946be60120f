extension NDArray {
    /// An array holding `values` in row-major order with the given shape (default: 1-D).
    ///
    /// ```swift
    /// let m = try NDArray([1, 2, 3, 4] as [Double], shape: [2, 2])
    /// ```
    public init<T: NDElement>(_ values: [T], shape: [Int]? = nil) throws(NDArrayError) {
        let shape = shape ?? [values.count]
        try NDArray.validate(shape: shape)
        guard shape.reduce(1, *) == values.count else {
            throw .shapeMismatch("\(values.count) values cannot fill shape \(shape)")
        }
        self.init(uninitialized: shape, dtype: T.dtype)
        let p = basePointer(as: T.self)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.update(from: base, count: values.count) }
        }
    }

    /// A 1-d array of `values` (cannot fail, unlike the shaped initialiser).
    public init<T: NDElement>(vector values: [T]) {
        self.init(uninitialized: [values.count], dtype: T.dtype)
        let p = basePointer(as: T.self)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.update(from: base, count: values.count) }
        }
    }

    /// A 0-d array holding one value.
    public init<T: NDElement>(scalar value: T) {
        self.init(uninitialized: [], dtype: T.dtype)
        basePointer(as: T.self).pointee = value
    }

    /// A 0-d array of `dtype` holding `value` converted to that dtype.
    public init(scalar value: Double, dtype: DType) {
        self.init(uninitialized: [], dtype: dtype)
        dtype.visit(FillVisitor(raw: storage.pointer, offset: 0, count: 1, make: { _ in value }))
    }

    /// An array filled with `value`.
    public static func full(_ shape: [Int], value: Double, dtype: DType) throws(NDArrayError) -> NDArray {
        var a = try NDArray(zeros: shape, dtype: dtype)
        if value != 0 || value.sign == .minus { a.fill(with: value) }  // -0.0 and NaN are filled too
        return a
    }

    /// A C-contiguous array whose contents are unspecified (NumPy's `empty`): for results that
    /// are written in full before being read, without paying to zero them first.
    public static func empty(_ shape: [Int], dtype: DType) throws(NDArrayError) -> NDArray {
        try NDArray(checkedUninitialized: shape, dtype: dtype)
    }

    /// A zero-filled array.
    public static func zeros(_ shape: [Int], dtype: DType) throws(NDArrayError) -> NDArray {
        try NDArray(zeros: shape, dtype: dtype)
    }

    /// A one-filled array.
    public static func ones(_ shape: [Int], dtype: DType) throws(NDArrayError) -> NDArray {
        try full(shape, value: 1, dtype: dtype)
    }

    /// `[start, start + step, …)` below `stop`, as NumPy's `arange`.
    public static func arange(
        _ start: Double, _ stop: Double, step: Double = 1, dtype: DType
    ) throws(NDArrayError) -> NDArray {
        guard step != 0 else { throw .invalidShape("arange step must not be zero") }
        let length = ((stop - start) / step).rounded(.up)
        guard length.isFinite, length < 1e12 else {
            throw .invalidShape("arange(\(start), \(stop), step: \(step)) has no finite length")
        }
        let n = Swift.max(0, Int(length))
        var a = NDArray(uninitialized: [n], dtype: dtype)
        a.withMutableElements(as: Double.self) { i in start + Double(i) * step }
        return a
    }

    /// Sets every element to `value` (converted to the dtype).
    public mutating func fill(with value: Double) {
        withMutableElements(as: Double.self) { _ in value }
    }

    /// Sets the i-th element (row-major) to `make(i)`, converted to the dtype.
    public mutating func fillElements(_ make: (Int) -> Double) {
        withMutableElements(as: Double.self, make)
    }

    /// Writes `make(i)` converted to the dtype into the i-th element in row-major order.
    mutating func withMutableElements(as: Double.Type, _ make: (Int) -> Double) {
        makeUnique()
        let n = count
        withoutActuallyEscaping(make) { make in
            dtype.visit(FillVisitor(raw: storage.pointer, offset: offset, count: n, make: make))
        }
    }
}

private struct FillVisitor: DTypeVisitor {
    let raw: UnsafeMutableRawPointer, offset: Int, count: Int
    let make: (Int) -> Double
    func visit<T: NDElement>(_: T.Type) {
        let p = raw.assumingMemoryBound(to: T.self) + offset
        for i in 0..<count { p[i] = T(double: make(i)) }
    }
}
