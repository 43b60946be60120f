import Synchronization

/// A call's device work, queued instead of run launch by launch, and run when the host needs a
/// result (a download), before host bytes go up (an upload), and at the end of the call.
///
/// Why: a launch followed by a wait costs the host tens of microseconds, which is all the time a
/// small minibatch's kernels take on a GPU. Queued, a call's kernels run back to back; and when
/// a stretch of work repeats call after call, it becomes a CUDA graph (``DeviceGraphs``), one
/// launch for all of them.
///
/// Device memory named by queued work stays allocated until the call ends: the queue holds every
/// ``DeviceBuffer`` made or addressed while it is current. (Not merely until the next run: an
/// address taken before a run may be queued after it, as when a kernel's index table goes up.)
final class DeviceQueue: @unchecked Sendable {
    /// The queue of the call running on this task, if any.
    @TaskLocal static var current: DeviceQueue?

    let runtime: any DeviceRuntime
    /// The function's graphs, nil when another call of it holds them.
    private let graphs: DeviceGraphs?
    private var work: [DeviceWork] = []
    private var held: [DeviceBuffer] = []
    /// Which run of the queue this is within the call: the position of its graph.
    private var stretch = 0

    init(runtime: any DeviceRuntime, graphs: DeviceGraphs?) {
        self.runtime = runtime
        self.graphs = graphs
    }

    /// The current queue, when it is `runtime`'s.
    static func of(_ runtime: any DeviceRuntime) -> DeviceQueue? {
        guard let q = current, q.runtime === runtime else { return nil }
        return q
    }

    func append(_ w: DeviceWork) { work.append(w) }
    func hold(_ buffer: DeviceBuffer) { held.append(buffer) }

    /// Runs what is queued (through the function's graph for this stretch when there is one).
    func run() throws {
        guard !work.isEmpty else { return }
        let pending = work
        work.removeAll(keepingCapacity: true)
        if let graphs {
            try graphs.run(pending, stretch: stretch, on: runtime)
        } else {
            try runtime.perform(pending)
        }
        stretch += 1
    }

    /// Runs what is queued and lets go of the memory it named: the call is over.
    func finish() throws {
        defer { held.removeAll() }
        try run()
    }

    /// Drops what is queued: the call failed, so nothing it computed is used.
    func abandon() {
        work.removeAll()
        held.removeAll()
    }
}

extension DeviceRuntime {
    /// Queues `w` in the current call, or runs it now outside one.
    func submit(_ w: DeviceWork) throws {
        if let q = DeviceQueue.of(self) { q.append(w) } else { try perform([w]) }
    }

    /// Host memory to the device, after the queued work (which may read the old bytes).
    func upload(_ source: UnsafeRawPointer, to destination: DevicePointer, bytes: Int) throws {
        try DeviceQueue.of(self)?.run()
        try uploadNow(source, to: destination, bytes: bytes)
    }

    /// Device memory to the host, once the queued work has written it.
    func download(_ source: DevicePointer, to destination: UnsafeMutableRawPointer, bytes: Int) throws {
        try DeviceQueue.of(self)?.run()
        try downloadNow(source, to: destination, bytes: bytes)
    }

    /// A matrix product in device memory: cuBLAS on a GPU.
    func gemm(_ product: DeviceGemm) throws { try submit(.gemm(product)) }

    /// Sets `bytes` bytes at `destination` to zero.
    func zero(_ destination: DevicePointer, bytes: Int) throws { try submit(.zero(destination, bytes: bytes)) }

    /// Copies `bytes` bytes within device memory.
    func copy(_ source: DevicePointer, to destination: DevicePointer, bytes: Int) throws {
        try submit(.copy(from: source, to: destination, bytes: bytes))
    }
}

/// A function's CUDA graphs, one per stretch of its calls' work (the work between two looks of
/// the host at device memory), made once a stretch has had the same steps in two calls.
///
/// A graph runs exactly the work the call queued: when only arguments changed (a minibatch's
/// offset, a buffer that moved) it is updated first, and when the steps changed it is
/// dropped. So a graph never decides what runs, only how many launches it takes.
final class DeviceGraphs: CallContext, @unchecked Sendable {
    let runtime: any DeviceRuntime
    private struct Stretch {
        var last: [DeviceWork]
        /// Calls in a row with these steps.
        var repeats = 1
        var graph: (any DeviceGraph)?
    }
    private var stretches: [Stretch] = []
    private let busy = Atomic<Bool>(false)
    private let statistics = Mutex(GraphStatistics())
    var graphStatistics: GraphStatistics { statistics.withLock { $0 } }
    private var disabled: String? { graphStatistics.disabled }

    /// Whether stretches may become graphs (else the queued work runs launch by launch).
    private let graphs: Bool

    init(runtime: any DeviceRuntime, graphs: Bool = true) {
        self.runtime = runtime
        self.graphs = graphs
    }

    /// Runs one call with its device work queued, and the queue run at its end; work left by a
    /// call that failed is dropped.
    func run<R>(_ call: () throws -> R) throws -> R {
        let mine = busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        defer { if mine { busy.store(false, ordering: .releasing) } }
        let queue = DeviceQueue(runtime: runtime, graphs: mine ? self : nil)
        return try DeviceQueue.$current.withValue(queue) {
            do {
                let result = try call()
                try queue.finish()
                return result
            } catch {
                queue.abandon()
                throw error
            }
        }
    }

    /// Runs `work`, the call's stretch number `index`: through its graph, made on the third
    /// call with the same steps, or launch by launch.
    func run(_ work: [DeviceWork], stretch index: Int, on runtime: any DeviceRuntime) throws {
        guard graphs, disabled == nil else { return try runtime.perform(work) }
        guard index < stretches.count else {
            if index == stretches.count { stretches.append(Stretch(last: work)) }
            return try runtime.perform(work)
        }
        var s = stretches[index]
        defer { stretches[index] = s }
        let same = DeviceWork.sameSteps(s.last, work)
        s.repeats = same ? s.repeats + 1 : 1
        if !same { s.graph = nil }
        let changed = s.last != work
        s.last = work
        guard s.repeats >= 3 else { return try runtime.perform(work) }
        // Failures to make or update a graph fall back to launches: the work has not run yet.
        var counts = GraphStatistics()
        do {
            if let g = s.graph, changed {
                if try g.update(to: work) { counts.updates += 1 } else { s.graph = nil }
            }
            if s.graph == nil {
                s.graph = try runtime.graph(of: work)
                counts.made += 1
            }
        } catch {
            statistics.withLock { $0.disabled = "\(error)" }
            s.graph = nil
            return try runtime.perform(work)
        }
        try s.graph?.launch()
        counts.launches += 1
        statistics.withLock {
            $0.made += counts.made
            $0.updates += counts.updates
            $0.launches += counts.launches
        }
    }
}

/// How a function's calls used CUDA graphs (``Function/graphStatistics``).
public struct GraphStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Graphs captured and instantiated (one per repeating stretch of a call's work, again when
    /// its steps change).
    public var made = 0
    /// Graphs updated to a call's arguments (a minibatch's offset, a buffer that moved).
    public var updates = 0
    /// Stretches of work run as a graph: one launch each.
    public var launches = 0
    /// Why graphs were turned off for the function (a driver without them, a failed capture),
    /// which then launches kernel by kernel.
    public var disabled: String?

    public var description: String {
        "graphs made \(made), updated \(updates), launched \(launches)" + (disabled.map { " (off: \($0))" } ?? "")
    }
}
