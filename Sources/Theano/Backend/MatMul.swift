import NDArray

/// `C = A · B` for 2-d float or integer arrays: BLAS for float32/float64 (transposed views are
/// passed as transposes, not copied), a built-in loop otherwise.
func matmul(_ a: NDArray, _ b: NDArray, dtype: DType, useBLAS: Bool = true) throws -> NDArray {
    try gemm(a, b, dtype: dtype, useBLAS: useBLAS)
}

/// `alpha · A·B + beta · C` with a fresh output (C, when given, is copied first and must have
/// the product's shape); BLAS for floats, or ``NarrowProduct`` / ``ShortProduct`` for products with a
/// narrow or a minibatch side.
func gemm(
    _ a: NDArray, _ b: NDArray, dtype: DType, alpha: Double = 1, beta: Double = 0, c: NDArray? = nil,
    useBLAS: Bool = true, into buffer: NDArray? = nil
) throws -> NDArray {
    let m = a.shape[0]
    let k = a.shape[1]
    let n = b.shape[1]
    guard b.shape[0] == k else {
        throw OpError("matrices are not aligned: (\(m), \(k)) · (\(b.shape[0]), \(n))", kind: .shape)
    }
    let out: NDArray
    let blasWillRun = dtype.isFloat && useBLAS && BLAS.shared != nil && m > 0 && n > 0 && k > 0
    if let buffer = reusable([buffer], 0, shape: [m, n], dtype: dtype), (c != nil && beta != 0) || blasWillRun {
        // A buffer from an earlier call: C is copied into it, or BLAS overwrites it (beta 0).
        if let c, beta != 0,
            !(c.sharesStorage(with: buffer) && c.offset == buffer.offset && c.strides == buffer.strides)
        {
            c.write(into: buffer)
        }
        out = buffer
    } else if let c, beta != 0 {
        out = (c.dtype == dtype ? c : c.cast(to: dtype)).contiguous(forceCopy: true)
    } else {
        out = try NDArray.zeros([m, n], dtype: dtype)
    }
    if m == 0 || n == 0 || k == 0 { return out }
    let beta = c == nil ? 0 : beta
    let a = a.dtype == dtype ? a : a.cast(to: dtype)
    let b = b.dtype == dtype ? b : b.cast(to: dtype)
    if dtype.isFloat, useBLAS, NarrowProduct.run(a, b, into: out, alpha: alpha, beta: beta, dtype: dtype) { return out }
    if dtype.isFloat, useBLAS, ShortProduct.run(a, b, into: out, alpha: alpha, beta: beta, dtype: dtype) { return out }
    if dtype.isFloat, useBLAS, let blas = BLAS.shared {
        let (pa, ta, lda) = blasOperand(a)
        let (pb, tb, ldb) = blasOperand(b)
        // The operands (possibly copies made just above) must outlive the raw pointers.
        withExtendedLifetime((pa, pb, out)) {
            if dtype == .float32 {
                blas.sgemm(
                    101, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha), pa.basePointer(as: Float.self), lda,
                    pb.basePointer(as: Float.self), ldb, Float(beta), out.basePointer(as: Float.self), Int32(n))
            } else {
                blas.dgemm(
                    101, ta, tb, Int32(m), Int32(n), Int32(k), alpha, pa.basePointer(as: Double.self), lda,
                    pb.basePointer(as: Double.self), ldb, beta, out.basePointer(as: Double.self), Int32(n))
            }
        }
        return out
    }
    let product: NDArray
    switch dtype {
    case .float32, .float64:
        product = try NDArray.zeros([m, n], dtype: dtype)
        if dtype == .float32 { naiveGemm(Float.self, a, b, product) } else { naiveGemm(Double.self, a, b, product) }
    default:
        let r = try NDArray.zeros([m, n], dtype: .int64)
        naiveGemmInt(a.cast(to: .int64), b.cast(to: .int64), r)
        product = r.cast(to: dtype)
    }
    if alpha == 1 && beta == 0 { return product }
    // Without BLAS: alpha·P + beta·C elementwise.
    let scaled = try Elemwise(Mul()).perform([product, NDArray(scalar: alpha, dtype: dtype)])[0]
    guard beta != 0 else { return scaled }
    let kept = try Elemwise(Mul()).perform([out, NDArray(scalar: beta, dtype: dtype)])[0]
    return try Elemwise(Add()).perform([scaled, kept])[0]
}

/// The array as BLAS wants it: row-major with a leading dimension (111 = no transpose), or a
/// transposed row-major block (112); anything else is copied first.
func blasOperand(_ x: NDArray) -> (NDArray, Int32, Int32) {
    let r = x.shape[0]
    let c = x.shape[1]
    if (x.strides[1] == 1 || c == 1) && x.strides[0] >= max(c, 1) && x.strides[0] > 0 {
        return (x, 111, Int32(x.strides[0]))
    }
    if (x.strides[0] == 1 || r == 1) && x.strides[1] >= max(r, 1) && x.strides[1] > 0 {
        return (x, 112, Int32(x.strides[1]))
    }
    let copy = x.contiguous(forceCopy: true)
    return (copy, 111, Int32(max(c, 1)))
}

