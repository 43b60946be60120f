/// The driver's CUDA-graph entry points, loaded on a function's first graph: a driver without
/// them leaves that function launching kernel by kernel (``DeviceGraphs``).
struct CUDAGraphAPI: @unchecked Sendable {
    typealias Status = CUDADriver.Status
    typealias Handle = OpaquePointer?
    typealias BeginCapture = @convention(c) (Handle, Int32) -> Status
    typealias EndCapture = @convention(c) (Handle, UnsafeMutablePointer<Handle>) -> Status
    typealias Instantiate = @convention(c) (UnsafeMutablePointer<Handle>, Handle, UInt64) -> Status
    typealias Update = @convention(c) (Handle, Handle, UnsafeMutableRawPointer) -> Status
    typealias Launch = @convention(c) (Handle, Handle) -> Status
    typealias Destroy = @convention(c) (Handle) -> Status

    let beginCapture: BeginCapture, endCapture: EndCapture, instantiate: Instantiate, update: Update
    let launch: Launch, destroyGraph: Destroy, destroyExec: Destroy

    init(_ driver: CUDADriver) throws {
        beginCapture = try driver.entry("cuStreamBeginCapture_v2", BeginCapture.self)
        endCapture = try driver.entry("cuStreamEndCapture", EndCapture.self)
        instantiate = try driver.entry("cuGraphInstantiateWithFlags", Instantiate.self)
        update = try driver.entry("cuGraphExecUpdate_v2", Update.self)
        launch = try driver.entry("cuGraphLaunch", Launch.self)
        destroyGraph = try driver.entry("cuGraphDestroy", Destroy.self)
        destroyExec = try driver.entry("cuGraphExecDestroy", Destroy.self)
    }
}

extension CUDADevice {
    /// The work captured from the stream (nothing runs) and instantiated.
    func graph(of work: [DeviceWork]) throws -> any DeviceGraph {
        let api = try graphAPI.withLock { loaded in
            let api = try loaded ?? CUDAGraphAPI(driver)
            loaded = api
            return api
        }
        let graph = try capture(work, api)
        var exec: OpaquePointer?
        let status = api.instantiate(&exec, graph, 0)
        guard status == 0 else {
            _ = api.destroyGraph(graph)
            try driver.check(status, "cuGraphInstantiate")
            throw TheanoError(.runtime, "CUDA cuGraphInstantiate failed")
        }
        countGraph(made: 1)
        return CUDAGraph(device: self, api: api, graph: graph, exec: exec, kernels: kernels(work))
    }

    fileprivate func kernels(_ work: [DeviceWork]) -> Int {
        work.count { w in
            switch w {
            case .launch, .gemm: true
            case .copy, .zero: false
            }
        }
    }

    /// `work` recorded as a graph. Relaxed capture: cuBLAS may look up its workspace meanwhile.
    fileprivate func capture(_ work: [DeviceWork], _ api: CUDAGraphAPI) throws -> OpaquePointer? {
        try current()
        try driver.check(api.beginCapture(stream, 2), "cuStreamBeginCapture")
        var graph: OpaquePointer?
        do {
            try enqueue(work)
        } catch {
            // The stream must leave capture mode whatever failed.
            if api.endCapture(stream, &graph) == 0 { _ = api.destroyGraph(graph) }
            throw error
        }
        try driver.check(api.endCapture(stream, &graph), "cuStreamEndCapture")
        return graph
    }
}

/// An instantiated CUDA graph of a stretch of a function's work, on its device's stream.
private final class CUDAGraph: DeviceGraph, @unchecked Sendable {
    let device: CUDADevice
    let api: CUDAGraphAPI
    private var graph: OpaquePointer?
    private let exec: OpaquePointer?
    /// Kernels and products in it, for the launch counter.
    private var kernels: Int

    init(device: CUDADevice, api: CUDAGraphAPI, graph: OpaquePointer?, exec: OpaquePointer?, kernels: Int) {
        self.kernels = kernels
        self.device = device
        self.api = api
        self.graph = graph
        self.exec = exec
    }

    deinit {
        _ = api.destroyExec(exec)
        _ = api.destroyGraph(graph)
    }

    /// Captures `work` and lets the driver carry its arguments into the instantiated graph
    /// (`cuGraphExecUpdate`), which it refuses when the kernels differ (cuBLAS may pick others).
    func update(to work: [DeviceWork]) throws -> Bool {
        let fresh = try device.capture(work, api)
        // CUgraphExecUpdateResultInfo: a result and two node handles.
        var info = [UInt64](repeating: 0, count: 4)
        let status = info.withUnsafeMutableBytes { raw in raw.baseAddress.map { api.update(exec, fresh, $0) } ?? 1 }
        guard status == 0 else {
            _ = api.destroyGraph(fresh)
            return false
        }
        _ = api.destroyGraph(graph)
        graph = fresh
        kernels = device.kernels(work)
        device.countGraph(updated: 1)
        return true
    }

    func launch() throws {
        try device.current()
        try device.driver.check(api.launch(exec, device.stream), "cuGraphLaunch")
        try device.driver.check(device.synchronizeStream(device.stream), "a CUDA graph's work")
        device.countGraph(kernels: kernels, launched: 1)
    }
}
