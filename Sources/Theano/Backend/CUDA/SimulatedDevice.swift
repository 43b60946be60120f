import Foundation
import Synchronization

/// `device=cuda-sim`: a device whose memory is host memory and whose kernels are the CUDA
/// backend's own CUDA C, compiled for the CPU by the native backend's C compiler behind a
/// launch-grid shim (`Backend/CUDA/C/cuda_sim_prelude.h`). Placement, transfers and launches then
/// run, and are counted, on any machine.
final class SimulatedDevice: DeviceRuntime {
    let device = Device.simulatedCUDA
    /// A few threads per block, so that the kernels' indexing by thread is exercised; the shim runs
    /// them one after another.
    let threadsPerBlock = 4
    private let state = Mutex(State())

    private struct State {
        /// Each allocation's length, by its address.
        var blocks: [UInt64: Int] = [:]
        var counters = DeviceCounters()
    }

    /// The process's simulated device.
    static let shared = SimulatedDevice()

    var counters: DeviceCounters { state.withLock { $0.counters } }

    /// Counters of this task's own transfers and launches, when set: the process's counters also
    /// count whatever runs beside it.
    ///
    /// ```swift
    /// let mine = SimulatedDevice.Tally()
    /// try SimulatedDevice.$tally.withValue(mine) { _ = try f(x) }
    /// print(mine.counters.launches)
    /// ```
    @TaskLocal static var tally: Tally?

    /// A task's counters (``tally``).
    final class Tally: Sendable {
        private let state = Mutex(DeviceCounters())
        init() {}
        var counters: DeviceCounters { state.withLock { $0 } }
        fileprivate func add(_ change: (inout DeviceCounters) -> Void) { state.withLock { change(&$0) } }
    }

    private func count(_ change: (inout DeviceCounters) -> Void) {
        state.withLock { change(&$0.counters) }
        Self.tally?.add(change)
    }

