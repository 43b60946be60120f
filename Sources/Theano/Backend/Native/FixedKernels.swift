import NDArray

/// Native kernels of fixed C code, compiled once per machine into the kernel cache: the softmax
/// family (softmax, log-softmax, the fused cross-entropy and its gradient, using the prelude's
/// vectorised exp and log), reductions, and the image kernels (``ImageKernels``). The ops' Swift
/// `perform` stays the reference DEBUG mode compares them with.
struct FixedKernels: @unchecked Sendable {
    typealias Softmax32 = @convention(c) (Int64, Int64, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Softmax64 = @convention(c) (Int64, Int64, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Xent32 = @convention(c) (Int64, Int64, UnsafePointer<Float>?, UnsafePointer<Int64>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    typealias Xent64 = @convention(c) (Int64, Int64, UnsafePointer<Double>?, UnsafePointer<Int64>?, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?) -> Void

    typealias Reduce32 = @convention(c) (Int64, Int64, Int64, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Reduce64 = @convention(c) (Int64, Int64, Int64, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias Arg32 = @convention(c) (Int64, Int64, Int64, UnsafePointer<Float>?, UnsafeMutablePointer<Int64>?, Int32) -> Void
    typealias Arg64 = @convention(c) (Int64, Int64, Int64, UnsafePointer<Double>?, UnsafeMutablePointer<Int64>?, Int32) -> Void

    // Each pointer is set once its module is loaded (nil: the node runs its reference).
    var softmax32: Softmax32?, softmax64: Softmax64?
    var xent32: Xent32?, xent64: Xent64?
    var xentGrad32: Xent32?, xentGrad64: Xent64?
    /// Reductions of a contiguous (outer, n, inner) block over n: kind 0 sum, 1 mean, 2 max, 3 min.
    var reduce32: Reduce32?, reduce64: Reduce64?
    /// Positions of the maximum (flag 1) or minimum (0) over n.
    var arg32: Arg32?, arg64: Arg64?
    /// Direct convolution and tiled max pooling.
    var image32 = ImageKernels(), image64 = ImageKernels()

    /// The image kernels for an element type (nil for integers).
    func image(_ dtype: DType) -> ImageKernels? {
        switch dtype {
        case .float32: image32
        case .float64: image64
        default: nil
        }
    }

    /// One module of fixed kernels: a family for one element type. Small modules instead of one,
    /// so a function compiles only what it uses, in parallel, on a cold cache.
    struct Part: Hashable, Sendable {
        enum Family: String, Sendable { case softmax, reduce, image }
        let family: Family
        let dtype: DType

        /// The part a node's native kernel lives in, if any.
        init?(_ node: Apply) {
            guard let d = node.inputs.first?.dtype, d.isFloat else { return nil }
            switch node.op {
            case is Softmax, is LogSoftmax, is SoftmaxCrossEntropy, is SoftmaxCrossEntropyGrad: family = .softmax
            case is Reduce, is ArgReduce, is ReduceTo: family = .reduce
            case is Conv2d, is Pool2d: family = .image
            default: return nil
            }
            dtype = d
        }

        var source: String {
            let (t, s) = dtype == .float32 ? ("float", "f32") : ("double", "f64")
            switch family {
            case .softmax: return CPrelude.source + CodeGen.driver + "#include <stdlib.h>\n" + FixedKernels.softmaxSource(t, s)
            case .reduce: return CPrelude.source + CodeGen.driver + "#include <stdlib.h>\n" + FixedKernels.reduceSource(t, s)
            case .image: return ImageKernels.source(t, s)
            }
        }
    }

    /// Adds the kernels of a loaded part.
    mutating func bind(_ part: Part, _ module: NativeModule) throws {
        func sym<F>(_ name: String, _: F.Type) throws -> F {
            guard let p = module.symbol(name) else { throw TheanoError(.compile, "\(module.path) has no symbol \(name)") }
            return unsafeBitCast(p, to: F.self)
        }
        switch (part.family, part.dtype) {
        case (.softmax, .float32):
            softmax32 = try sym("th_softmax_f32", Softmax32.self)
            xent32 = try sym("th_xent_f32", Xent32.self)
            xentGrad32 = try sym("th_xent_grad_f32", Xent32.self)
        case (.softmax, _):
            softmax64 = try sym("th_softmax_f64", Softmax64.self)
            xent64 = try sym("th_xent_f64", Xent64.self)
            xentGrad64 = try sym("th_xent_grad_f64", Xent64.self)
        case (.reduce, .float32):
            reduce32 = try sym("th_reduce_f32", Reduce32.self)
            arg32 = try sym("th_argreduce_f32", Arg32.self)
        case (.reduce, _):
            reduce64 = try sym("th_reduce_f64", Reduce64.self)
            arg64 = try sym("th_argreduce_f64", Arg64.self)
        case (.image, .float32):
            image32 = try ImageKernels(module, suffix: "f32")
        case (.image, _):
            image64 = try ImageKernels(module, suffix: "f64")
        }
    }

    /// Per element type: softmax (or log-softmax) of each row; cross-entropy of each row against
    /// its label; its gradient `(softmax − onehot) · g`. Each first finds every row's maximum,
    /// then writes `x − max(row)` and takes exp in flat loops (so they vectorise even for rows of
    /// 10), then sums each row in double, four rows at a time, and takes the rows' logs or
    /// reciprocals in one flat loop.
    static func softmaxSource(_ t: String, _ s: String) -> String {
        let f = t == "float" ? "f" : ""
        return """
        /* e = exp(x - max(row)), m = the row maxima (NaN if the row has one; 0 if infinite). */
        static void th_rows_exp_\(s)(int64_t rows, int64_t n, const \(t) *x, \(t) *e, \(t) *m) {
            for (int64_t r = 0; r < rows; ++r) {
                const \(t) *row = x + r * n;
                \(t) mr = -INFINITY;
                int nan = 0;
                for (int64_t j = 0; j < n; ++j) { const \(t) v = row[j]; mr = v > mr ? v : mr; nan |= v != v; }
                m[r] = nan ? NAN : ((mr == INFINITY || mr == -INFINITY) ? 0 : mr);
            }
            for (int64_t r = 0; r < rows; ++r) {
                const \(t) mr = m[r];
                TH_IVDEP
                for (int64_t j = 0; j < n; ++j) e[r * n + j] = x[r * n + j] - mr;
            }
            const int64_t total = rows * n;
            TH_IVDEP
            for (int64_t i = 0; i < total; ++i) e[i] = th_exp\(f)(e[i]);
        }
        /* Each row's sum in double; four rows at a time, so the adds do not wait on each other. */
        static void th_row_sums_\(s)(int64_t rows, int64_t n, const \(t) *e, double *sums) {
            int64_t r = 0;
            for (; r + 4 <= rows; r += 4) {
                const \(t) *a = e + r * n;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int64_t j = 0; j < n; ++j) { s0 += a[j]; s1 += a[n + j]; s2 += a[2 * n + j]; s3 += a[3 * n + j]; }
                sums[r] = s0; sums[r + 1] = s1; sums[r + 2] = s2; sums[r + 3] = s3;
            }
            for (; r < rows; ++r) {
                double sum = 0;
                for (int64_t j = 0; j < n; ++j) sum += e[r * n + j];
                sums[r] = sum;
            }
        }
        /* Scratch for rows: maxima and sums. */
        typedef struct { \(t) *m; double *sums; } th_scratch_\(s);
        static th_scratch_\(s) th_scratch_new_\(s)(int64_t rows) {
            const size_t r = (size_t)(rows > 0 ? rows : 1);
            th_scratch_\(s) sc = { malloc(r * sizeof(\(t))), malloc(r * sizeof(double)) };
            return sc;
        }
        static void th_scratch_free_\(s)(th_scratch_\(s) sc) { free(sc.m); free(sc.sums); }
        void th_softmax_\(s)(int64_t rows, int64_t n, const \(t) *x, \(t) *out, int32_t take_log) {
            th_scratch_\(s) sc = th_scratch_new_\(s)(rows);
            th_rows_exp_\(s)(rows, n, x, out, sc.m);
            th_row_sums_\(s)(rows, n, out, sc.sums);
            if (take_log) {
                TH_IVDEP
                for (int64_t r = 0; r < rows; ++r) sc.sums[r] = th_log(sc.sums[r]);
                for (int64_t r = 0; r < rows; ++r) {
                    const \(t) mr = sc.m[r], ls = (\(t))sc.sums[r];
                    TH_IVDEP
                    for (int64_t j = 0; j < n; ++j) out[r * n + j] = x[r * n + j] - mr - ls;
                }
            } else {
                for (int64_t r = 0; r < rows; ++r) {
                    const \(t) inv = (\(t))(1.0 / sc.sums[r]);
                    TH_IVDEP
                    for (int64_t j = 0; j < n; ++j) out[r * n + j] *= inv;
                }
            }
            th_scratch_free_\(s)(sc);
        }
        void th_xent_\(s)(int64_t rows, int64_t n, const \(t) *z, const int64_t *labels, const \(t) *unused, \(t) *out) {
            (void)unused;
            th_scratch_\(s) sc = th_scratch_new_\(s)(rows);
            \(t) *e = malloc((size_t)(rows * n > 0 ? rows * n : 1) * sizeof(\(t)));
            th_rows_exp_\(s)(rows, n, z, e, sc.m);
            th_row_sums_\(s)(rows, n, e, sc.sums);
            TH_IVDEP
            for (int64_t r = 0; r < rows; ++r) sc.sums[r] = th_log(sc.sums[r]);
            for (int64_t r = 0; r < rows; ++r)
                out[r] = (\(t))((double)sc.m[r] + sc.sums[r] - (double)z[r * n + labels[r]]);
            free(e);
            th_scratch_free_\(s)(sc);
        }
        void th_xent_grad_\(s)(int64_t rows, int64_t n, const \(t) *z, const int64_t *labels, const \(t) *g, \(t) *out) {
            th_scratch_\(s) sc = th_scratch_new_\(s)(rows);
            th_rows_exp_\(s)(rows, n, z, out, sc.m);
            th_row_sums_\(s)(rows, n, out, sc.sums);
            for (int64_t r = 0; r < rows; ++r) {
                const \(t) scale = (\(t))((double)g[r] / sc.sums[r]);
                TH_IVDEP
                for (int64_t j = 0; j < n; ++j) out[r * n + j] *= scale;
                out[r * n + labels[r]] -= g[r];
            }
            th_scratch_free_\(s)(sc);
        }

        """
    }

    /// Per element type: reductions over a block of adjacent axes and the arg-reductions.
    static func reduceSource(_ t: String, _ s: String) -> String {
        """
        /* Over n of a contiguous (outer, n, inner) block: sums and means accumulate in double;
           max and min propagate NaN, as the reference does. */
        void th_reduce_\(s)(int64_t outer, int64_t n, int64_t inner, const \(t) *x, \(t) *out, int32_t kind) {
            double *acc = malloc((size_t)(inner > 0 ? inner : 1) * sizeof(double));
            \(t) *ext = malloc((size_t)(inner > 0 ? inner : 1) * sizeof(\(t)));
            unsigned char *nan = malloc((size_t)(inner > 0 ? inner : 1));
            for (int64_t o = 0; o < outer; ++o) {
                const \(t) *block = x + o * n * inner;
                \(t) *dst = out + o * inner;
                if (kind <= 1) {
                    if (inner == 1) {
                        double sum = 0;
                        _Pragma("omp simd reduction(+:sum)")
                        for (int64_t k = 0; k < n; ++k) sum += (double)block[k];
                        dst[0] = (\(t))(kind == 1 ? sum / (double)n : sum);
                        continue;
                    }
                    for (int64_t i = 0; i < inner; ++i) acc[i] = 0;
                    for (int64_t k = 0; k < n; ++k) {
                        const \(t) *row = block + k * inner;
                        TH_IVDEP
                        for (int64_t i = 0; i < inner; ++i) acc[i] += (double)row[i];
                    }
                    for (int64_t i = 0; i < inner; ++i) dst[i] = (\(t))(kind == 1 ? acc[i] / (double)n : acc[i]);
                } else {
                    const int is_max = kind == 2;
                    for (int64_t i = 0; i < inner; ++i) { ext[i] = is_max ? -INFINITY : INFINITY; nan[i] = 0; }
                    for (int64_t k = 0; k < n; ++k) {
                        const \(t) *row = block + k * inner;
                        TH_IVDEP
                        for (int64_t i = 0; i < inner; ++i) {
                            \(t) v = row[i];
                            ext[i] = is_max ? (v > ext[i] ? v : ext[i]) : (v < ext[i] ? v : ext[i]);
                            nan[i] |= v != v;
                        }
                    }
                    for (int64_t i = 0; i < inner; ++i) dst[i] = nan[i] ? (\(t))NAN : ext[i];
                }
            }
            free(nan);
            free(ext);
            free(acc);
        }
        /* The first position of the maximum (is_max) or minimum over n; the first NaN wins. */
        void th_argreduce_\(s)(int64_t outer, int64_t n, int64_t inner, const \(t) *x, int64_t *out, int32_t is_max) {
            for (int64_t o = 0; o < outer; ++o) {
                for (int64_t i = 0; i < inner; ++i) {
                    const \(t) *p = x + o * n * inner + i;
                    int64_t best = 0;
                    \(t) bv = p[0];
                    if (bv == bv) {
                        for (int64_t k = 1; k < n; ++k) {
                            \(t) v = p[k * inner];
                            if (v != v) { best = k; break; }
                            if (is_max ? v > bv : v < bv) { best = k; bv = v; }
                        }
                    }
                    out[o * inner + i] = best;
                }
            }
        }

        """
    }
}

/// A native implementation of one node: what the VM calls instead of `perform`.
protocol NativeKernel: Sendable {
    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray]
}

extension ElementwiseKernel: NativeKernel {}

/// `sum`, `mean`, `max` or `min` of a float array over a block of adjacent axes through the
/// native reduction kernel (other cases: the reference).
struct ReduceKernel: NativeKernel {
    let rows: FixedKernels
    let op: Reduce

    /// The kernel call for `x`: the (outer, n, inner) block, the kind code and the result's
    /// shape; nil when the reference handles it (other kinds, integers, scattered axes, empty).
    func block(_ x: NDArray) -> (outer: Int, n: Int, inner: Int, code: Int32, shape: [Int])? {
        let code: Int32
        switch op.kind {
        case .sum: code = 0
        case .mean: code = 1
        case .max: code = 2
        case .min: code = 3
        default: return nil
        }
        guard x.dtype.isFloat, x.count > 0, let first = op.axes.first, let last = op.axes.last,
              op.axes == Array(first...last) else { return nil }
        return (x.shape[..<first].reduce(1, *), x.shape[first...last].reduce(1, *), x.shape[(last + 1)...].reduce(1, *), code,
                Array(x.shape[..<first]) + Array(x.shape[(last + 1)...]))
    }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard let (outer, n, inner, code, shape) = block(x) else { return try op.perform(inputs) }
        let src = x.contiguous()
        let out = try reusable(buffers, 0, shape: shape, dtype: x.dtype) ?? NDArray.empty(shape, dtype: x.dtype)
        if x.dtype == .float32, let f = rows.reduce32 {
            withExtendedLifetime(src) { f(Int64(outer), Int64(n), Int64(inner), src.basePointer(as: Float.self), out.basePointer(as: Float.self), code) }
        } else if x.dtype == .float64, let f = rows.reduce64 {
            withExtendedLifetime(src) { f(Int64(outer), Int64(n), Int64(inner), src.basePointer(as: Double.self), out.basePointer(as: Double.self), code) }
        } else {
            return try op.perform(inputs)
        }
        return [out]
    }
}

/// ``ReduceTo`` (a gradient summed back to its input's shape) through the native reduction
/// kernel.
struct ReduceToKernel: NativeKernel {
    let rows: FixedKernels

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let g = inputs[0]
        guard let (axes, target) = try ReduceTo.plan(g, inputs[1]) else { return [g] }
        let summed = try ReduceKernel(rows: rows, op: Reduce(kind: .sum, axes: axes)).run([g], into: buffers)[0]
        return [try summed.reshaped(target)]
    }
}

/// `argmax` / `argmin` of a float array through the native kernel.
struct ArgReduceKernel: NativeKernel {
    let rows: FixedKernels
    let op: ArgReduce

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard x.dtype.isFloat, x.count > 0 else { return try op.perform(inputs) }
        let a = op.axis ?? 0
        let src = op.axis == nil ? try x.contiguous().reshaped([-1]) : x.contiguous()
        let outer = src.shape[..<a].reduce(1, *), n = src.shape[a], inner = src.shape[(a + 1)...].reduce(1, *)
        let shape = Array(src.shape[..<a]) + Array(src.shape[(a + 1)...])
        let out = try reusable(buffers, 0, shape: shape, dtype: .int64) ?? NDArray.empty(shape, dtype: .int64)
        let flag: Int32 = op.isMax ? 1 : 0
        if x.dtype == .float32, let f = rows.arg32 {
            withExtendedLifetime(src) { f(Int64(outer), Int64(n), Int64(inner), src.basePointer(as: Float.self), out.basePointer(as: Int64.self), flag) }
        } else if x.dtype == .float64, let f = rows.arg64 {
            withExtendedLifetime(src) { f(Int64(outer), Int64(n), Int64(inner), src.basePointer(as: Double.self), out.basePointer(as: Int64.self), flag) }
        } else {
            return try op.perform(inputs)
        }
        return [out]
    }
}

/// Softmax or log-softmax along an axis through the row kernels.
struct SoftmaxKernel: NativeKernel {
    let rows: FixedKernels
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
        let flag: Int32 = log ? 1 : 0
        if x.dtype == .float32, let f = rows.softmax32 {
            withExtendedLifetime(src) { f(Int64(rowCount), Int64(n), src.basePointer(as: Float.self), out.basePointer(as: Float.self), flag) }
        } else if x.dtype == .float64, let f = rows.softmax64 {
            withExtendedLifetime(src) { f(Int64(rowCount), Int64(n), src.basePointer(as: Double.self), out.basePointer(as: Double.self), flag) }
        } else {
            return try (log ? LogSoftmax(axis: axis).perform(inputs) : Softmax(axis: axis).perform(inputs))
        }
        return [out]
    }
}

