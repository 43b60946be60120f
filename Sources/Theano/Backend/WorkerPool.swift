import Foundation
import Synchronization

/// Worker threads that stay awake for a moment between jobs, for work split into a few parts
/// that each take tens of microseconds (the blocks of a BLAS product).
///
/// Why not `DispatchQueue.concurrentPerform`: on this kind of virtual machine a parked thread
/// takes longer to wake than such a part takes to run, so the caller ends up running every part
/// itself. These workers spin on an atomic counter for about 250 µs after each job (as OpenBLAS's
/// own threads do) before they sleep.
final class WorkerPool: @unchecked Sendable {
    /// One worker per core besides the caller's.
    static let shared = WorkerPool(workers: max(0, ElementwiseKernel.cores - 1))

    private let workers: Int
    /// The job: its parts are claimed through `next` and counted done in `finished`. Written
    /// only before `next` is reset (release), read only after a claim (acquire).
    private var body: (@Sendable (Int) -> Void)?
    private let count = Atomic<Int>(0)
    /// The next part to claim; far past any count while idle.
    private static let idle = 1 << 60
    private let next = Atomic<Int>(WorkerPool.idle)
    private let finished = Atomic<Int>(0)
    /// Bumped for each job, so spinning workers notice it.
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// One job at a time; a caller that finds the pool busy runs its parts itself.
    private let busy = Atomic<Bool>(false)

    /// Iterations of the spin before a worker sleeps (roughly 250 µs): long enough to span a
    /// training step's work between its products. With ~50 µs the worker often slept between
    /// them and woke after the caller had started its part alone (six interleaved runs, medians:
    /// logistic tutorial 1.35 → 1.26 s, MLP epoch 0.58 → 0.53 s).
    private static let spinLimit = 100_000

    private init(workers: Int) {
        self.workers = workers
        for _ in 0..<workers {
            let thread = Thread { [unowned self] in self.work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(0) … body(count - 1)` on the caller's thread and the workers; returns when all
    /// have finished.
    func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard workers > 0, count > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<count { body(i) }
            return
        }
        self.body = body
        self.count.store(count, ordering: .relaxed)
        finished.store(0, ordering: .relaxed)
        next.store(0, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        for _ in 0..<sleepers.load(ordering: .acquiring) { wake.signal() }
        claim()
        while finished.load(ordering: .acquiring) < count {}
        next.store(Self.idle, ordering: .relaxed)
        self.body = nil
        busy.store(false, ordering: .releasing)
    }

    /// Runs parts of the current job until none is left.
    private func claim() {
        while true {
            let i = next.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
            guard i < count.load(ordering: .relaxed), let body else { return }
            body(i)
            finished.add(1, ordering: .releasing)
        }
    }

    private func work() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit { continue }
                sleepers.add(1, ordering: .acquiringAndReleasing)
                // A job posted between the check and here has signalled (or will): no lost wake-up.
                if generation.load(ordering: .acquiring) == seen { wake.wait() }
                sleepers.subtract(1, ordering: .acquiringAndReleasing)
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            claim()
        }
    }
}
