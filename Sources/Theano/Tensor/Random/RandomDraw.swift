import Foundation
import NDArray

/// One draw from a random stream: `(state, dims…, params…) → (new state, sample)`.
///
/// The state is an int64 vector `[key, calls]`. Call `c` of a stream reads Philox blocks
/// `(b, c)` under its key, and sample `i` (in C order) always uses words `i·k ..< (i+1)·k`, `k`
/// words per sample; the new state is `[key, c + 1]`. So a draw is a pure function of its inputs:
/// merging, DEBUG's re-runs and threads all see the same numbers.
public struct RandomDraw: DifferentiableOp {
    public enum Distribution: Hashable, Sendable, CustomStringConvertible {
        /// Params: low, high.
        case uniform
        /// Params: mean, standard deviation (Box–Muller).
        case normal
        /// Successes in `n` trials. Param: p.
        case binomial(Int)
        /// Integers in `0 ..< n`, with replacement.
        case choice(Int)
        /// A permutation of `0 ..< dims[0]`.
        case permutation

        public var description: String {
            switch self {
            case .uniform: "uniform"
            case .normal: "normal"
            case .binomial(let n): "binomial(n=\(n))"
            case .choice(let n): "choice(\(n))"
            case .permutation: "permutation"
            }
        }

        var paramCount: Int {
            switch self {
            case .uniform, .normal: 2
            case .binomial: 1
            case .choice, .permutation: 0
            }
        }
    }

    public let distribution: Distribution
    public let dtype: DType
    public let ndim: Int