/// The fused cross-entropy (`grad: false`) or its gradient through the row kernels.
struct CrossEntropyKernel: NativeKernel {
    let rows: FixedKernels
    let grad: Bool

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let z = inputs[0].contiguous()
        let (count, classes) = (z.shape[0], z.shape[1])
        let labels = labelValues(inputs[1])
        guard labels.count == count else { throw OpError("\(count) rows of logits but \(labels.count) labels", kind: .shape) }
        // Out-of-range labels get the reference's error.
        if labels.contains(where: { $0 < 0 || $0 >= Int64(classes) }) {
            return try (grad ? SoftmaxCrossEntropyGrad().perform(inputs) : SoftmaxCrossEntropy().perform(inputs))
        }
        let g = grad ? inputs[2].contiguous() : z
        if grad && g.count != count { throw OpError("\(count) rows of logits but \(g.count) gradients", kind: .shape) }
        let shape = grad ? z.shape : [count]
        let out = try reusable(buffers, 0, shape: shape, dtype: z.dtype) ?? NDArray.empty(shape, dtype: z.dtype)
        let f32 = grad ? rows.xentGrad32 : rows.xent32, f64 = grad ? rows.xentGrad64 : rows.xent64
        guard (z.dtype == .float32 && f32 != nil) || (z.dtype == .float64 && f64 != nil) else {
            return try (grad ? SoftmaxCrossEntropyGrad().perform(inputs) : SoftmaxCrossEntropy().perform(inputs))
        }
        withExtendedLifetime((z, g)) {
            labels.withUnsafeBufferPointer { l in
                if z.dtype == .float32, let f = f32 {
                    f(Int64(count), Int64(classes), z.basePointer(as: Float.self), l.baseAddress, g.basePointer(as: Float.self), out.basePointer(as: Float.self))
                } else if let f = f64 {
                    f(Int64(count), Int64(classes), z.basePointer(as: Double.self), l.baseAddress, g.basePointer(as: Double.self), out.basePointer(as: Double.self))
                }
            }
        }
        return [out]
    }
}

/// Labels as `Int64`: a typed loop for contiguous int32 and int64 labels (the generic
/// conversion goes through `Double`).
func labelValues(_ a: NDArray) -> [Int64] {
    guard a.isContiguous else { return a.scalars(as: Int64.self) }
    switch a.dtype {
    case .int64: return Array(UnsafeBufferPointer(start: a.basePointer(as: Int64.self), count: a.count))
    case .int32:
        let p = a.basePointer(as: Int32.self)
        return [Int64](unsafeUninitializedCapacity: a.count) { buffer, initialized in
            for i in 0..<a.count { buffer[i] = Int64(p[i]) }
            initialized = a.count
        }
    default: return a.scalars(as: Int64.self)
    }
}
