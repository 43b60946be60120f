import NDArray

/// Generates the C source of elementwise kernels.
///
/// Every kernel has the same entry point, so one Swift executor drives them all:
///
/// ```c
/// void name(int64_t begin, int64_t end, int32_t nd, const int64_t *shape,
///           char *const *data, const int64_t *strides, int32_t fast);
/// ```
///
/// It computes the flat output elements `[begin, end)` of a loop of `nd` dimensions; `data` holds
/// one base pointer per operand (inputs, then outputs) and `strides` their byte strides, operand by
/// operand. Rows go to one of two inner loops: the *fast* one, whose inner strides are the
/// constants 1 or 0 predicted from the static types (so it vectorises), or the strided one.
enum CodeGen {
    /// The C type an array of `dtype` stores.
    static func storage(_ dtype: DType) -> String {
        switch dtype {
        case .bool: "th_bool"
        case .int8: "int8_t"
        case .int16: "int16_t"
        case .int32: "int32_t"
        case .int64: "int64_t"
        case .uint8: "uint8_t"
        case .float32: "float"
        case .float64: "double"
        }
    }

    /// `expr`, a value stored as `from`, converted to `domain` with the reference's semantics.
    static func convert(_ expr: String, from: DType, to domain: CDomain) -> String {
        if from.isFloat && domain == .int64 { return "th_f2i((double)(\(expr)))" }
        if CDomain(from) == domain && from != .bool && from.isFloat { return expr }
        return "(\(domain.cType))(\(expr))"
    }

    /// `expr`, computed in `domain`, converted to the storage of `dtype`.
    static func store(_ expr: String, from domain: CDomain, to dtype: DType) -> String {
        if dtype == .bool { return "(th_bool)((\(expr)) != 0)" }
        if domain.isFloat && !dtype.isFloat { return "(\(storage(dtype)))th_f2i((double)(\(expr)))" }
        return "(\(storage(dtype)))(\(expr))"
    }

    /// The statements computing `op`'s values from its inputs `x0`, `x1`, … (declared by the
    /// caller in their storage types): `v0`, `v1`, … in the storage type of each instruction's
    /// dtype. The same body serves every backend; only the loop around it differs.
    static func body(_ op: Composite) throws -> [String] {
        var body: [String] = []
        var valueType: [DType] = []
        for ins in op.instructions {
            let argTypes: [DType] = ins.args.map { a in
                switch a {
                case .input(let k): op.inputDTypes[k]
                case .value(let j): valueType[j]
                case .constant(_, let d): d
                }
            }
            let compute = try ins.op.base.dtypes(argTypes).compute
            let domain = CDomain(compute)
            let args = zip(ins.args, argTypes).map { a, t -> String in
                switch a {
                case .input(let k): convert("x\(k)", from: t, to: domain)
                case .value(let j): convert("v\(j)", from: t, to: domain)
                case .constant(let v, let d): convert(CDomain(d).literal(v), from: d, to: domain)
                }
            }
            let value = store(ins.op.base.c(args, domain), from: domain, to: ins.dtype)
            body.append("\(storage(ins.dtype)) v\(body.count) = \(value);")
            valueType.append(ins.dtype)
        }
        return body
    }

    /// The C source of `op`'s kernel. `fast` gives, per operand (inputs then outputs), the inner
    /// stride in elements (0 or 1) the fast loop assumes.
    static func kernel(_ op: Composite, name: String, fast: [Int]) throws -> String {
        let nin = op.inputDTypes.count
        let body = try self.body(op)
        let outputs = op.outputs.enumerated()
        let reducing = op.reduction != nil
        func loop(_ load: (Int) -> String, _ storeAt: (Int) -> String) -> String {
            var lines = (0..<nin).map { k in "\(storage(op.inputDTypes[k])) x\(k) = \(load(k));" }
            lines += body
            lines += outputs.map { j, o in reducing ? "acc += (double)v\(o);" : "\(storeAt(j)) = v\(o);" }
            return lines.map { "        " + $0 }.joined(separator: "\n")
        }
        var pointers = (0..<nin).map { k in
            "    const \(storage(op.inputDTypes[k])) *a\(k) = (const \(storage(op.inputDTypes[k])) *)p[\(k)];"
        }
        pointers +=
            reducing
            ? ["    double acc = 0;"]
            : outputs.map { j, o in
                "    \(storage(op.instructions[o].dtype)) *r\(j) = (\(storage(op.instructions[o].dtype)) "
                    + "*)p[\(nin + j)];"
            }
        let finish = reducing ? "    *(double *)p[\(nin)] += acc;" : ""
        let strideVars = (0..<(nin + op.outputs.count)).map { k in "    const int64_t s\(k) = s[\(k)];" }
        let fastLoop = loop(
            { k in fast[k] == 0 ? "a\(k)[0]" : "a\(k)[i]" }, { j in fast[nin + j] == 0 ? "r\(j)[0]" : "r\(j)[i]" })
        let stridedLoop = loop(
            { k in "*(const \(storage(op.inputDTypes[k])) *)((const char *)a\(k) + i * s\(k))" },
            { j in "*(\(storage(op.instructions[op.outputs[j]].dtype)) *)((char *)r\(j) + i * s\(nin + j))" })
        // Sums vectorise only when the compiler may reorder them: OpenMP's simd reduction says so
        // for this one loop (-fopenmp-simd), without -ffast-math's other licences.
        let pragma = reducing ? "_Pragma(\"omp simd reduction(+:acc)\")" : "TH_IVDEP"
        return """
            /* \(op.description) */
            static void \(name)_fast(int64_t n, char *const *p, const int64_t *s) {
            \(pointers.joined(separator: "\n"))
                (void)s;
                \(pragma)
                for (int64_t i = 0; i < n; ++i) {
            \(fastLoop)
                }
            \(finish)
            }
            static void \(name)_strided(int64_t n, char *const *p, const int64_t *s) {
            \(pointers.joined(separator: "\n"))
            \(strideVars.joined(separator: "\n"))
                (void)s\(nin);
                for (int64_t i = 0; i < n; ++i) {
            \(stridedLoop)
                }
            \(finish)
            }
            void \(name)(int64_t begin, int64_t end, int32_t nd, const int64_t *shape, char *const *data,
                         const int64_t *strides, int32_t fast) {
                th_drive(begin, end, nd, shape, data, strides, \(nin + op.outputs.count), fast,
                         (fast & 1) ? \(name)_fast : \(name)_strided);
            }

            """
    }
}
