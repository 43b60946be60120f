import NDArray

/// The CUDA backend: fused composites run as generated CUDA kernels on a ``DeviceRuntime``, ops
/// that are ``CUDALowering`` as their own kernels; every other node keeps the CPU's native kernel
/// (or `perform`). One module per function holds
/// its composites' kernels.
struct CUDABackend: Backend {
    let runtime: any DeviceRuntime
    var name: String { "cuda" }
    var device: Device { runtime.device }

    func kernels(for nodes: [Apply], options: LoweringOptions) throws -> [Int: any Kernel] {
        var result = try NativeBackend().kernels(for: nodes, options: options)
        var units: [(index: Int, unit: CUDACodeGen.KernelUnit)] = []
        for (i, node) in nodes.enumerated() {
            if let op = node.op as? any CUDALowering, let kernel = try op.cudaKernel(node, runtime: runtime) {
                result[i] = kernel
                continue
            }
            guard let op = node.op as? Composite else { continue }
            let fast = ElementwiseKernel.fastPattern(op, inputs: node.inputs.map(\.type))
            units.append((i, CUDACodeGen.KernelUnit(name: "th_d\(units.count)", op: op, fast: fast)))
        }
        guard !units.isEmpty else { return result }
        let module = try runtime.module(units.map(\.unit))
        for (i, u) in units {
            result[i] = DeviceElementwiseKernel(op: u.op, name: u.name, module: module, runtime: runtime, fast: u.fast)
        }
        return result
    }
}
