import Synchronization

/// An address in a device's memory.
struct DevicePointer: Hashable, Sendable {
    let address: UInt64
}

/// What the CUDA backend needs of a device: memory, transfers, modules of generated kernels and
/// launches. Two conformers: the CUDA driver (a real GPU) and ``SimulatedDevice``
/// (`device=cuda-sim`: the same kernels compiled for the CPU, memory in host memory), which
/// runs the whole host side of the backend on machines without a GPU.
protocol DeviceRuntime: AnyObject, Sendable {
    /// The device, as `THEANO_FLAGS=device=…` names it.
    var device: Device { get }
    /// Threads per block for the generated kernels (at most ``CUDACodeGen/blockSize``).
    var threadsPerBlock: Int { get }
    func allocate(bytes: Int) throws -> DevicePointer
    func free(_ pointer: DevicePointer)
    /// Copies host memory to the device now, whatever a call has queued (``upload(_:to:bytes:)``
    /// runs the queue first).
    func uploadNow(_ source: UnsafeRawPointer, to destination: DevicePointer, bytes: Int) throws
    /// Copies device memory to the host now (``download(_:to:bytes:)`` runs the queue first).
    func downloadNow(_ source: DevicePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws
    /// Runs `work` in order and waits for it to finish.
    func perform(_ work: [DeviceWork]) throws
    /// `work` captured as a graph, not yet run (a CUDA graph on a GPU).
    func graph(of work: [DeviceWork]) throws -> any DeviceGraph
    /// A module of CUDA C `source` (after this device's prelude) holding `kernels`, compiled
    /// for this device. Each kernel `K` takes one `struct <arguments>` by value and has its
    /// thread's work in `K_thread(const struct <arguments> a, double *sum)` (the simulator calls
    /// it thread by thread).
    func module(source: String, kernels: [DeviceKernel]) throws -> any DeviceModule
    /// Transfers and launches so far.
    var counters: DeviceCounters { get }
}

/// A kernel of a module, as a launcher sees it.
struct DeviceKernel: Sendable {
    let name: String
    /// The tag of its argument struct.
    let arguments: String
    /// For a reduction to a scalar: the index of its double accumulator among the pointers its
    /// argument struct starts with, to which each block adds its threads' sums.
    var accumulator: Int?
}

extension DeviceRuntime {
    /// A module of composites' kernels (``CUDACodeGen/kernels(_:name:fast:)``).
    func module(_ units: [CUDACodeGen.KernelUnit]) throws -> any DeviceModule {
        let source = try units.map { try CUDACodeGen.kernels($0.op, name: $0.name, fast: $0.fast) }.joined()
        let kernels = units.flatMap { u in
            let accumulator = u.op.reduction != nil ? u.op.inputDTypes.count : nil
            return [u.name + "_flat", u.name].map {
                DeviceKernel(name: $0, arguments: u.name + "_args", accumulator: accumulator)
            }
        }
        return try module(source: source, kernels: kernels)
    }
}

/// A loaded module's kernels (a class: queued work names its module by identity).
protocol DeviceModule: AnyObject, Sendable {
    /// Starts `kernel` on `blocks` blocks of the runtime's threads per block, with the argument
    /// struct `arguments`, after the work started before it (the simulator runs it at once).
    func launch(_ kernel: String, blocks: Int, arguments: UnsafeRawPointer) throws
}

/// Host↔device traffic and launches, which tests and the profiler read.
struct DeviceCounters: Sendable, Equatable {
    /// `launches` counts kernels and products run, alone or inside a graph.
    var uploads = 0, downloads = 0, launches = 0
    var uploadedBytes = 0, downloadedBytes = 0
    /// Graphs made (captured and instantiated), updated to new arguments, and launched.
    var graphs = 0, graphUpdates = 0, graphLaunches = 0
}

/// Row-major `C = alpha · op(A) · op(B) + beta · C` (float32 or float64), as cuBLAS computes it:
/// `op(A)` is m × k, `op(B)` k × n, each stored with its leading dimension.
struct DeviceGemm: Sendable, Equatable {
    var double: Bool
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var alpha = 1.0, beta = 0.0
    var a: DevicePointer, lda: Int
    var b: DevicePointer, ldb: Int
    var c: DevicePointer, ldc: Int
}
