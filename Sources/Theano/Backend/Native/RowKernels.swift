import NDArray

/// Native row kernels for the softmax family (softmax, log-softmax, the fused cross-entropy and
/// its gradient): fixed C code, compiled once per machine into the kernel cache, using the
/// prelude's vectorised exp and log. The ops' Swift `perform` stays the reference DEBUG mode
/// compares them with.
struct RowKernels: @unchecked Sendable {
    typealias Softmax32 = @convention(c) (Int64, Int64, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Softmax64 = @convention(c) (Int64, Int64, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Xent32 = @convention(c) (Int64, Int64, UnsafePointer<Float>?, UnsafePointer<Int64>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    typealias Xent64 = @convention(c) (Int64, Int64, UnsafePointer<Double>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?) -> Void

    let softmax32: Softmax32, softmax64: Softmax64
    let xent32: Xent32, xent64: Xent64
    let xentGrad32: Xent32, xentGrad64: Xent64

    /// The whole C source of the row-kernel module.
    static var moduleSource: String { CPrelude.source + CodeGen.driver + source }

    /// The kernels of a loaded row-kernel module.
    static func bind(_ module: NativeModule) throws -> RowKernels {
        func sym<F>(_ name: String, _: F.Type) throws -> F {
            guard let p = module.symbol(name) else { throw TheanoError(.compile, "\(module.path) has no symbol \(name)") }
            return unsafeBitCast(p, to: F.self)
        }
        return RowKernels(softmax32: try sym("th_softmax_f32", Softmax32.self), softmax64: try sym("th_softmax_f64", Softmax64.self),
                          xent32: try sym("th_xent_f32", Xent32.self), xent64: try sym("th_xent_f64", Xent64.self),
                          xentGrad32: try sym("th_xent_grad_f32", Xent32.self), xentGrad64: try sym("th_xent_grad_f64", Xent64.self))
    }

    /// Per element type: softmax (or log-softmax) of each row; cross-entropy of each row against
    /// its label; its gradient `(softmax − onehot) · g`. Each first writes `x − max(row)` for all
    /// rows, then takes exp in one flat loop (so it vectorises even for rows of 10), then sums
    /// each row in double.
    static let source = "#include <stdlib.h>\n" + ["float": "f32", "double": "f64"].sorted { $0.key < $1.key }.map { t, s in
        let f = t == "float" ? "f" : ""
        return """
        /* e = exp(x - max(row)), m = the row maxima (NaN if the row has one; 0 if infinite). */
        static void th_rows_exp_\(s)(int64_t rows, int64_t n, const \(t) *x, \(t) *e, \(t) *m) {
            for (int64_t r = 0; r < rows; ++r) {
                const \(t) *row = x + r * n;
                \(t) mr = -INFINITY;
                for (int64_t j = 0; j < n; ++j) mr = (row[j] > mr || row[j] != row[j]) ? row[j] : mr;
                mr = (mr == INFINITY || mr == -INFINITY) ? 0 : mr;
                m[r] = mr;
                for (int64_t j = 0; j < n; ++j) e[r * n + j] = row[j] - mr;
            }
            const int64_t total = rows * n;
            TH_IVDEP
            for (int64_t i = 0; i < total; ++i) e[i] = th_exp\(f)(e[i]);
        }
        static double th_row_sum_\(s)(const \(t) *e, int64_t n) {
            double sum = 0;
            for (int64_t j = 0; j < n; ++j) sum += e[j];
            return sum;
        }
        void th_softmax_\(s)(int64_t rows, int64_t n, const \(t) *x, \(t) *out, int32_t take_log) {
            \(t) *m = malloc((size_t)(rows > 0 ? rows : 1) * sizeof(\(t)));
            th_rows_exp_\(s)(rows, n, x, out, m);
            for (int64_t r = 0; r < rows; ++r) {
                \(t) *dst = out + r * n;
                double sum = th_row_sum_\(s)(dst, n);
                if (take_log) {
                    \(t) ls = (\(t))th_log(sum);
                    for (int64_t j = 0; j < n; ++j) dst[j] = x[r * n + j] - m[r] - ls;
                } else {
                    \(t) inv = (\(t))(1.0 / sum);
                    for (int64_t j = 0; j < n; ++j) dst[j] *= inv;
                }
            }
            free(m);
        }
        void th_xent_\(s)(int64_t rows, int64_t n, const \(t) *z, const int64_t *labels, const \(t) *unused, \(t) *out) {
            (void)unused;
            \(t) *m = malloc((size_t)(rows > 0 ? rows : 1) * sizeof(\(t)));
            \(t) *e = malloc((size_t)(rows * n > 0 ? rows * n : 1) * sizeof(\(t)));
            th_rows_exp_\(s)(rows, n, z, e, m);
            for (int64_t r = 0; r < rows; ++r)
                out[r] = (\(t))((double)m[r] + th_log(th_row_sum_\(s)(e + r * n, n)) - (double)z[r * n + labels[r]]);
            free(e);
            free(m);
        }
        void th_xent_grad_\(s)(int64_t rows, int64_t n, const \(t) *z, const int64_t *labels, const \(t) *g, \(t) *out) {
            \(t) *m = malloc((size_t)(rows > 0 ? rows : 1) * sizeof(\(t)));
            th_rows_exp_\(s)(rows, n, z, out, m);
            for (int64_t r = 0; r < rows; ++r) {
                \(t) *dst = out + r * n;
                \(t) scale = (\(t))((double)g[r] / th_row_sum_\(s)(dst, n));
                for (int64_t j = 0; j < n; ++j) dst[j] *= scale;
                dst[labels[r]] -= g[r];
            }
            free(m);
        }

        """
    }.joined()
}

/// A native implementation of one node: what the VM calls instead of `perform`.
protocol NativeKernel: Sendable {
    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray]
}

extension ElementwiseKernel: NativeKernel {}

/// Softmax or log-softmax along an axis through the row kernels.
struct SoftmaxKernel: NativeKernel {
    let rows: RowKernels
    let axis: Int
    let log: Bool

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard axis == x.ndim - 1 else {
            return try (log ? LogSoftmax(axis: axis).perform(inputs) : Softmax(axis: axis).perform(inputs))
        }
        let src = x.contiguous()
        let out = try reusable(buffers, 0, shape: x.shape, dtype: x.dtype) ?? NDArray.empty(x.shape, dtype: x.dtype)
        let n = x.shape.last ?? 1, rowCount = n == 0 ? 0 : src.count / n
        withExtendedLifetime(src) {
            if x.dtype == .float32 {
                rows.softmax32(Int64(rowCount), Int64(n), src.basePointer(as: Float.self), out.basePointer(as: Float.self), log ? 1 : 0)
            } else {
                rows.softmax64(Int64(rowCount), Int64(n), src.basePointer(as: Double.self), out.basePointer(as: Double.self), log ? 1 : 0)
            }
        }
        return [out]
    }
}

/// The fused cross-entropy (`grad: false`) or its gradient through the row kernels.
struct CrossEntropyKernel: NativeKernel {
    let rows: RowKernels
    let grad: Bool

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let z = inputs[0].contiguous()
        let (count, classes) = (z.shape[0], z.shape[1])
        let labels = inputs[1].scalars(as: Int64.self)
        guard labels.count == count else { throw OpError("\(count) rows of logits but \(labels.count) labels", kind: .shape) }
        // Out-of-range labels get the reference's error.
        if labels.contains(where: { $0 < 0 || $0 >= Int64(classes) }) {
            return try (grad ? SoftmaxCrossEntropyGrad().perform(inputs) : SoftmaxCrossEntropy().perform(inputs))
        }
        let g = grad ? inputs[2].contiguous() : z
        if grad && g.count != count { throw OpError("\(count) rows of logits but \(g.count) gradients", kind: .shape) }
        let shape = grad ? z.shape : [count]
        let out = try reusable(buffers, 0, shape: shape, dtype: z.dtype) ?? NDArray.empty(shape, dtype: z.dtype)
        withExtendedLifetime((z, g)) {
            labels.withUnsafeBufferPointer { l in
                if z.dtype == .float32 {
                    (grad ? rows.xentGrad32 : rows.xent32)(Int64(count), Int64(classes), z.basePointer(as: Float.self), l.baseAddress,
                                                           g.basePointer(as: Float.self), out.basePointer(as: Float.self))
                } else {
                    (grad ? rows.xentGrad64 : rows.xent64)(Int64(count), Int64(classes), z.basePointer(as: Double.self), l.baseAddress,
                                                           g.basePointer(as: Double.self), out.basePointer(as: Double.self))
                }
            }
        }
        return [out]
    }
}
