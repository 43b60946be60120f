import NDArray

// The CUDA kernels of ``Dot``, ``Gemm``, ``Gemv`` and ``Ger``: one cuBLAS GEMM each, a vector being
// a one-row or one-column matrix (ger's outer product is a GEMM with an inner size of 1).
// Operands cuBLAS cannot take as they are (broadcast, or strided both ways) and mixed dtypes run
// on the host, which brings them back.

extension Dot: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let (a, b) = (node.inputs[0].type, node.inputs[1].type)
        guard a.dtype == b.dtype, a.dtype.isFloat, a.ndim <= 2, b.ndim <= 2 else { return nil }
        return ProductDeviceKernel(op: self, runtime: runtime, accumulates: false)
    }
}

extension Gemm: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        ProductDeviceKernel(op: self, runtime: runtime, accumulates: true)
    }
}

extension Gemv: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        ProductDeviceKernel(op: self, runtime: runtime, accumulates: true)
    }
}

extension Ger: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        ProductDeviceKernel(op: self, runtime: runtime, accumulates: true, outer: true)
    }
}

/// A matrix operand as cuBLAS takes it: row-major, maybe transposed, with its leading dimension.
private struct MatrixOperand {
    let transposed: Bool
    let ld: Int

    /// `a` as a `rows` × `cols` matrix (a vector as one row or one column), or nil when its
    /// strides do not allow one (broadcast, or strided both ways).
    init?(_ a: NDArray, rows: Int, cols: Int) {
        let (s0, s1) = a.ndim == 2 ? (a.strides[0], a.strides[1]) : rows == 1 ? (cols, a.strides[0]) : (a.strides[0], 1)
        if (cols == 1 || s1 == 1) && (rows == 1 || s0 >= max(cols, 1)) {
            (transposed, ld) = (false, rows == 1 ? max(cols, 1) : s0)
        } else if (rows == 1 || s0 == 1) && (cols == 1 || s1 >= max(rows, 1)) {
            (transposed, ld) = (true, cols == 1 ? max(rows, 1) : s1)
        } else {
            return nil
        }
    }
}

/// `dot(A, B)`, or `beta · C + alpha · dot(A, B)` with C (inputs C, alpha, A, B, beta; for ger
/// A, alpha, x, y and a beta of 1) updated in its own device memory when the VM hands it over.
struct ProductDeviceKernel: Kernel, @unchecked Sendable {
    let op: any Op
    let runtime: any DeviceRuntime
    let accumulates: Bool
    /// Ger: the outer product of two vectors, x as a column and y as a row.
    var outer = false
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let (a, b) = accumulates ? (inputs[2], inputs[3]) : (inputs[0], inputs[1])
        let c = accumulates ? inputs[0] : nil
        let rows = outer ? a.count : a.ndim == 2 ? a.shape[0] : 1
        let k = outer ? 1 : a.shape[a.ndim - 1]
        let cols = outer ? b.count : b.ndim == 2 ? b.shape[1] : 1
        let shape = outer ? [rows, cols] : (a.ndim == 2 ? [rows] : []) + (b.ndim == 2 ? [cols] : [])
        guard a.dtype == b.dtype, a.dtype.isFloat, outer || b.shape[0] == k, rows > 0, cols > 0, k > 0,
            let la = MatrixOperand(a, rows: rows, cols: k), let lb = MatrixOperand(b, rows: k, cols: cols),
            c.map({ $0.shape == shape && $0.isContiguous && $0.dtype == a.dtype }) ?? true
        else { return try op.perform(inputs, reusing: buffers) }
        let alpha = accumulates ? try inputs[1].item() : 1
        let beta = outer ? 1 : accumulates ? try inputs[4].item() : 0
        let result: NDArray
        let pc: DevicePointer
        if let c, let buffer = buffers.first ?? nil, buffer.sharesStorage(with: c), buffer.offset == c.offset {
            (result, pc) = (c, try runtime.address(updating: c))
        } else {
            (result, pc) = try runtime.output(shape, a.dtype, reusing: buffers.first ?? nil)
            if let c, beta != 0 {
                try runtime.copy(try runtime.address(reading: c), to: pc, bytes: c.count * c.dtype.itemSize)
            }
        }
        try runtime.gemm(
            DeviceGemm(
                double: a.dtype == .float64, transA: la.transposed, transB: lb.transposed, m: rows, n: cols, k: k,
                alpha: alpha, beta: beta, a: try runtime.address(reading: a), lda: la.ld,
                b: try runtime.address(reading: b), ldb: lb.ld, c: pc, ldc: cols))
        return [result]
    }
}