    public var outputCount: Int { 2 }
    public var description: String { "RandomDraw{\(distribution), \(dtype)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1 + ndim + distribution.paramCount else {
            throw OpError(
                "\(self) takes a state, \(ndim) lengths and \(distribution.paramCount) parameters, got "
                    + "\(inputs.count) inputs"
            )
        }
        guard inputs[0].dtype == .int64, inputs[0].ndim == 1 else {
            throw OpError("a random state is an int64 vector, got \(inputs[0])")
        }
        for d in inputs[1...ndim] where !(d.dtype.isInteger && d.ndim == 0) {
            throw OpError("random shapes are integer scalars, got \(d)")
        }
        for p in inputs.dropFirst(1 + ndim) {
            guard p.dtype != .bool else { throw OpError("\(distribution) parameters must be numbers, got \(p)") }
            guard p.ndim <= ndim else { throw OpError("parameter \(p) has more dimensions than the \(ndim)-d sample") }
        }
        if case .binomial(let n) = distribution, n < 0 { throw OpError("binomial needs n ≥ 0, got \(n)") }
        if case .choice(let n) = distribution, n <= 0 { throw OpError("choice needs n ≥ 1, got \(n)") }
        if case .permutation = distribution, ndim != 1 { throw OpError("a permutation is a vector") }
        return [inputs[0], TensorType(dtype, shape: Array(repeating: nil, count: ndim))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let state = inputs[0].scalars(as: Int64.self)
        guard state.count == 2 else {
            throw OpError("a random state holds [key, calls], got \(state.count) numbers", kind: .shape)
        }
        let shape = try inputs[1...ndim].map { d -> Int in
            let n = Int(try d.cast(to: .float64).item())
            guard n >= 0 else {
                throw OpError(
                    "random shape \(inputs[1...ndim].map { $0.doubles[0] }) has a negative length", kind: .shape)
            }
            return n
        }
        let count = try NDArray.checkedCount(shape)
        let params = try inputs.dropFirst(1 + ndim).map { p -> [Double] in
            guard let b = try? p.broadcast(to: shape) else {
                throw OpError(
                    "\(distribution) parameter of shape \(p.shape) does not broadcast to the sample shape \(shape)",
                    kind: .shape)
            }
            return b.doubles
        }
        if case .binomial = distribution, let bad = params[0].first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw OpError("binomial p must be in [0, 1], got \(bad)", kind: .badInput)
        }
        let key = UInt64(bitPattern: state[0])
        let call = UInt64(bitPattern: state[1])
        var values = [Double](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            if case .permutation = distribution {
                permute(base, count, key: key, call: call)
                return
            }
            let k = wordsPerSample
            parallelChunks(count, work: count * k * 4) { range in
                var words = [UInt32](repeating: 0, count: 256 * k)
                var i = range.lowerBound
                words.withUnsafeMutableBufferPointer { wb in
                    guard let w = wb.baseAddress else { return }
                    while i < range.upperBound {
                        let n = min(256, range.upperBound - i)
                        Philox.words(key: key, call: call, first: i * k, count: n * k, into: w)
                        for j in 0..<n { base[i + j] = draw(w + j * k, params, i + j) }
                        i += n
                    }
                }
            }
        }
        let sample = try NDArray(values, shape: shape)
        let next = NDArray(vector: [state[0], Int64(bitPattern: call &+ 1)])
        return [next, dtype == .float64 ? sample : sample.cast(to: dtype)]
    }

    /// Words each sample consumes: 24- or 53-bit uniforms, two uniforms per normal, one word
    /// per Bernoulli trial, 64 bits per choice.
    private var wordsPerSample: Int {
        let wide = dtype == .float64
        switch distribution {
        case .uniform: return wide ? 2 : 1
        case .normal: return wide ? 4 : 2
        case .binomial(let n): return max(n, 1)
        case .choice, .permutation: return 2
        }
    }

    /// Uniform in [0, 1) with the precision of the dtype.
    @inline(__always)
    private func unit(_ w: UnsafePointer<UInt32>) -> Double {
        if dtype == .float64 { return Double((UInt64(w[0]) >> 5) << 26 | UInt64(w[1]) >> 6) * 0x1p-53 }
        return Double(w[0] >> 8) * 0x1p-24
    }

    @inline(__always)
    private func draw(_ w: UnsafePointer<UInt32>, _ params: [[Double]], _ i: Int) -> Double {
        switch distribution {
        case .uniform:
            let lo = params[0][i]
            let hi = params[1][i]
            return lo + (hi - lo) * unit(w)
        case .normal:
            let half = dtype == .float64 ? 2 : 1
            let u1 = 1 - unit(w)
            let u2 = unit(w + half)  // u1 in (0, 1]: the log is finite
            return params[0][i] + params[1][i] * (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
        case .binomial(let n):
            let p = params[0][i]
            var hits = 0
            for t in 0..<n where Double(w[t]) * 0x1p-32 < p { hits += 1 }
            return Double(hits)
        case .choice(let n):
            let bits = UInt64(w[0]) << 32 | UInt64(w[1])
            return Double(bits.multipliedFullWidth(by: UInt64(n)).high)
        case .permutation:
            return 0
        }
    }

    /// Fisher–Yates: step `s` swaps position `n−1−s` with one below it, from words `2s, 2s+1`.
    private func permute(_ out: UnsafeMutablePointer<Double>, _ n: Int, key: UInt64, call: UInt64) {
        for i in 0..<n { out[i] = Double(i) }
        guard n > 1 else { return }
        var words = [UInt32](repeating: 0, count: 2 * (n - 1))
        words.withUnsafeMutableBufferPointer {
            Philox.words(key: key, call: call, first: 0, count: 2 * (n - 1), into: $0.baseAddress!)
        }
        for s in 0..<(n - 1) {
            let i = n - 1 - s
            let bits = UInt64(words[2 * s]) << 32 | UInt64(words[2 * s + 1])
            let j = Int(bits.multipliedFullWidth(by: UInt64(i + 1)).high)
            out.swapAt(i, j)
        }
    }

    /// Draws have no gradient: the sample is a constant to differentiation (as Theano's), so a
    /// cost through `p` needs `disconnectedGrad` / `considerConstant` on the sample.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        [.disconnected] + Array(repeating: .disconnected, count: ndim)
            + Array(
                repeating: .undefined("random draws are not differentiable with respect to their parameters"),
                count: distribution.paramCount)
    }
}

extension UnsafeMutablePointer where Pointee == Double {
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}

extension RandomDraw {
    public var replayRole: ReplayRole { .impure }
}
