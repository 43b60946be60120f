import Foundation
import NDArray

/// Turns a function's composite nodes into native kernels: one generated C module per function
/// (one compiler run on a cold cache), loaded through ``NativeCompiler``'s cache.
enum NativeBackend {
    /// Kernels for the composite nodes among `nodes`, by node position. Without a compiler the
    /// result is empty and every node runs its reference `perform`.
    static func kernels(for nodes: [Apply], flushDenormals: Bool = false) throws -> [Int: any NativeKernel] {
        guard let compiler = NativeCompiler.shared else { return [:] }
        var units: [(index: Int, op: Composite, name: String, fast: [Int], source: String)] = []
        var rowNodes: [(Int, any Op)] = []
        var parts = Set<FixedKernels.Part>()
        for (i, node) in nodes.enumerated() {
            if let part = FixedKernels.Part(node) {
                rowNodes.append((i, node.op))
                parts.insert(part)
            }
            guard let op = node.op as? Composite else { continue }
            let fast = ElementwiseKernel.fastPattern(op, inputs: node.inputs.map(\.type))
            let name = "th_k\(units.count)"
            // An op without a C form for these dtypes keeps its reference implementation.
            guard let source = try? CodeGen.kernel(op, name: name, fast: fast) else { continue }
            units.append((i, op, name, fast, source))
        }
        // The function's module and the fixed kernels it needs for the first time: compiled
        // side by side.
        var sources: [String] = []
        if !units.isEmpty { sources.append(CPrelude.source + CodeGen.driver + units.map(\.source).joined(separator: "\n")) }
        let missing = parts.subtracting(compiler.fixedKernels.parts).sorted { "\($0.family)\($0.dtype)" < "\($1.family)\($1.dtype)" }
        sources += missing.map(\.source)
        let modules = try compiler.loadAll(sources)
        for (part, module) in zip(missing, modules.suffix(missing.count)) { try compiler.addFixedKernels(part, from: module) }
        var result: [Int: any NativeKernel] = [:]
        let rows = compiler.fixedKernels.kernels
        for (i, op) in rowNodes {
            switch op {
            case let s as Softmax: result[i] = SoftmaxKernel(rows: rows, axis: s.axis, log: false)
            case let s as LogSoftmax: result[i] = SoftmaxKernel(rows: rows, axis: s.axis, log: true)
            case is SoftmaxCrossEntropy: result[i] = CrossEntropyKernel(rows: rows, grad: false)
            case is SoftmaxCrossEntropyGrad: result[i] = CrossEntropyKernel(rows: rows, grad: true)
            case let r as Reduce: result[i] = ReduceKernel(rows: rows, op: r)
            case let r as ArgReduce: result[i] = ArgReduceKernel(rows: rows, op: r)
            case is ReduceTo: result[i] = ReduceToKernel(rows: rows)
            case let op as any ImageKernelOp: result[i] = ImageKernel(rows: rows, op: op)
            default: break
            }
        }
        guard !units.isEmpty, let module = modules.first else { return result }
        for u in units {
            guard let sym = module.symbol(u.name) else {
                throw TheanoError(.compile, "\(module.path) has no symbol \(u.name)")
            }
            result[u.index] = ElementwiseKernel(op: u.op, entry: unsafeBitCast(sym, to: ElementwiseKernel.Entry.self),
                                                fast: u.fast, cost: ElementwiseKernel.cost(u.op), flush: flushDenormals)
        }
        return result
    }
}

/// The native backend's compiler and on-disk kernel cache, for tools and diagnostics.
///
/// ```swift
/// print(NativeCode.compiler ?? "no C compiler: reference kernels")
/// print(NativeCode.cacheDirectory)
/// ```
public enum NativeCode {
    /// The C compiler generated kernels are built with; nil when there is none or `cxx=` is empty.
    public static var compiler: String? { NativeCompiler.shared?.path }

    /// Where compiled kernels are cached (``Config/compiledir`` or the default).
    public static var cacheDirectory: String { Config.current.compiledir ?? NativeCompiler.defaultCacheDirectory() }

    /// The cached modules (each a `.so` with its `.c` source) and their total size in bytes.
    public static func cacheContents() -> (modules: Int, bytes: Int) {
        let dir = cacheDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let bytes = names.reduce(0) { sum, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)
            return sum + ((attributes?[.size] as? Int) ?? 0)
        }
        return (names.filter { $0.hasSuffix(".so") }.count, bytes)
    }

    /// Deletes every cached module (they are rebuilt on demand).
    public static func clearCache() throws {
        let dir = cacheDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where name.hasSuffix(".so") || name.hasSuffix(".c") || name.hasSuffix(".log") {
            try FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }
}
