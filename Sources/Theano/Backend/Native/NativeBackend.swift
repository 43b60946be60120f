import Foundation
import NDArray

/// The CPU backend: fused elementwise loops as generated C (one module per function, so one
/// compiler run on a cold cache), fixed C kernels from `Backend/Native/C`, and BLAS inside the
/// ops' own `perform`. Loaded through ``NativeCompiler``'s cache; without a compiler every node
/// runs its reference `perform`.
struct NativeBackend: Backend {
    var name: String { "native" }
    var device: Device { .cpu }

    func kernels(for nodes: [Apply], options: LoweringOptions) throws -> [Int: any Kernel] {
        guard let compiler = NativeCompiler.shared else { return [:] }
        var lowered: [(index: Int, op: any NativeLowering, symbol: String?)] = []
        var units: [String] = []
        var parts = Set<FixedKernels.Part>()
        for (i, node) in nodes.enumerated() {
            guard let op = node.op as? any NativeLowering, let code = op.nativeCode(node) else { continue }
            switch code {
            case .fixed(let part):
                parts.insert(part)
                lowered.append((i, op, nil))
            case .generated(let generate):
                let symbol = "th_k\(units.count)"
                // An op without a C form for these dtypes keeps its reference implementation.
                guard let source = try? generate(symbol) else { continue }
                units.append(source)
                lowered.append((i, op, symbol))
            }
        }
        // The function's module and the fixed kernels it needs for the first time: compiled
        // side by side.
        var sources: [String] = []
        if !units.isEmpty { sources.append(FixedKernels.generatedModulePrefix + units.joined(separator: "\n")) }
        let missing = parts.subtracting(compiler.fixedKernels.parts).sorted { "\($0)" < "\($1)" }
        sources += missing.map(\.source)
        let modules = try compiler.loadAll(sources)
        for (part, module) in zip(missing, modules.suffix(missing.count)) {
            try compiler.addFixedKernels(part, from: module)
        }
        let fixed = compiler.fixedKernels.kernels
        let module = units.isEmpty ? nil : modules.first
        var result: [Int: any Kernel] = [:]
        for (i, op, symbol) in lowered {
            let code = LinkedCode(fixed: fixed, module: module, symbol: symbol, options: options)
            if let kernel = try op.nativeKernel(nodes[i], code) { result[i] = kernel }
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
