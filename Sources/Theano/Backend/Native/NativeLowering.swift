import NDArray

/// An op with a CPU native kernel. Its file declares which C code the kernel needs and builds
/// the kernel from it; the native backend compiles and loads the code and asks each node.
///
/// ```swift
/// extension Softmax: NativeLowering {
///     func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.softmax, forFloat: node) }
///     func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? { ... }
/// }
/// ```
protocol NativeLowering: Op {
    /// The C code the node's kernel is in, or nil when the node runs `perform`.
    func nativeCode(_ node: Apply) -> NativeSource?
    /// The node's kernel once its code is loaded; nil to run `perform`.
    func nativeKernel(_ node: Apply, _ code: LinkedCode) throws -> (any Kernel)?
}

/// Where a node's native kernel comes from.
enum NativeSource {
    /// A fixed C file of `Backend/Native/C`, compiled once per machine and element type.
    case fixed(FixedKernels.Part)
    /// C generated for this node, given the symbol to define; compiled with the function's other
    /// generated kernels into one module.
    case generated(@Sendable (String) throws -> String)

    /// A fixed file's kernel for a node whose first input is float; nil for other dtypes.
    static func fixed(_ file: FixedKernels.File, forFloat node: Apply) -> NativeSource? {
        guard let d = node.inputs.first?.dtype, d.isFloat else { return nil }
        return .fixed(FixedKernels.Part(file: file, dtype: d))
    }
}

/// The loaded code a node's kernel is made from.
struct LinkedCode {
    /// The fixed kernels loaded so far, per element type.
    let fixed: FixedKernels
    /// For generated code: the function's module and the node's symbol.
    let module: NativeModule?
    let symbol: String?
    let options: LoweringOptions

    /// The generated symbol's address.
    func generatedEntry() throws -> UnsafeMutableRawPointer {
        guard let module, let symbol else { throw TheanoError(.compile, "internal error: no generated module") }
        guard let p = module.symbol(symbol) else {
            throw TheanoError(.compile, "\(module.path) has no symbol \(symbol)")
        }
        return p
    }
}
