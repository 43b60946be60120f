/// Runs `body` over `0..<count` in at most `Config.current.threads` contiguous chunks on
/// ``WorkerPool`` (whose spinning workers would otherwise compete with Dispatch's threads for
/// the cores), inline when the whole job is small.
func parallelChunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    _ = parallelChunksSucceed(count, work: work) { range in
        body(range)
        return true
    }
}

/// The same for a body that can fail (a native kernel that could not allocate its scratch
/// memory): true when every chunk succeeded.
func parallelChunksSucceed(_ count: Int, work: Int, _ body: (Range<Int>) -> Bool) -> Bool {
    let threads = min(Config.current.threads ?? ElementwiseKernel.cores, count)
    guard threads > 1, work >= 1 << 17 else { return body(0..<count) }
    let results = UncheckedResults(count: threads)
    defer { results.flags.deallocate() }
    // The chunks write disjoint memory: the caller's contract, which Sendable cannot express.
    withoutActuallyEscaping(body) { body in
        let chunk = UncheckedChunk(run: body)
        WorkerPool.shared.run(threads) { t in
            results.flags[t] = chunk.run(count * t / threads..<count * (t + 1) / threads)
        }
    }
    return results.flags.allSatisfy { $0 }
}

private struct UncheckedChunk: @unchecked Sendable {
    let run: (Range<Int>) -> Bool
}

/// One flag per chunk, each written by its own thread only.
private struct UncheckedResults: @unchecked Sendable {
    let flags: UnsafeMutableBufferPointer<Bool>

    init(count: Int) {
        flags = .allocate(capacity: count)
        flags.initialize(repeating: false)
    }
}