private func naiveGemm<T: NDElement & FloatingPoint>(_: T.Type, _ a: NDArray, _ b: NDArray, _ out: NDArray) {
    let a = a.contiguous()
    let b = b.contiguous()
    let m = a.shape[0]
    let k = a.shape[1]
    let n = b.shape[1]
    let pa = a.basePointer(as: T.self)
    let pb = b.basePointer(as: T.self)
    let pc = out.basePointer(as: T.self)
    for i in 0..<m {
        for p in 0..<k {
            let s = pa[i * k + p]
            let row = pb + p * n
            let dst = pc + i * n
            for j in 0..<n { dst[j] += s * row[j] }
        }
    }
}

/// Integer products wrap on overflow, as NumPy's do.
private func naiveGemmInt(_ a: NDArray, _ b: NDArray, _ out: NDArray) {
    let m = a.shape[0]
    let k = a.shape[1]
    let n = b.shape[1]
    let pa = a.basePointer(as: Int64.self)
    let pb = b.basePointer(as: Int64.self)
    let pc = out.basePointer(as: Int64.self)
    for i in 0..<m {
        for p in 0..<k {
            let s = pa[i * k + p]
            for j in 0..<n { pc[i * n + j] = pc[i * n + j] &+ s &* pb[p * n + j] }
        }
    }
}

/// Products up to this many elements of A run ``smallGemv(_:rows:columns:rowStride:columnStride:_:_:alpha:beta:)``.
let smallGemvLimit = 8192

/// `beta · y + alpha · A·x` (y already broadcast to A's rows); BLAS gemv for floats, else gemm.
func gemv(_ a: NDArray, _ x: NDArray, y: NDArray, alpha: Double, beta: Double, dtype: DType) throws -> NDArray {
    let m = a.shape[0]
    let k = a.shape[1]
    guard x.shape[0] == k, y.shape == [m] else {
        throw OpError("gemv shapes do not fit: A \(a.shape), x \(x.shape), y \(y.shape)", kind: .shape)
    }
    let out: NDArray
    if beta == 0 {
        out = try NDArray.zeros([m], dtype: dtype)
    } else if m > 0, y.strides == [0], dtype.isFloat {
        // One value repeated (a scalar bias): fill it instead of copying a broadcast view.
        out = try NDArray.empty([m], dtype: dtype)
        let v = try y.element(at: [0])
        if dtype == .float32 {
            out.basePointer(as: Float.self).update(repeating: Float(v), count: m)
        } else {
            out.basePointer(as: Double.self).update(repeating: v, count: m)
        }
    } else {
        out = (y.dtype == dtype ? y : y.cast(to: dtype)).contiguous(forceCopy: true)
    }
    if m == 0 { return out }
    let xs = x.contiguous()
    // Tiny products: a plain loop costs less than entering the BLAS library (~2 µs).
    if dtype.isFloat, m * k <= smallGemvLimit, a.dtype == dtype, xs.dtype == dtype {
        if dtype == .float32 {
            smallGemv(Float.self, a, xs, out, alpha: alpha, beta: beta)
        } else {
            smallGemv(Double.self, a, xs, out, alpha: alpha, beta: beta)
        }
        return out
    }
    if let blas = BLAS.shared, dtype.isFloat, k > 0 {
        let (pa, ta, lda) = blasOperand(a)
        // Row-major (m, k) with no transpose, or a transposed (k, m) block: gemv's own transpose flag.
        let (rows, cols) = ta == 111 ? (m, k) : (k, m)
        if dtype == .float32, let f = blas.sgemv {
            f(
                101, ta, Int32(rows), Int32(cols), Float(alpha), pa.basePointer(as: Float.self), lda,
                xs.basePointer(as: Float.self), 1, Float(beta), out.basePointer(as: Float.self), 1)
            return out
        }
        if dtype == .float64, let f = blas.dgemv {
            f(
                101, ta, Int32(rows), Int32(cols), alpha, pa.basePointer(as: Double.self), lda,
                xs.basePointer(as: Double.self), 1, beta, out.basePointer(as: Double.self), 1)
            return out
        }
    }
    let product = try gemm(
        a, try xs.reshaped([k, 1]), dtype: dtype, alpha: alpha, beta: beta, c: try out.reshaped([m, 1]))
    return try product.reshaped([m])
}

