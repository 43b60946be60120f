/// An op with a kernel of its own on the CUDA backend (beyond the fused composites), declared in
/// the op's file as `NativeLowering` is for the CPU: `Reduce/ReduceCUDA.swift` is the model.
protocol CUDALowering: Op {
    /// The kernel running `node` on `runtime`, or nil to keep the CPU's.
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)?
}
