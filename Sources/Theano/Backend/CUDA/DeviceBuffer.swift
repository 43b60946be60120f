import NDArray

/// A storage's copy in a device's memory: one allocation as long as the storage, freed with it.
/// ``NDStorage`` keeps it coherent with host memory (``StorageMirror``), so values stay on the
/// device between the nodes and calls that use them there.
final class DeviceBuffer: StorageMirror, @unchecked Sendable {
    let runtime: any DeviceRuntime
    let pointer: DevicePointer

    init(runtime: any DeviceRuntime, bytes: Int) throws {
        self.runtime = runtime
        pointer = try runtime.allocate(bytes: max(bytes, 1))
        DeviceQueue.of(runtime)?.hold(self)
    }

    deinit { runtime.free(pointer) }

    func copyToHost(_ destination: UnsafeMutableRawPointer, bytes: Int) throws {
        try runtime.download(pointer, to: destination, bytes: bytes)
    }

    func copyFromHost(_ source: UnsafeRawPointer, bytes: Int) throws {
        try runtime.upload(source, to: pointer, bytes: bytes)
    }
}

extension DevicePointer {
    func advanced(by bytes: Int) -> DevicePointer {
        DevicePointer(address: address &+ UInt64(bitPattern: Int64(bytes)))
    }
}

extension DeviceRuntime {
    /// The device address of `a`'s element `[0, 0, …]`, its storage uploaded when host memory
    /// holds newer bytes (strides are `a`'s own).
    func address(reading a: NDArray) throws -> DevicePointer {
        let storage = a.storage
        let buffer = try storage.mirrorForReading { try DeviceBuffer(runtime: self, bytes: storage.byteCount) }
        DeviceQueue.of(self)?.hold(buffer)
        return buffer.pointer.advanced(by: a.offset * a.dtype.itemSize)
    }

    /// A contiguous array of `shape` whose bytes a kernel is about to write on the device: `buffer`
    /// when it fits (the VM's memory from an earlier call), else a new one whose host memory is
    /// not filled until host code reads it.
    func output(_ shape: [Int], _ dtype: DType, reusing buffer: NDArray?) throws -> (NDArray, DevicePointer) {
        let array: NDArray
        if let b = buffer, b.shape == shape, b.dtype == dtype, b.isContiguous {
            array = b
        } else {
            array = try NDArray.empty(shape, dtype: dtype)
        }
        let storage = array.storage
        let device = try storage.mirrorForWriting { try DeviceBuffer(runtime: self, bytes: storage.byteCount) }
        DeviceQueue.of(self)?.hold(device)
        return (array, device.pointer.advanced(by: array.offset * dtype.itemSize))
    }

    /// A contiguous copy of contiguous `a` made on the device.
    func deviceCopy(_ a: NDArray) throws -> NDArray {
        let (out, p) = try output(a.shape, a.dtype, reusing: nil)
        try copy(try address(reading: a), to: p, bytes: a.count * a.dtype.itemSize)
        return out
    }

    /// The device address of `a` for a kernel that updates it in place (read, then written).
    func address(updating a: NDArray) throws -> DevicePointer {
        let p = try address(reading: a)
        a.storage.mirrorWasWritten()
        return p
    }

    /// The fixed kernels of `file` (in `Backend/CUDA/C`) for a float `dtype`, each kernel `k`
    /// taking `struct k_args` (or the arguments named beside it).
    func fixedModule(
        _ file: String, _ dtype: DType, kernels: [(name: String, arguments: String)]
    ) throws
        -> any DeviceModule
    {
        try module(
            source: try CUDACodeGen.fixedSource(file, dtype),
            kernels: kernels.map { DeviceKernel(name: $0.name, arguments: $0.arguments) })
    }

    /// Launches (or queues, in a call) `kernel` of `module` over `work` items with `arguments` (a
    /// C struct's words).
    func launch(_ kernel: String, of module: any DeviceModule, items work: Int, arguments: [Int64]) throws {
        let threads = threadsPerBlock
        let blocks = max(1, min((work + threads - 1) / threads, DeviceElementwiseKernel.maxBlocks))
        try submit(.launch(module: module, kernel: kernel, blocks: blocks, arguments: arguments))
    }
}

extension Int64 {
    /// A device address as a kernel argument word.
    init(_ p: DevicePointer) { self.init(bitPattern: p.address) }
}
