import Dispatch

/// Runs `body` over `0..<count` in at most `Config.current.threads` contiguous chunks, inline
/// when the whole job is small (a thread hand-off costs ~40 µs here).
func parallelChunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(Config.current.threads ?? ElementwiseKernel.cores, count)
    guard threads > 1, work >= 1 << 17 else { body(0..<count); return }
    // The chunks write disjoint memory: the caller's contract, which Sendable cannot express.
    withoutActuallyEscaping(body) { body in
        let chunk = UncheckedChunk(run: body)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            chunk.run(count * t / threads ..< count * (t + 1) / threads)
        }
    }
}

private struct UncheckedChunk: @unchecked Sendable {
    let run: (Range<Int>) -> Void
}
