import NDArray

/// The CUDA backend: fused composites run as generated CUDA kernels on a ``DeviceRuntime``, ops
/// that are ``CUDALowering`` as their own kernels; every other node keeps the CPU's native kernel
/// (or `perform`). One module per function holds
/// its composites' kernels.
struct CUDABackend: Backend {
    let runtime: any DeviceRuntime
    var name: String { "cuda" }
    var device: Device { runtime.device }
    /// Replays read host pointers: on the device, repeated work becomes CUDA graphs instead.
    var replaysOnHost: Bool { false }

    /// A mode excluding `"cuda_graphs"` still queues a call's work, launched kernel by kernel.
    func callContext(excluded: Set<String>) -> (any CallContext)? {
        DeviceGraphs(runtime: runtime, graphs: !excluded.contains("cuda_graphs"))
    }

    func kernels(for nodes: [Apply], options: LoweringOptions) throws -> [Int: any Kernel] {
        var result: [Int: any Kernel] = [:]
        var units: [(index: Int, unit: CUDACodeGen.KernelUnit)] = []
        for (i, node) in nodes.enumerated() {
            if let op = node.op as? any CUDALowering, let kernel = try op.cudaKernel(node, runtime: runtime) {
                result[i] = kernel
            } else if let op = node.op as? Composite, !Self.staysOnHost(node) {
                let fast = ElementwiseKernel.fastPattern(op, inputs: node.inputs.map(\.type))
                units.append((i, CUDACodeGen.KernelUnit(name: "th_d\(units.count)", op: op, fast: fast)))
            }
        }
        if !units.isEmpty {
            let module = try runtime.module(units.map(\.unit))
            for (i, u) in units {
                result[i] = DeviceElementwiseKernel(
                    op: u.op, name: u.name, module: module, runtime: runtime, fast: u.fast)
            }
        }
        // The rest on the CPU: only their C is compiled, not that of the nodes the device runs.
        let rest = nodes.indices.filter { result[$0] == nil }
        for (k, kernel) in try NativeBackend().kernels(for: rest.map { nodes[$0] }, options: options) {
            result[rest[k]] = kernel
        }
        return result
    }

    /// Arithmetic on scalars alone (an index, a shape's length) stays on the host, where the
    /// slicing and allocation that read it run: a launch and two transfers would cost more.
    static func staysOnHost(_ node: Apply) -> Bool {
        func single(_ v: Variable) -> Bool { v.type.shape.allSatisfy { $0 == 1 } }
        return node.outputs.allSatisfy(single) && node.inputs.allSatisfy(single)
    }
}
