import Foundation
import Synchronization

/// A GPU through the CUDA driver: device memory, transfers, modules compiled by NVRTC to a CUBIN
/// for the device's own architecture (cached on disk), and work started on one stream of its
/// own: a call's queued work (``DeviceQueue``) back to back, or as a CUDA graph
/// (`CUDAGraph.swift`), then waited for; work outside a call, one launch and a wait.
///
/// Not yet run on a GPU (docs/GPU.md): `scripts/gpu-check` is where it will be.
final class CUDADevice: DeviceRuntime, @unchecked Sendable {
    typealias Status = CUDADriver.Status
    private typealias Retain = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Status
    private typealias SetCurrent = @convention(c) (OpaquePointer?) -> Status
    private typealias Alloc = @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Status
    private typealias Free = @convention(c) (UInt64) -> Status
    private typealias HtoD = @convention(c) (UInt64, UnsafeRawPointer, Int) -> Status
    private typealias DtoH = @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Status
    private typealias MemsetAsync = @convention(c) (UInt64, UInt8, Int, OpaquePointer?) -> Status
    private typealias CopyAsync = @convention(c) (UInt64, UInt64, Int, OpaquePointer?) -> Status
    private typealias LoadData = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Status
    private typealias GetFunction =
        @convention(c) (
            UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>
        ) -> Status
    fileprivate typealias Launch =
        @convention(c) (
            OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        ) -> Status
    private typealias StreamCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> Status
    typealias StreamCall = @convention(c) (OpaquePointer?) -> Status

    let device: Device
    let threadsPerBlock = CUDACodeGen.blockSize
    let facts: CUDADriver.Device
    let driver: CUDADriver
    private let nvrtc: NVRTC
    private let context: OpaquePointer?
    private let setCurrent: SetCurrent, alloc: Alloc, release: Free, htod: HtoD, dtoh: DtoH
    private let loadData: LoadData, getFunction: GetFunction
    private let memsetAsync: MemsetAsync, copyAsync: CopyAsync
    /// Where all work starts; blocking, so the synchronous transfers wait for it.
    let stream: OpaquePointer?
    let synchronizeStream: StreamCall
    /// Loaded on the first product.
    private let blas = Mutex<CUBLAS?>(nil)
    fileprivate let launchKernel: Launch
    /// The graph entry points, loaded on the first graph.
    let graphAPI = Mutex<CUDAGraphAPI?>(nil)
    private let tally = Mutex(DeviceCounters())

    var counters: DeviceCounters { tally.withLock { $0 } }

    private static let opened = Mutex<[Int: CUDADevice]>([:])

    /// The process's runtime for device `ordinal`, opened on first use; throws the driver's or
    /// NVRTC's error (naming where they were searched) when the machine cannot run it.
    static func shared(ordinal: Int) throws -> CUDADevice {
        if let d = opened.withLock({ $0[ordinal] }) { return d }
        let d = try CUDADevice(ordinal: ordinal)
        return opened.withLock { table in
            if let existing = table[ordinal] { return existing }
            table[ordinal] = d
            return d
        }
    }

    /// Device `ordinal`'s primary context (shared with cuBLAS), made current on each call.
    init(ordinal: Int) throws {
        driver = try CUDADriver.load()
        facts = try driver.device(ordinal)
        nvrtc = try NVRTC.shared.get()
        device = .cuda(ordinal)
        let retain = try driver.entry("cuDevicePrimaryCtxRetain", Retain.self)
        setCurrent = try driver.entry("cuCtxSetCurrent", SetCurrent.self)
        alloc = try driver.entry("cuMemAlloc_v2", Alloc.self)
        release = try driver.entry("cuMemFree_v2", Free.self)
        htod = try driver.entry("cuMemcpyHtoD_v2", HtoD.self)
        dtoh = try driver.entry("cuMemcpyDtoH_v2", DtoH.self)
        memsetAsync = try driver.entry("cuMemsetD8Async", MemsetAsync.self)
        copyAsync = try driver.entry("cuMemcpyDtoDAsync_v2", CopyAsync.self)
        loadData = try driver.entry("cuModuleLoadData", LoadData.self)
        getFunction = try driver.entry("cuModuleGetFunction", GetFunction.self)
        launchKernel = try driver.entry("cuLaunchKernel", Launch.self)
        synchronizeStream = try driver.entry("cuStreamSynchronize", StreamCall.self)
        let createStream = try driver.entry("cuStreamCreate", StreamCreate.self)
        var ctx: OpaquePointer?
        try driver.check(retain(&ctx, Int32(ordinal)), "cuDevicePrimaryCtxRetain")
        context = ctx
        try driver.check(setCurrent(ctx), "cuCtxSetCurrent")
        var s: OpaquePointer?
        try driver.check(createStream(&s, 0), "cuStreamCreate")
        stream = s
    }

    func current() throws { try driver.check(setCurrent(context), "cuCtxSetCurrent") }

    func allocate(bytes: Int) throws -> DevicePointer {
        try current()
        var p: UInt64 = 0
        try driver.check(alloc(&p, max(bytes, 1)), "cuMemAlloc (\(bytes) bytes)")
        return DevicePointer(address: p)
    }

