import NDArray

/// `C = A · B` for 2-d float or integer arrays: BLAS for float32/float64 (transposed views are
/// passed as transposes, not copied), a built-in loop otherwise.
func matmul(_ a: NDArray, _ b: NDArray, dtype: DType, useBLAS: Bool = true) throws -> NDArray {
    try gemm(a, b, dtype: dtype, useBLAS: useBLAS)
}

/// `alpha · A·B + beta · C` with a fresh output (C, when given, is copied first and must have
/// the product's shape); BLAS for floats.
func gemm(_ a: NDArray, _ b: NDArray, dtype: DType, alpha: Double = 1, beta: Double = 0, c: NDArray? = nil,
          useBLAS: Bool = true) throws -> NDArray {
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    guard b.shape[0] == k else {
        throw OpError("matrices are not aligned: (\(m), \(k)) · (\(b.shape[0]), \(n))", kind: .shape)
    }
    let out: NDArray
    if let c, beta != 0 {
        out = (c.dtype == dtype ? c : c.cast(to: dtype)).contiguous(forceCopy: true)
    } else {
        out = try NDArray.zeros([m, n], dtype: dtype)
    }
    if m == 0 || n == 0 || k == 0 { return out }
    let beta = c == nil ? 0 : beta
    let a = a.dtype == dtype ? a : a.cast(to: dtype)
    let b = b.dtype == dtype ? b : b.cast(to: dtype)
    if dtype.isFloat, useBLAS, let blas = BLAS.shared {
        let (pa, ta, lda) = blasOperand(a)
        let (pb, tb, ldb) = blasOperand(b)
        if dtype == .float32 {
            blas.sgemm(101, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha), pa.basePointer(as: Float.self), lda,
                       pb.basePointer(as: Float.self), ldb, Float(beta), out.basePointer(as: Float.self), Int32(n))
        } else {
            blas.dgemm(101, ta, tb, Int32(m), Int32(n), Int32(k), alpha, pa.basePointer(as: Double.self), lda,
                       pb.basePointer(as: Double.self), ldb, beta, out.basePointer(as: Double.self), Int32(n))
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
private func blasOperand(_ x: NDArray) -> (NDArray, Int32, Int32) {
    let r = x.shape[0], c = x.shape[1]
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
    let a = a.contiguous(), b = b.contiguous()
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let pa = a.basePointer(as: T.self), pb = b.basePointer(as: T.self), pc = out.basePointer(as: T.self)
    for i in 0..<m {
        for p in 0..<k {
            let s = pa[i * k + p]
            let row = pb + p * n, dst = pc + i * n
            for j in 0..<n { dst[j] += s * row[j] }
        }
    }
}

/// Integer products wrap on overflow, as NumPy's do.
private func naiveGemmInt(_ a: NDArray, _ b: NDArray, _ out: NDArray) {
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let pa = a.basePointer(as: Int64.self), pb = b.basePointer(as: Int64.self), pc = out.basePointer(as: Int64.self)
    for i in 0..<m {
        for p in 0..<k {
            let s = pa[i * k + p]
            for j in 0..<n { pc[i * n + j] = pc[i * n + j] &+ s &* pb[p * n + j] }
        }
    }
}
