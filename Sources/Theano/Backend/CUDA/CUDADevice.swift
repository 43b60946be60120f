import Foundation
import Synchronization

/// A GPU through the CUDA driver: device memory, transfers, modules compiled by NVRTC to a CUBIN
/// for the device's own architecture (cached on disk), and launches on the default stream, each
/// followed by a synchronisation so that errors surface at the node that caused them.
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
    private typealias Memset = @convention(c) (UInt64, UInt8, Int) -> Status
    private typealias DtoD = @convention(c) (UInt64, UInt64, Int) -> Status
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
    fileprivate typealias Synchronize = @convention(c) () -> Status

    let device: Device
    let threadsPerBlock = CUDACodeGen.blockSize
    let facts: CUDADriver.Device
    fileprivate let driver: CUDADriver
    private let nvrtc: NVRTC
    private let context: OpaquePointer?
    private let setCurrent: SetCurrent, alloc: Alloc, release: Free, htod: HtoD, dtoh: DtoH, memset: Memset
    private let loadData: LoadData, getFunction: GetFunction, dtod: DtoD
    /// Loaded on the first product.
    private let blas = Mutex<CUBLAS?>(nil)
    fileprivate let launchKernel: Launch, synchronize: Synchronize
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
        memset = try driver.entry("cuMemsetD8_v2", Memset.self)
        dtod = try driver.entry("cuMemcpyDtoD_v2", DtoD.self)
        loadData = try driver.entry("cuModuleLoadData", LoadData.self)
        getFunction = try driver.entry("cuModuleGetFunction", GetFunction.self)
        launchKernel = try driver.entry("cuLaunchKernel", Launch.self)
        synchronize = try driver.entry("cuCtxSynchronize", Synchronize.self)
        var ctx: OpaquePointer?
        try driver.check(retain(&ctx, Int32(ordinal)), "cuDevicePrimaryCtxRetain")
        context = ctx
    }

    fileprivate func current() throws { try driver.check(setCurrent(context), "cuCtxSetCurrent") }

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

    func upload(_ source: UnsafeRawPointer, to destination: DevicePointer, bytes: Int) throws {
        try current()
        try driver.check(htod(destination.address, source, bytes), "cuMemcpyHtoD (\(bytes) bytes)")
        tally.withLock {
            $0.uploads += 1
            $0.uploadedBytes += bytes
        }
    }

    func download(_ source: DevicePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws {
        try current()
        try driver.check(dtoh(destination, source.address, bytes), "cuMemcpyDtoH (\(bytes) bytes)")
        tally.withLock {
            $0.downloads += 1
            $0.downloadedBytes += bytes
        }
    }

    func zero(_ destination: DevicePointer, bytes: Int) throws {
        try current()
        try driver.check(memset(destination.address, 0, bytes), "cuMemsetD8")
    }

    func copy(_ source: DevicePointer, to destination: DevicePointer, bytes: Int) throws {
        try current()
        try driver.check(dtod(destination.address, source.address, bytes), "cuMemcpyDtoD (\(bytes) bytes)")
    }

    func gemm(_ product: DeviceGemm) throws {
        try current()
        try blas.withLock { loaded in
            let cublas = try loaded ?? CUBLAS.load()
            loaded = cublas
            try cublas.run(product)
        }
        try driver.check(synchronize(), "cuBLAS gemm")
        counted()
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

    fileprivate func counted() { tally.withLock { $0.launches += 1 } }
}

/// A loaded CUBIN's kernels.
private struct CUDAModule: DeviceModule, @unchecked Sendable {
    let functions: [String: OpaquePointer]
    let device: CUDADevice

    func launch(_ kernel: String, blocks: Int, arguments: UnsafeRawPointer) throws {
        guard let f = functions[kernel] else { throw TheanoError(.runtime, "CUDA: no kernel \(kernel) in its module") }
        try device.current()
        var parameter: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(mutating: arguments)
        let status = withUnsafeMutablePointer(to: &parameter) { p in
            device.launchKernel(
                f, UInt32(blocks), 1, 1, UInt32(device.threadsPerBlock), 1, 1, 0, nil, p, nil)
        }
        try device.driver.check(status, "cuLaunchKernel(\(kernel))")
        try device.driver.check(device.synchronize(), "\(kernel)")
        device.counted()
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
