import NDArray

/// The fixed C kernels (`Backend/Native/C/*.c`: the softmax family, reductions, image kernels),
/// compiled once per machine and element type into the kernel cache, and their entry points
/// once loaded: one ``Table`` per element type. The C sources are embedded in the library at
/// build time (the `EmbedC` plugin), so nothing is read from disk at run time. Each op's Swift
/// `perform` stays the reference DEBUG mode compares the kernels with.
struct FixedKernels: @unchecked Sendable {
    /// A fixed C file.
    enum File: String, Sendable { case softmax, reduce, image }

    /// One module: a file built for one element type. Small modules instead of one, so a
    /// function compiles only what it uses, in parallel, on a cold cache.
    struct Part: Hashable, Sendable, CustomStringConvertible {
        let file: File
        let dtype: DType

        var description: String { "\(file.rawValue)-\(dtype)" }

        /// The file's source with its includes inlined, for this element type (`real.h`).
        var source: String {
            (dtype == .float64 ? "#define TH_DOUBLE 1\n" : "") + (EmbeddedC.files[file.rawValue + ".c"] ?? "")
        }
    }

    /// The entry points of one element type. Pointers to elements are untyped: the same
    /// signature serves float32 and float64, so callers dispatch once, on the table.
    struct Table: Sendable {
        /// (rows, n, x, out, take_log)
        typealias Rows = @convention(c) (Int64, Int64, UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32) -> Void
        /// (rows, n, logits, labels, gradients, out)
        typealias CrossEntropy =
            @convention(c) (
                Int64, Int64, UnsafeRawPointer?, UnsafePointer<Int64>?,
                UnsafeRawPointer?, UnsafeMutableRawPointer?
            ) -> Void
        /// (outer, n, inner, x, out, kind): over n of a contiguous (outer, n, inner) block; kind
        /// 0 sum, 1 mean, 2 max, 3 min.
        typealias Reduction =
            @convention(c) (
                Int64, Int64, Int64, UnsafeRawPointer?, UnsafeMutableRawPointer?,
                Int32
            ) -> Void
        /// (outer, n, inner, x, positions, is_max)
        typealias ArgReduction =
            @convention(c) (
                Int64, Int64, Int64, UnsafeRawPointer?, UnsafeMutablePointer<Int64>?,
                Int32
            ) -> Void

        var softmax: Rows?
        var crossEntropy: CrossEntropy?, crossEntropyGrad: CrossEntropy?
        var reduce: Reduction?
        var argReduce: ArgReduction?
        /// Direct convolution and tiled max pooling.
        var image = ImageKernels()
    }

    private var tables: [DType: Table] = [:]

    /// The kernels loaded for an element type (nil when none are).
    subscript(dtype: DType) -> Table? { tables[dtype] }

    /// The image kernels for an element type (nil for integers).
    func image(_ dtype: DType) -> ImageKernels? { tables[dtype]?.image }

    /// What every module of generated elementwise kernels starts with.
    static var generatedModulePrefix: String {
        (EmbeddedC.files["prelude.h"] ?? "") + (EmbeddedC.files["driver.h"] ?? "")
    }

    /// Adds the kernels of a loaded part.
    mutating func bind(_ part: Part, _ module: NativeModule) throws {
        func sym<F>(_ name: String, _: F.Type) throws -> F {
            guard let p = module.symbol(name) else {
                throw TheanoError(.compile, "\(module.path) has no symbol \(name)")
            }
            return unsafeBitCast(p, to: F.self)
        }
        var table = tables[part.dtype] ?? Table()
        switch part.file {
        case .softmax:
            table.softmax = try sym("th_softmax", Table.Rows.self)
            table.crossEntropy = try sym("th_xent", Table.CrossEntropy.self)
            table.crossEntropyGrad = try sym("th_xent_grad", Table.CrossEntropy.self)
        case .reduce:
            table.reduce = try sym("th_reduce", Table.Reduction.self)
            table.argReduce = try sym("th_argreduce", Table.ArgReduction.self)
        case .image:
            table.image = try ImageKernels(module)
        }
        tables[part.dtype] = table
    }
}

extension NDArray {
    /// The address of the first element, untyped, for the fixed kernels' entry points.
    var rawBase: UnsafeMutableRawPointer { storage.pointer + offset * dtype.itemSize }
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