    func free(_ pointer: DevicePointer) {
        guard (try? current()) != nil else { return }
        _ = release(pointer.address)
    }

    func uploadNow(_ source: UnsafeRawPointer, to destination: DevicePointer, bytes: Int) throws {
        try current()
        try driver.check(htod(destination.address, source, bytes), "cuMemcpyHtoD (\(bytes) bytes)")
        tally.withLock {
            $0.uploads += 1
            $0.uploadedBytes += bytes
        }
    }

    func downloadNow(_ source: DevicePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws {
        try current()
        try driver.check(dtoh(destination, source.address, bytes), "cuMemcpyDtoH (\(bytes) bytes)")
        tally.withLock {
            $0.downloads += 1
            $0.downloadedBytes += bytes
        }
    }

    /// Runs `work` on the stream and waits for it: an error of any of it is reported here.
    func perform(_ work: [DeviceWork]) throws {
        try current()
        let kernels = try enqueue(work)
        try driver.check(synchronizeStream(stream), "work (\(DeviceWork.describe(work)))")
        countGraph(kernels: kernels)
    }

    /// Starts `work` on the stream without waiting (or records it, while the stream captures);
    /// returns how many kernels and products it holds.
    @discardableResult
    func enqueue(_ work: [DeviceWork]) throws -> Int {
        var kernels = 0
        for w in work {
            switch w {
            case .launch(let module, let kernel, let blocks, let arguments):
                try module.launch(kernel, blocks: blocks, words: arguments)
                kernels += 1
            case .gemm(let product):
                try blas.withLock { loaded in
                    let cublas = try loaded ?? CUBLAS.load(stream: stream)
                    loaded = cublas
                    try cublas.run(product)
                }
                kernels += 1
            case .copy(let source, let destination, let bytes):
                try driver.check(
                    copyAsync(destination.address, source.address, bytes, stream),
                    "cuMemcpyDtoDAsync (\(bytes) bytes)")
            case .zero(let destination, let bytes):
                try driver.check(memsetAsync(destination.address, 0, bytes, stream), "cuMemsetD8Async")
            }
        }
        return kernels
    }

    func countGraph(kernels: Int = 0, made: Int = 0, updated: Int = 0, launched: Int = 0) {
        tally.withLock {
            $0.launches += kernels
            $0.graphs += made
            $0.graphUpdates += updated
            $0.graphLaunches += launched
        }
    }

    func module(source: String, kernels: [DeviceKernel]) throws -> any DeviceModule {
        let source = CUDACodeGen.prelude + "\n" + source
        let cubin = try CUBINCache.cubin(for: source, architecture: facts.architecture, nvrtc: nvrtc)
        try current()
        var module: OpaquePointer?
        try cubin.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try driver.check(loadData(&module, base), "cuModuleLoadData")
        }
        var functions: [String: OpaquePointer] = [:]
        for kernel in kernels.map(\.name) {
            var f: OpaquePointer?
            try driver.check(getFunction(&f, module, kernel), "cuModuleGetFunction(\(kernel))")
            if let f { functions[kernel] = f }
        }
        return CUDAModule(functions: functions, device: self)
    }
}

/// A loaded CUBIN's kernels.
private final class CUDAModule: DeviceModule, @unchecked Sendable {
    let functions: [String: OpaquePointer]
    let device: CUDADevice

    init(functions: [String: OpaquePointer], device: CUDADevice) {
        self.functions = functions
        self.device = device
    }

    func launch(_ kernel: String, blocks: Int, arguments: UnsafeRawPointer) throws {
        guard let f = functions[kernel] else { throw TheanoError(.runtime, "CUDA: no kernel \(kernel) in its module") }
        // The driver copies the parameters when the launch is made (or captured).
        var parameter: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(mutating: arguments)
        let status = withUnsafeMutablePointer(to: &parameter) { p in
            device.launchKernel(
                f, UInt32(blocks), 1, 1, UInt32(device.threadsPerBlock), 1, 1, 0, device.stream, p, nil)
        }
        try device.driver.check(status, "cuLaunchKernel(\(kernel))")
    }
}

/// CUBINs on disk, keyed by the source, the compile options, NVRTC's version and the
/// architecture, beside the native backend's kernel cache.
enum CUBINCache {
    static func cubin(for source: String, architecture: Int, nvrtc: NVRTC) throws -> [UInt8] {
        let folder = (Config.current.compiledir ?? NativeCompiler.defaultCacheDirectory()) + "/cuda"
        let identity =
            "nvrtc \(nvrtc.version.major).\(nvrtc.version.minor) sm_\(architecture) "
            + NVRTC.options(architecture: architecture).joined(separator: " ")
        let key = NativeCompiler.digest(identity + "\n" + source)
        let path = folder + "/" + key + ".cubin"
        if let data = FileManager.default.contents(atPath: path), !data.isEmpty { return [UInt8](data) }
        let cubin = try nvrtc.compile(source, name: key + ".cu", architecture: architecture)
        // Best effort, and atomic: a reader finds a whole file or none.
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = path + ".\(getpid()).tmp"
        if FileManager.default.createFile(atPath: temporary, contents: Data(cubin)) { rename(temporary, path) }
        return cubin
    }
}
