import NDArray

/// The float types the convolution and pooling kernels run on, with their BLAS GEMM.
protocol ConvFloat: BinaryFloatingPoint, NDElement {
    /// Row-major `C = A·B + beta·C` with optional transposes, through BLAS when loaded.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: ConvFloat {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if let blas = BLAS.shared {
            blas.sgemm(
                101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            loopGemm(
                transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                ldc: ldc)
        }
    }
}

extension Double: ConvFloat {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if let blas = BLAS.shared {
            blas.dgemm(
                101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            loopGemm(
                transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                ldc: ldc)
        }
    }
}

/// GEMM without a BLAS library (the loader has already warned that products will be slow).
private func loopGemm<T: BinaryFloatingPoint>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int,
    b: UnsafePointer<T>, ldb: Int, beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    for i in 0..<m {
        let row = c + i * ldc
        for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
        for p in 0..<k {
            let s = transA ? a[p * lda + i] : a[i * lda + p]
            if transB {
                for j in 0..<n { row[j] += s * b[j * ldb + p] }
            } else {
                let br = b + p * ldb
                for j in 0..<n { row[j] += s * br[j] }
            }
        }
    }
}

/// im2col and col2im: the lowering that turns a convolution into one GEMM per group of images.
///
/// The lowered matrix of images `n0 ..< n0+g` has one row per (channel, filter row, filter
/// column) and one column per (image, output row, output column); entry = the input pixel the
/// filter tap sees there (zero in the padding).
enum Lowering {
    /// Writes the lowered matrix of `g` images starting at `n0` into `cols` (patch × g·pixels).
    static func im2col<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ s: ConvShape, n0: Int, g: Int, into cols: UnsafeMutablePointer<T>
    ) {
        let ld = g * s.pixels
        parallelChunks(g * s.channels, work: s.patch * ld) { units in
            for u in units {
                let l = u / s.channels
                let c = u % s.channels
                let plane = x + ((n0 + l) * s.channels + c) * s.height * s.width
                for a in 0..<s.kh {
                    for b in 0..<s.kw {
                        let dst = cols + ((c * s.kh + a) * s.kw + b) * ld + l * s.pixels
                        let (j0, j1, x0) = validColumns(s, tap: b)
                        for i in 0..<s.outH {
                            let out = dst + i * s.outW
                            let y = i * s.strideH + a * s.dilH - s.padH
                            guard y >= 0 && y < s.height else {
                                out.update(repeating: 0, count: s.outW)
                                continue
                            }
                            let src = plane + y * s.width + x0
                            if j0 > 0 { out.update(repeating: 0, count: j0) }
                            // A loop, not memmove: rows are often a few pixels (8 in LeNet's second layer).
                            if s.strideW == 1 {
                                for j in j0..<j1 { out[j] = src[j] }
                            } else {
                                for j in j0..<j1 { out[j] = src[j * s.strideW] }
                            }
                            if j1 < s.outW { (out + j1).update(repeating: 0, count: s.outW - j1) }
                        }
                    }
                }
            }
        }
    }

    /// Adds the lowered matrix `cols` back onto images `n0 ..< n0+g` of `dx` (the adjoint of
    /// ``im2col``; overlapping taps accumulate).
    static func col2im<T: ConvFloat>(
        _ cols: UnsafePointer<T>, _ s: ConvShape, n0: Int, g: Int, into dx: UnsafeMutablePointer<T>
    ) {
        let ld = g * s.pixels
        parallelChunks(g * s.channels, work: s.patch * ld) { units in
            for u in units {
                let l = u / s.channels
                let c = u % s.channels
                let plane = dx + ((n0 + l) * s.channels + c) * s.height * s.width
                for a in 0..<s.kh {
                    for b in 0..<s.kw {
                        let src = cols + ((c * s.kh + a) * s.kw + b) * ld + l * s.pixels
                        let (j0, j1, x0) = validColumns(s, tap: b)
                        for i in 0..<s.outH {
                            let y = i * s.strideH + a * s.dilH - s.padH
                            guard y >= 0 && y < s.height else { continue }
                            let dst = plane + y * s.width + x0
                            let row = src + i * s.outW
                            for j in j0..<j1 { dst[j * s.strideW] += row[j] }
                        }
                    }
                }
            }
        }
    }

    /// The output columns `j0 ..< j1` whose tap `b` falls inside the image, and the input column
    /// of output column 0 (`x = x0 + j·stride`).
    @inline(__always)
    private static func validColumns(_ s: ConvShape, tap b: Int) -> (Int, Int, Int) {
        let x0 = b * s.dilW - s.padW
        // x0 + j·stride ≥ 0  and  x0 + j·stride < width
        let j0 = x0 >= 0 ? 0 : min(s.outW, (-x0 + s.strideW - 1) / s.strideW)
        let j1 = x0 >= s.width ? 0 : max(j0, min(s.outW, (s.width - x0 + s.strideW - 1) / s.strideW))
        return (j0, j1, x0)
    }
}