/// `out = alpha · A x + beta · out` for a small A of any strides: for a transposed
/// (column-major) A, one scaled column added at a time, which vectorises along the column;
/// otherwise one dot product per row, with four partial sums so the adds do not wait on each other.
private func smallGemv<T: BinaryFloatingPoint & NDElement & SIMDScalar>(
    _: T.Type, _ a: NDArray, _ x: NDArray, _ out: NDArray,
    alpha: Double, beta: Double
) {
    smallGemv(
        a.basePointer(as: T.self), rows: a.shape[0], columns: a.shape[1], rowStride: a.strides[0],
        columnStride: a.strides[1],
        x.basePointer(as: T.self), out.basePointer(as: T.self), alpha: T(alpha), beta: T(beta))
}

/// ``smallGemv(_:_:_:_:alpha:beta:)`` on raw pointers (strides in elements; x contiguous), for
/// callers that planned the layout once.
func smallGemv<T: BinaryFloatingPoint & SIMDScalar>(
    _ pa: UnsafePointer<T>, rows m: Int, columns k: Int, rowStride rs: Int, columnStride cs: Int,
    _ px: UnsafePointer<T>, _ po: UnsafeMutablePointer<T>, alpha al: T, beta be: T
) {
    if cs == 1 {
        for i in 0..<m {
            let acc = dotContiguous(pa + i * rs, px, k)
            po[i] = be == 0 ? al * acc : al * acc + be * po[i]
        }
        return
    }
    if m > 1 && rs == 1 {
        for i in 0..<m { po[i] = be == 0 ? 0 : be * po[i] }
        for j in 0..<k {
            let s = al * px[j]
            let column = pa + j * cs
            for i in 0..<m { po[i] += s * column[i] }
        }
        return
    }
    for i in 0..<m {
        let row = pa + i * rs
        var s0: T = 0
        var s1: T = 0
        var s2: T = 0
        var s3: T = 0
        var j = 0
        while j + 4 <= k {
            s0 += row[j * cs] * px[j]
            s1 += row[(j + 1) * cs] * px[j + 1]
            s2 += row[(j + 2) * cs] * px[j + 2]
            s3 += row[(j + 3) * cs] * px[j + 3]
            j += 4
        }
        while j < k {
            s0 += row[j * cs] * px[j]
            j += 1
        }
        let acc = (s0 + s1) + (s2 + s3)
        po[i] = be == 0 ? al * acc : al * acc + be * po[i]
    }
}

/// The dot product of two contiguous runs, eight lanes at a time in two accumulators.
@inline(__always)
private func dotContiguous<T: BinaryFloatingPoint & SIMDScalar>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int
) -> T {
    var acc0 = SIMD8<T>()
    var acc1 = SIMD8<T>()
    var j = 0
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    let lane = MemoryLayout<T>.stride
    while j + 16 <= n {
        let a0: SIMD8<T> = ra.loadUnaligned(fromByteOffset: j * lane, as: SIMD8<T>.self)
        let b0: SIMD8<T> = rb.loadUnaligned(fromByteOffset: j * lane, as: SIMD8<T>.self)
        let a1: SIMD8<T> = ra.loadUnaligned(fromByteOffset: (j + 8) * lane, as: SIMD8<T>.self)
        let b1: SIMD8<T> = rb.loadUnaligned(fromByteOffset: (j + 8) * lane, as: SIMD8<T>.self)
        acc0 += a0 * b0
        acc1 += a1 * b1
        j += 16
    }
    var sum = (acc0 + acc1).sum()
    while j < n {
        sum += a[j] * b[j]
        j += 1
    }
    return sum
}

/// `A + alpha · x yᵀ` on a fresh copy of A; BLAS ger for floats.
func ger(_ a: NDArray, alpha: Double, _ x: NDArray, _ y: NDArray, dtype: DType) throws -> NDArray {
    let m = x.shape[0]
    let n = y.shape[0]
    guard a.shape == [m, n] else {
        throw OpError("ger shapes do not fit: A \(a.shape), x \(x.shape), y \(y.shape)", kind: .shape)
    }
    let out = (a.dtype == dtype ? a : a.cast(to: dtype)).contiguous(forceCopy: true)
    if m == 0 || n == 0 { return out }
    let xs = x.contiguous()
    let ys = y.contiguous()
    if let blas = BLAS.shared, dtype == .float32, let f = blas.sger {
        f(
            101, Int32(m), Int32(n), Float(alpha), xs.basePointer(as: Float.self), 1, ys.basePointer(as: Float.self), 1,
            out.basePointer(as: Float.self), Int32(n))
        return out
    }
    if let blas = BLAS.shared, dtype == .float64, let f = blas.dger {
        f(
            101, Int32(m), Int32(n), alpha, xs.basePointer(as: Double.self), 1, ys.basePointer(as: Double.self), 1,
            out.basePointer(as: Double.self), Int32(n))
        return out
    }
    return try gemm(try xs.reshaped([m, 1]), try ys.reshaped([1, n]), dtype: dtype, alpha: alpha, beta: 1, c: out)
}
