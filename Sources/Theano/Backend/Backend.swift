import NDArray

/// Where a value lives.
///
/// `.cpu` is host memory. Under `.cuda(ordinal)` (and the simulator) values that device kernels
/// produce or read keep a copy in device memory, which ``NDStorage`` keeps coherent with host
/// memory; they cross only where host code reads them (docs/GPU.md, "Where values live").
public enum Device: Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)
    /// The CUDA backend on the CPU (`device=cuda-sim`): its kernels compiled for the host, its
    /// "device" memory in host memory (``SimulatedDevice``), for tests without a GPU.
    case simulatedCUDA

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let n): "cuda\(n)"
        case .simulatedCUDA: "cuda-sim"
        }
    }

    /// `cpu`, `cuda` (device 0), `cuda0`, `cuda1`, … or `cuda-sim`, as `THEANO_FLAGS=device=`
    /// takes it; nil for anything else.
    public init?(flag: String) {
        switch flag {
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        case "cuda-sim": self = .simulatedCUDA
        default:
            guard flag.hasPrefix("cuda"), let n = Int(flag.dropFirst(4)), n >= 0 else { return nil }
            self = .cuda(n)
        }
    }
}

/// A faster implementation of one node than its op's `perform`, made by a backend at lowering.
/// The VM calls it in place of `perform`, with the same contract: `buffers` holds, per output,
/// an array from an earlier call that nothing else holds (or nil), to reuse when it fits.
protocol Kernel: Sendable {
    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray]
    /// Whether it reads and writes its operands in a device's memory (``StorageMirror``), so
    /// that an update in place goes through it rather than through host memory.
    var runsOnDevice: Bool { get }
}

extension Kernel {
    var runsOnDevice: Bool { false }
}

/// What lowering may take into account besides the nodes.
struct LoweringOptions: Sendable {
    /// float32 work flushes denormals to zero (``Mode/flushesDenormals``).
    var flushDenormals = false
}

/// Turns a function's nodes into kernels for one kind of device.
///
/// Lowering asks each node's op for this backend's kernel through the backend's own protocol
/// (the CPU's is `NativeLowering`), so neither the VM nor the backend names an op. A node without
/// a kernel runs its op's reference `perform`, which is always correct.
protocol Backend: Sendable {
    /// `reference`, `native`, …
    var name: String { get }
    /// Where the kernels' results live.
    var device: Device { get }
    /// The kernels for `nodes` (in schedule order), by position.
    func kernels(for nodes: [Apply], options: LoweringOptions) throws -> [Int: any Kernel]
    /// Whether calls at fixed layouts may be replayed from host pointers (``Replay``).
    var replaysOnHost: Bool { get }
    /// What a function's calls carry from one to the next on this backend, wrapping each call
    /// (the CUDA backend: queued launches and CUDA graphs), for a mode excluding `excluded`; nil
    /// for nothing.
    func callContext(excluded: Set<String>) -> (any CallContext)?
}

extension Backend {
    var replaysOnHost: Bool { true }
    func callContext(excluded: Set<String>) -> (any CallContext)? { nil }
}

/// A function's state across its calls on a backend (``Backend/callContext(excluded:)``).
protocol CallContext: AnyObject, Sendable {
    /// Runs one call of the function.
    func run<R>(_ call: () throws -> R) throws -> R
    /// How its calls used device graphs so far.
    var graphStatistics: GraphStatistics { get }
}

/// Every node through its op's `perform`: FAST_COMPILE, constant folding, and the yardstick
/// DEBUG mode checks the other backends against.
struct ReferenceBackend: Backend {
    var name: String { "reference" }
    var device: Device { .cpu }
    func kernels(for nodes: [Apply], options: LoweringOptions) throws -> [Int: any Kernel] { [:] }
}

extension Mode {
    /// The backend this mode lowers to, on `device` (``Config/device``).
    func backend(on device: Device) throws -> any Backend {
        guard usesNativeCode else { return ReferenceBackend() }
        switch device {
        case .cpu: return NativeBackend()
        case .simulatedCUDA: return CUDABackend(runtime: SimulatedDevice.shared)
        case .cuda(let n): return CUDABackend(runtime: try CUDADevice.shared(ordinal: n))
        }
    }
}
