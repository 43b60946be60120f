import Foundation
import NDArray
import Synchronization
import Testing

@testable import Theano

struct BLASTests {
    @Test func openBLASIsLoadedWithTheCoreTypeFixed() throws {
        let blas = try #require(BLAS.shared, "libopenblas0 should be installed by scripts/setup")
        #expect(blas.path.contains("openblas") || blas.path.contains("blis"))
        if let core = BLAS.coreTypeForThisCPU() {
            let set = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
            #expect(set != nil, "OPENBLAS_CORETYPE should be \(core) before loading")
        }
    }

    /// BLAS and the built-in fallback agree, on contiguous, transposed and strided operands.
    @Test(arguments: [DType.float32, .float64, .int32])
    func fallbackMatchesBLAS(_ dtype: DType) throws {
        var g = SplitMix64(seed: 3)
        let a = try NDArray((0..<(7 * 5)).map { _ in (g.unit() * 10).rounded() }, shape: [7, 5]).cast(to: dtype)
        let b = try NDArray((0..<(7 * 4)).map { _ in (g.unit() * 10).rounded() }, shape: [7, 4]).cast(to: dtype)
        let at = a.transposed()  // (5, 7), a transposed view
        // (7, 2) strided
        let bs = try b.sliced([.range(start: nil, stop: nil, step: 1), .range(start: nil, stop: nil, step: 2)])
        let fast = try matmul(at, bs, dtype: dtype)
        let slow = try matmul(at, bs, dtype: dtype, useBLAS: false)
        #expect(fast.shape == [5, 2])
        #expect(fast.doubles == slow.doubles)
        var expected = [Double](repeating: 0, count: 10)
        for i in 0..<5 {
            for j in 0..<2 {
                for k in 0..<7 {
                    expected[i * 2 + j] += try a.element(at: [k, i]) * b.element(at: [k, j * 2])
                }
            }
        }
        #expect(slow.doubles == expected)
    }

    /// Products large enough to be split across cores (by rows when C is tall, by columns when it
    /// is wide), with transposed operands and an accumulator, against a float64 loop: the blocks
    /// must tile C exactly, with each operand's block starting where it should.
    /// (600×520 is wide on both sides: OpenBLAS's own threads, no split.)
    @Test(arguments: [(150, 70, 200), (40, 300, 200), (333, 331, 21), (600, 520, 8)])
    func splitProductsTileTheResult(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        #expect(m * n * k >= BLAS.splitThreshold)
        var g = SplitMix64(seed: 5)
        // A stored transposed
        let at = try NDArray((0..<(k * m)).map { _ in (g.unit() * 8).rounded() - 4 }, shape: [k, m])
        let b = try NDArray((0..<(k * n)).map { _ in (g.unit() * 8).rounded() - 4 }, shape: [k, n])
        let bt = b.transposed().contiguous(forceCopy: true)  // B stored transposed
        let c = try NDArray((0..<(m * n)).map { _ in (g.unit() * 8).rounded() - 4 }, shape: [m, n])
        var want = c.doubles.map { 0.5 * $0 }
        let av = at.doubles
        let bv = b.doubles
        for i in 0..<m {
            for p in 0..<k {
                let x = av[p * m + i]
                for j in 0..<n { want[i * n + j] += x * bv[p * n + j] }
            }
        }
        for dtype in [DType.float32, .float64] {
            let a1 = at.transposed().cast(to: dtype)
            let b1 = b.cast(to: dtype)
            let b2 = bt.transposed().cast(to: dtype)
            for (x, y) in [(a1, b1), (a1.contiguous(forceCopy: true), b2)] {
                let got = try gemm(x, y, dtype: dtype, alpha: 1, beta: 0.5, c: c.cast(to: dtype))
                #expect(got.doubles == want, "\(dtype) \(m)×\(n)×\(k)")
            }
        }
    }

    @Test("the worker pool runs every part exactly once, also when several callers share it")
    func workerPoolRunsEachPartOnce() throws {
        final class Counts: Sendable { let parts = Mutex([Int](repeating: 0, count: 64)) }
        let counts = Counts()
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<200 {
                WorkerPool.shared.run(16) { i in counts.parts.withLock { $0[caller * 16 + i] += 1 } }
            }
        }
        #expect(counts.parts.withLock { $0 } == [Int](repeating: 200, count: 64))
    }

    /// The small-product gemv loop (below BLAS's entry cost) on row-major, transposed, strided,
    /// reversed and single-row operands, with and without beta, against a float64 nested loop.
    @Test(arguments: [DType.float32, .float64])
    func smallGemvHandlesEveryLayout(_ dtype: DType) throws {
        var g = SplitMix64(seed: 11)
        let base = try NDArray((0..<(9 * 14)).map { _ in g.unit() * 2 - 1 }, shape: [9, 14]).cast(to: dtype)
        let all = AxisIndex.all
        let layouts: [(String, NDArray)] = [
            ("row-major", base),
            ("transposed", base.transposed()),
            (
                "strided",
                try base.sliced([.range(start: nil, stop: nil, step: 2), .range(start: 1, stop: nil, step: 3)])
            ),
            ("reversed", try base.sliced([.range(start: nil, stop: nil, step: -1), all])),
            ("one row", try base.sliced([.range(start: 2, stop: 3, step: 1), .range(start: nil, stop: nil, step: 2)])),
            (
                "transposed, one column used",
                try base.transposed().sliced([all, .range(start: 4, stop: 5, step: 1)]).transposed()
            )
        ]
        for (name, a) in layouts {
            let m = a.shape[0]
            let k = a.shape[1]
            let x = try NDArray((0..<k).map { _ in g.unit() - 0.5 }).cast(to: dtype)
            let y = try NDArray((0..<m).map { _ in g.unit() }).cast(to: dtype)
            for (alpha, beta) in [(1.0, 0.0), (-0.5, 2.0)] {
                let got = try gemv(a, x, y: y, alpha: alpha, beta: beta, dtype: dtype).doubles
                for i in 0..<m {
                    var want = beta * (try y.element(at: [i]))
                    for j in 0..<k { want += alpha * (try a.element(at: [i, j])) * (try x.element(at: [j])) }
                    let tolerance = dtype == .float32 ? 1e-5 : 1e-12
                    #expect(Swift.abs(got[i] - want) <= tolerance, "\(name) \(dtype) row \(i): \(got[i]) vs \(want)")
                }
            }
        }
    }

    @Test func sharedCopiesUnlessBorrowing() throws {
        let v = try NDArray([1, 2, 3] as [Float])
        #expect(!shared(v).value.sharesStorage(with: v))
        #expect(shared(v, borrow: true).value.sharesStorage(with: v))
        let s = shared(v)
        try s.setValue(try NDArray([4, 5] as [Float]))
        #expect(s.value.doubles == [4, 5])
        try s.setValue(try NDArray([7] as [Int16]))  // safe cast into float32
        #expect(s.value.dtype == .float32)
    }
}
