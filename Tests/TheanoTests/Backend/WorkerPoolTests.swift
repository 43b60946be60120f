import Synchronization
import Testing

@testable import Theano

/// ``WorkerPool``: every part of a job runs exactly once, on any count of parts.
struct WorkerPoolTests {
    @Test(arguments: [1, 2, 3, 64, 65, 130])
    func everyPartRunsOnce(_ count: Int) {
        let runs = Counts(count)
        for _ in 0..<50 { WorkerPool.shared.run(count) { runs.bump($0) } }
        #expect(runs.cells.withLock { $0 } == [Int](repeating: 50, count: count), "\(count) parts")
    }

    /// One counter per part, bumped from whichever thread runs it.
    final class Counts: Sendable {
        let cells: Mutex<[Int]>
        init(_ count: Int) { cells = Mutex([Int](repeating: 0, count: count)) }
        func bump(_ i: Int) { cells.withLock { $0[i] += 1 } }
    }
}
