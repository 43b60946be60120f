import CKernels
import Foundation
import Synchronization

/// Worker threads that stay awake for a moment between jobs, for work split into a few parts
/// that each take tens of microseconds (the blocks of a product, of an elementwise loop, of a
/// convolution's lowering). Every parallel loop of the library runs here: Dispatch's threads
/// would compete with the spinning workers for the cores (docs/NATIVE.md, "Figures behind the code").
///
/// Why not `DispatchQueue.concurrentPerform`: on this kind of virtual machine a parked thread
/// takes longer to wake than such a part takes to run, so the caller ends up running every part
/// itself. These workers spin on an atomic counter for 0.5 ms after each job (as OpenBLAS's own
/// threads do) before they sleep.
final class WorkerPool: @unchecked Sendable {
    /// One worker per core besides the caller's.
    static let shared = WorkerPool(workers: max(0, ElementwiseKernel.cores - 1))

    private let workers: Int
    /// The job: its parts are claimed through `claimed` and counted done in `finished`. Written
    /// only before `claimed` is reset (release), read only after a claim (acquire).
    private var body: (@Sendable (Int) -> Void)?
    /// One bit per part, set once the part is taken; bits past the job's parts (all bits while
    /// idle) are set.
    private let claimed = Atomic<UInt64>(.max)
    private let finished = Atomic<Int>(0)
    /// Parts per job at most: one bit each in `claimed`.
    static let maxParts = 64
    /// Bumped for each job, so spinning workers notice it.
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// One job at a time; a caller that finds the pool busy runs its parts itself.
    private let busy = Atomic<Bool>(false)

    /// How long a worker spins after a job before it sleeps: long enough to span a training
    /// step's one-thread work between its products, since a worker that slept takes longer to
    /// wake than a block takes to run. A time, not a count of iterations, whose duration varied
    /// with the machine (docs/NATIVE.md, "Figures behind the code").
    private static let spinNanoseconds: UInt64 = 500_000
    /// Bumped by ``park()``: spinning workers go to sleep at once.
    private let parking = Atomic<Int>(0)

    private init(workers: Int) {
        self.workers = workers
        for w in 0..<workers {
            let thread = Thread { [unowned self] in self.work(w + 1) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(0) … body(count - 1)` on the caller's thread and the workers; returns when all
    /// have finished. Part 0 runs on the caller and part p on worker p whenever that worker is
    /// awake, so that jobs split the same way keep each block of memory on the core that used it
    /// last (the forward product, the weight update and the square sum of a layer's weights each
    /// read the same rows on the same core: docs/NATIVE.md, "Short products"). A part whose
    /// thread is late is taken by whichever finishes first.
    func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count <= Self.maxParts else {
            run(Self.maxParts) { p in
                for part in stride(from: p, to: count, by: Self.maxParts) { body(part) }
            }
            return
        }
        guard workers > 0, count > 1,
            busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for i in 0..<count { body(i) }
            return
        }
        self.body = body
        finished.store(0, ordering: .relaxed)
        claimed.store(count == Self.maxParts ? 0 : .max << UInt64(count), ordering: .releasing)
        generation.add(1, ordering: .releasing)
        for _ in 0..<sleepers.load(ordering: .acquiring) { wake.signal() }
        claim(preferring: 0)
        while finished.load(ordering: .acquiring) < count {}
        claimed.store(.max, ordering: .relaxed)
        self.body = nil
        busy.store(false, ordering: .releasing)
    }

    /// Runs part `first` if it is still free, then any others left.
    private func claim(preferring first: Int) {
        var part = first
        while true {
            if part < Self.maxParts,
                claimed.bitwiseOr(1 << UInt64(part), ordering: .acquiringAndReleasing).oldValue & (1 << UInt64(part))
                    == 0
            {
                // A part is taken only while its job runs, so `body` is that job's.
                body?(part)
                finished.add(1, ordering: .releasing)
            }
            let free = ~claimed.load(ordering: .acquiring)
            if free == 0 { return }
            part = free.trailingZeroBitCount
        }
    }

    /// Worker `id` (1…workers): spins, then sleeps, between jobs; prefers part `id` of each.
    private func work(_ id: Int) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            let parked = parking.load(ordering: .relaxed)
            let start = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                th_spin_pause()
                spins += 1
                if spins & 63 != 0 { continue }
                if DispatchTime.now().uptimeNanoseconds - start < Self.spinNanoseconds,
                    parking.load(ordering: .relaxed) == parked
                {
                    continue
                }
                sleepers.add(1, ordering: .acquiringAndReleasing)
                // A job posted between the check and here has signalled (or will): no lost wake-up.
                if generation.load(ordering: .acquiring) == seen { wake.wait() }
                sleepers.subtract(1, ordering: .acquiringAndReleasing)
                break
            }
            guard generation.load(ordering: .acquiring) != seen else { continue }
            seen = generation.load(ordering: .acquiring)
            claim(preferring: id)
        }
    }

    /// The block of `0..<length` that part `p` of a job cut into `parts` takes: equal blocks with
    /// edges on multiples of `multiple` (a kernel's tile, a cache line), the last ones shorter or
    /// empty. Every job that splits an array uses it, so jobs over the same memory cut it alike.
    static func block(_ p: Int, of length: Int, parts: Int, multiple: Int) -> Range<Int> {
        let step = ((length + parts - 1) / parts + multiple - 1) / multiple * multiple
        let lo = min(length, p * step)
        return lo..<min(length, lo + step)
    }

    /// Sends spinning workers to sleep now: before other threads (OpenBLAS's own) need the cores.
    func park() {
        parking.add(1, ordering: .relaxed)
    }
}
