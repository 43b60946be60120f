import NDArray
import Synchronization

/// The memory plan's buffers: per step and output, arrays from earlier calls (at most two, so an
/// update can alternate between them while the shared variable holds the other). A call takes
/// the pool and puts it back, so concurrent calls never share a buffer.
final class BufferPool: Sendable {
    private let kept = Mutex<[[[NDArray]]]>([])

    /// This call's buffers, one list per step (empty when another call holds them).
    func take(steps: Int) -> [[[NDArray]]] {
        let taken = kept.withLock { p -> [[[NDArray]]] in
            let taken = p
            p = []
            return taken
        }
        return taken.count == steps ? taken : Array(repeating: [], count: steps)
    }

    func putBack(_ buffers: [[[NDArray]]]) { kept.withLock { $0 = buffers } }

    /// Per output, a kept buffer that nothing outside the pool holds any more.
    static func free(_ kept: inout [[NDArray]], outputs: Int) -> [NDArray?] {
        (0..<outputs).map { o in
            guard o < kept.count else { return nil }
            for k in kept[o].indices where kept[o][k].hasUniqueStorage() { return kept[o][k] }
            return nil
        }
    }

    /// Keeps each contiguous result for later calls (the two most recent buffers per output).
    static func remember(_ results: [NDArray], in kept: inout [[NDArray]]) {
        while kept.count < results.count { kept.append([]) }
        for (o, r) in results.enumerated() where r.isContiguous && r.count > 0 {
            if kept[o].contains(where: { $0.sharesStorage(with: r) }) { continue }
            kept[o].append(r)
            if kept[o].count > 2 { kept[o].removeFirst() }
        }
    }
}