    func allocate(bytes: Int) throws -> DevicePointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        let address = UInt64(UInt(bitPattern: p))
        state.withLock { $0.blocks[address] = bytes }
        return DevicePointer(address: address)
    }

    func free(_ pointer: DevicePointer) {
        guard state.withLock({ $0.blocks.removeValue(forKey: pointer.address) }) != nil else { return }
        UnsafeMutableRawPointer(bitPattern: UInt(pointer.address))?.deallocate()
    }

    /// The host memory behind `pointer`, checked to hold `bytes` bytes: a kernel or transfer
    /// outside an allocation is an error, as on a GPU.
    private func memory(_ pointer: DevicePointer, bytes: Int) throws -> UnsafeMutableRawPointer {
        let inside = state.withLock { s -> Bool in
            // The allocation at or below the address (views start inside one).
            guard let base = s.blocks.keys.filter({ $0 <= pointer.address }).max(), let length = s.blocks[base] else {
                return false
            }
            return pointer.address - base + UInt64(bytes) <= UInt64(length)
        }
        guard inside,
            let p = UnsafeMutableRawPointer(bitPattern: UInt(pointer.address))
        else {
            throw TheanoError(
                .runtime,
                "cuda-sim: \(bytes) bytes at 0x\(String(pointer.address, radix: 16)) "
                    + "are not inside one device allocation")
        }
        return p
    }

    func uploadNow(_ source: UnsafeRawPointer, to destination: DevicePointer, bytes: Int) throws {
        try memory(destination, bytes: bytes).copyMemory(from: source, byteCount: bytes)
        count {
            $0.uploads += 1
            $0.uploadedBytes += bytes
        }
    }

    func downloadNow(_ source: DevicePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws {
        destination.copyMemory(from: try memory(source, bytes: bytes), byteCount: bytes)
        count {
            $0.downloads += 1
            $0.downloadedBytes += bytes
        }
    }

    func perform(_ work: [DeviceWork]) throws {
        for w in work {
            switch w {
            case .launch(let module, let kernel, let blocks, let arguments):
                try module.launch(kernel, blocks: blocks, words: arguments)
            case .gemm(let g): try gemm(g)
            case .copy(let source, let destination, let bytes): try copy(source, to: destination, bytes: bytes)
            case .zero(let destination, let bytes): try zero(destination, bytes: bytes)
            }
        }
    }

    /// A graph of the simulator: its own copy of the work, run in order when launched.
    func graph(of work: [DeviceWork]) throws -> any DeviceGraph {
        count { $0.graphs += 1 }
        return SimulatedGraph(device: self, work: work)
    }

    fileprivate func countGraph(updated: Bool) {
        count { if updated { $0.graphUpdates += 1 } else { $0.graphLaunches += 1 } }
    }

    private func zero(_ destination: DevicePointer, bytes: Int) throws {
        try memory(destination, bytes: bytes).initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    private func copy(_ source: DevicePointer, to destination: DevicePointer, bytes: Int) throws {
        try memory(destination, bytes: bytes).copyMemory(from: try memory(source, bytes: bytes), byteCount: bytes)
    }

    /// cuBLAS's part is played by OpenBLAS, on the simulated device's (host) memory.
    private func gemm(_ g: DeviceGemm) throws {
        guard let blas = BLAS.shared else {
            throw TheanoError(.config, "device=cuda-sim runs cuBLAS's products with OpenBLAS, which was not found")
        }
        func raw(_ p: DevicePointer) -> UnsafeMutableRawPointer? {
            UnsafeMutableRawPointer(bitPattern: UInt(p.address))
        }
        let (ta, tb): (Int32, Int32) = (g.transA ? 112 : 111, g.transB ? 112 : 111)
        let (m, n, k) = (Int32(g.m), Int32(g.n), Int32(g.k))
        counted {
            if g.double {
                blas.dgemm(
                    101, ta, tb, m, n, k, g.alpha, raw(g.a)?.assumingMemoryBound(to: Double.self), Int32(g.lda),
                    raw(g.b)?.assumingMemoryBound(to: Double.self), Int32(g.ldb), g.beta,
                    raw(g.c)?.assumingMemoryBound(to: Double.self), Int32(g.ldc))
            } else {
                blas.sgemm(
                    101, ta, tb, m, n, k, Float(g.alpha), raw(g.a)?.assumingMemoryBound(to: Float.self), Int32(g.lda),
                    raw(g.b)?.assumingMemoryBound(to: Float.self), Int32(g.ldb), Float(g.beta),
                    raw(g.c)?.assumingMemoryBound(to: Float.self), Int32(g.ldc))
            }
        }
    }

    func module(source: String, kernels: [DeviceKernel]) throws -> any DeviceModule {
        guard let compiler = NativeCompiler.shared else {
            throw TheanoError(
                .config, "device=cuda-sim compiles the CUDA kernels with the C compiler, and there is none")
        }
        let prelude = EmbeddedC.files["cuda_sim_prelude.h"] ?? ""
        let native = try compiler.load(prelude + "\n" + source + CUDACodeGen.simulatorLaunchers(kernels))
        return SimulatedModule(module: native, device: self)
    }

    fileprivate func counted<R>(_ body: () throws -> R) rethrows -> R {
        // Launches are serialised: the shim's grid coordinates are globals of the module.
        Self.tally?.add { $0.launches += 1 }
        return try state.withLock { s in
            s.counters.launches += 1
            return try body()
        }
    }
}

/// A module of the simulator: each kernel's launcher, called with the block count.
private final class SimulatedModule: DeviceModule, @unchecked Sendable {
    typealias Launcher = @convention(c) (Int64, Int64, UnsafeRawPointer) -> Void
    let module: NativeModule
    let device: SimulatedDevice

    init(module: NativeModule, device: SimulatedDevice) {
        self.module = module
        self.device = device
    }

    func launch(_ kernel: String, blocks: Int, arguments: UnsafeRawPointer) throws {
        guard let symbol = module.symbol(kernel + "_launch") else {
            throw TheanoError(.runtime, "cuda-sim: no kernel \(kernel) in its module")
        }
        let launcher = unsafeBitCast(symbol, to: Launcher.self)
        device.counted { launcher(Int64(blocks), Int64(device.threadsPerBlock), arguments) }
    }
}

/// A simulated CUDA graph: the work it was made of, replaced only by an update, so that a graph
/// run with stale arguments gives wrong numbers here as it would on a GPU.
private final class SimulatedGraph: DeviceGraph, @unchecked Sendable {
    let device: SimulatedDevice
    private var work: [DeviceWork]

    init(device: SimulatedDevice, work: [DeviceWork]) {
        self.device = device
        self.work = work
    }

    func update(to work: [DeviceWork]) throws -> Bool {
        guard DeviceWork.sameSteps(self.work, work) else { return false }
        self.work = work
        device.countGraph(updated: true)
        return true
    }

    func launch() throws {
        device.countGraph(updated: false)
        try device.perform(work)
    }
}
