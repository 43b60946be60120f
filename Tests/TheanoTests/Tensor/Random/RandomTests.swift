import Foundation
import NDArray
import Testing

@testable import Theano

/// Random streams: the generator's known answers, the distributions (moments, chi-square and
/// Kolmogorov–Smirnov checks on large samples), default updates and reproducibility.
struct RandomTests {
    /// Random123's known-answer vectors for Philox-4x32-10 (tests/kat_vectors).
    @Test func philoxKnownAnswers() {
        let a = Philox.block((0, 0, 0, 0), key: (0, 0))
        #expect([a.0, a.1, a.2, a.3] == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let m = UInt32.max
        let b = Philox.block((m, m, m, m), key: (m, m))
        #expect([b.0, b.1, b.2, b.3] == [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let c = Philox.block((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0))
        #expect([c.0, c.1, c.2, c.3] == [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    static func draw(_ v: Variable, mode: Mode = .fastRun) throws -> NDArray {
        try function(inputs: [], outputs: [v], mode: mode)()[0]
    }

    static func moments(_ xs: [Double]) -> (mean: Double, variance: Double) {
        let m = xs.reduce(0, +) / Double(xs.count)
        return (m, xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1))
    }

    /// Pearson's statistic for counts against equal expected counts.
    static func chiSquare(_ counts: [Int]) -> Double {
        let e = Double(counts.reduce(0, +)) / Double(counts.count)
        return counts.reduce(0) { $0 + (Double($1) - e) * (Double($1) - e) / e }
    }

    @Test(arguments: [DType.float32, .float64])
    func uniformMomentsAndChiSquare(_ dtype: DType) throws {
        let srng = RandomStreams(seed: 7)
        let u = try Self.draw(srng.uniform([400, 500], low: -1.0, high: 3.0, dtype: dtype))
        #expect(u.dtype == dtype && u.shape == [400, 500])
        let xs = u.doubles
        #expect(xs.allSatisfy { $0 >= -1 && $0 < 3 })
        let (m, v) = Self.moments(xs)
        // n = 200 000: the mean's standard error is 0.0026, the variance's ~0.004.
        #expect(abs(m - 1) < 0.012 && abs(v - 16.0 / 12) < 0.02, "mean \(m) variance \(v)")
        var counts = [Int](repeating: 0, count: 20)
        for x in xs { counts[min(19, Int((x + 1) / 4 * 20))] += 1 }
        #expect(Self.chiSquare(counts) < 43.8, "chi-square \(Self.chiSquare(counts)) (df 19, p = 0.001)")
    }

    @Test(arguments: [DType.float32, .float64])
    func normalMomentsAndKolmogorovSmirnov(_ dtype: DType) throws {
        let srng = RandomStreams(seed: 11)
        let z = try Self.draw(srng.normal([100_000], mean: 2.0, std: 3.0, dtype: dtype))
        #expect(z.dtype == dtype)
        let (m, v) = Self.moments(z.doubles)
        #expect(abs(m - 2) < 0.04 && abs(v.squareRoot() - 3) < 0.03, "mean \(m) std \(v.squareRoot())")
        let sorted = z.doubles.map { ($0 - 2) / 3 }.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let cdf = 0.5 * erfc(-x / 2.0.squareRoot())
            d = max(d, abs(cdf - Double(i) / n), abs(cdf - Double(i + 1) / n))
        }
        #expect(d < 1.95 / n.squareRoot(), "KS statistic \(d) (p = 0.001 critical \(1.95 / n.squareRoot()))")
    }

    /// p may be a tensor broadcasting to the shape, as in Gibbs sampling.
    @Test func binomialWithTensorProbabilities() throws {
        let srng = RandomStreams(seed: 3)
        let p = constant(try NDArray([0.0, 0.1, 0.5, 0.9, 1.0], shape: [5]))
        let b = try Self.draw(srng.binomial([40_000, 5], p: p, dtype: .float32))
        #expect(b.dtype == .float32)
        let cols = try (0..<5).map { try b.sliced([.all, .at($0)]).doubles }
        #expect(cols[0].allSatisfy { $0 == 0 } && cols[4].allSatisfy { $0 == 1 })
        for (j, want) in [0.1, 0.5, 0.9].enumerated() {
            let (m, _) = Self.moments(cols[j + 1])
            #expect(abs(m - want) < 4 * (want * (1 - want) / 40_000).squareRoot() + 1e-9, "column \(j + 1): \(m)")
        }
        let five = try Self.draw(srng.binomial([100_000], n: 5, p: 0.3))
        #expect(five.dtype == .int64)
        let (m, v) = Self.moments(five.doubles)
        #expect(abs(m - 1.5) < 0.015 && abs(v - 1.05) < 0.03, "mean \(m) variance \(v)")
        #expect(five.doubles.allSatisfy { $0 >= 0 && $0 <= 5 && $0 == $0.rounded() })
    }

    @Test func choiceAndPermutation() throws {
        let srng = RandomStreams(seed: 5)
        let c = try Self.draw(srng.choice([60_000], from: 6))
        var counts = [Int](repeating: 0, count: 6)
        for x in c.doubles { counts[Int(x)] += 1 }
        #expect(Self.chiSquare(counts) < 20.5, "\(counts)")  // df 5, p = 0.001
        let perm = srng.permutation(50)
        let f = try function(inputs: [], outputs: [perm])
        let p1 = try f()[0].doubles
        let p2 = try f()[0].doubles
        #expect(p1.sorted() == (0..<50).map(Double.init) && p2.sorted() == p1.sorted())
        #expect(p1 != p2)
    }

    /// Each call advances the stream; reseeding replays it; every mode draws the same numbers.
    @Test func defaultUpdatesAndReseeding() throws {
        let srng = RandomStreams(seed: 42)
        let x = fvector("x")
        let noisy =
            x * srng.binomial(x.shape, p: 0.5, dtype: .float32) + srng.normal(x.shape, std: 0.1, dtype: .float32)
        let f = try function(inputs: [x], outputs: [noisy])
        let ones = try NDArray([Float](repeating: 1, count: 64), shape: [64])
        let a = try f(ones)[0].doubles
        let b = try f(ones)[0].doubles
        #expect(a != b)
        srng.seed(42)
        #expect(try f(ones)[0].doubles == a)
        #expect(try f(ones)[0].doubles == b)
        // Another stream object with the same seed and the same draws gives the same numbers.
        let other = RandomStreams(seed: 42)
        let again =
            x * other.binomial(x.shape, p: 0.5, dtype: .float32) + other.normal(x.shape, std: 0.1, dtype: .float32)
        for mode in [Mode.fastRun, .fastCompile, .debug] {
            other.seed(42)
            #expect(try function(inputs: [x], outputs: [again], mode: mode)(ones)[0].doubles == a, "\(mode.name)")
        }
        // Opting out: the same numbers on every call.
        let frozen = try function(inputs: [x], outputs: [noisy], noDefaultUpdates: true)
        #expect(try frozen(ones)[0].doubles == frozen(ones)[0].doubles)
        // A different seed gives different numbers.
        srng.seed(43)
        #expect(try f(ones)[0].doubles != a)
    }

    /// Sample i is the same whatever the thread split: element i of a uniform float32 draw is
    /// word i of the call's Philox stream.
    @Test func samplesDependOnlyOnTheirPosition() throws {
        let srng = RandomStreams(seed: 9)
        let n = 1 << 20
        let u = try Self.draw(srng.uniform([n], dtype: .float32)).doubles
        let state = RandomStreams.initialState(seed: 9, index: 0).scalars(as: Int64.self)
        for i in [0, 1, 3, 4, 255, 256, n / 2 - 1, n / 2, n - 1] {
            var w: UInt32 = 0
            Philox.words(key: UInt64(bitPattern: state[0]), call: 0, first: i, count: 1, into: &w)
            #expect(u[i] == Double(w >> 8) * 0x1p-24, "element \(i)")
        }
    }

    @Test func randomDrawsAreNotDifferentiable() throws {
        let srng = RandomStreams(seed: 1)
        let p = dvector("p")
        let s = srng.binomial(p.shape, p: p, dtype: .float64)
        #expect(throws: TheanoError.self) { _ = try grad(sum(s * p), wrt: [p]) }
        // Through disconnectedGrad the sample is a constant.
        let g = try grad(sum(disconnectedGrad(s) * p), wrt: [p])[0]
        let f = try function(inputs: [p], outputs: [s, g], noDefaultUpdates: true)
        let out = try f(try NDArray([0.2, 0.7, 1.0], shape: [3]))
        #expect(out[0].doubles == out[1].doubles)
    }

    @Test func badParametersAreClearErrors() throws {
        let srng = RandomStreams(seed: 1)
        let p = dvector("p")
        let f = try function(inputs: [p], outputs: [srng.binomial([3], p: p)])
        #expect(throws: TheanoError.self) { _ = try f(try NDArray([0.5, 2.0, 0.1], shape: [3])) }
        #expect(throws: TheanoError.self) { _ = try f(try NDArray([0.5, 0.5], shape: [2])) }
        #expect(throws: TheanoError.self) {
            _ = try function(
                inputs: [], outputs: [srng.uniform([2], low: constant(try NDArray.zeros([2, 2], dtype: .float32)))])
        }
    }
}
