import NDArray
import Synchronization

/// A source of random tensors inside compiled graphs (Theano's `RandomStreams`).
///
/// Each draw (`uniform`, `normal`, `binomial`, …) gets its own Philox stream, whose state is a
/// shared variable with a default update: every call of a compiled function that uses the draw
/// gives new numbers, and ``seed(_:)`` restarts every stream. The numbers depend only on the
/// seed, the order in which draws were created and the call count — not on the mode, backend or
/// thread count.
///
/// ```swift
/// let srng = RandomStreams(seed: 1234)
/// let mask = srng.binomial(x.shape, p: 1 - corruption, dtype: x.dtype)
/// let noisy = x * mask                       // new noise on every call of the function
/// ```
public final class RandomStreams: Sendable {
    private let initialSeed: UInt64
    /// The state variables, in creation order (so that reseeding gives each its stream back).
    private let states: Mutex<[SharedVariable]> = Mutex([])

    public init(seed: UInt64 = 0) { initialSeed = seed }

    /// Restarts every stream created so far from `seed` (as a new `RandomStreams(seed:)` with
    /// the same draws would start).
    public func seed(_ seed: UInt64) {
        states.withLock { list in
            for (i, s) in list.enumerated() { s.commit(Self.initialState(seed: seed, index: i)) }
        }
    }

    /// The shared state variables (one per draw), e.g. to save and restore them.
    public var stateVariables: [SharedVariable] { states.withLock { $0 } }

    static func initialState(seed: UInt64, index: Int) -> NDArray {
        var g = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93))
        return NDArray(vector: [Int64(bitPattern: g.next()), 0])
    }

    private func draw(
        _ distribution: RandomDraw.Distribution, _ shape: [IndexValue], _ params: [Variable], dtype: DType
    ) -> Variable {
        let state: SharedVariable = states.withLock { list in
            let s = SharedVariable(
                Self.initialState(seed: initialSeed, index: list.count), name: "random_state_\(list.count)",
                location: .capture())
            list.append(s)
            return s
        }
        let dims: [Variable] = shape.map {
            switch $0 {
            case .int(let n): return Constant(NDArray(scalar: Int64(n)))
            case .variable(let v): return cast(v, .int64)
            }
        }
        let node = Apply.make(
            RandomDraw(distribution: distribution, dtype: dtype, ndim: shape.count), [state] + dims + params)
        state.defaultUpdate = node.outputs[0]
        ScanStepDraws.current?.add(state)
        return node.outputs[1]
    }

    /// Uniform samples in [low, high) (dtype floatX unless given; low and high may be tensors
    /// that broadcast to the shape).
    public func uniform(
        _ shape: [IndexValue], low: any RandomParameter = 0.0, high: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        let d = dtype ?? Config.current.floatX
        return draw(.uniform, shape, [low.variable(d), high.variable(d)], dtype: d)
    }

    /// Normal samples with the given mean and standard deviation.
    public func normal(
        _ shape: [IndexValue], mean: any RandomParameter = 0.0, std: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        let d = dtype ?? Config.current.floatX
        return draw(.normal, shape, [mean.variable(d), std.variable(d)], dtype: d)
    }

    /// Successes in `n` trials of probability `p` (a number or a tensor broadcasting to the
    /// shape, as in Gibbs sampling: `binomial(h.shape, p: sigmoid(…))`). Default dtype int64.
    public func binomial(_ shape: [IndexValue], n: Int = 1, p: any RandomParameter, dtype: DType = .int64) -> Variable {
        draw(.binomial(n), shape, [p.variable(Config.current.floatX)], dtype: dtype)
    }

    /// Integers drawn uniformly from `0 ..< n`, with replacement.
    public func choice(_ shape: [IndexValue], from n: Int) -> Variable {
        draw(.choice(n), shape, [], dtype: .int64)
    }

    /// A random permutation of `0 ..< n`.
    public func permutation(_ n: IndexValue) -> Variable {
        draw(.permutation, [n], [], dtype: .int64)
    }

    // The same with a symbolic shape vector (`x.shape`) or Swift integers.

    public func uniform(
        _ shape: Variable, low: any RandomParameter = 0.0, high: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        uniform(Self.lengths(shape), low: low, high: high, dtype: dtype)
    }
    public func normal(
        _ shape: Variable, mean: any RandomParameter = 0.0, std: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        normal(Self.lengths(shape), mean: mean, std: std, dtype: dtype)
    }
    public func binomial(_ shape: Variable, n: Int = 1, p: any RandomParameter, dtype: DType = .int64) -> Variable {
        binomial(Self.lengths(shape), n: n, p: p, dtype: dtype)
    }
    public func uniform(
        _ shape: [Int], low: any RandomParameter = 0.0, high: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        uniform(shape.map(IndexValue.int), low: low, high: high, dtype: dtype)
    }
    public func normal(
        _ shape: [Int], mean: any RandomParameter = 0.0, std: any RandomParameter = 1.0, dtype: DType? = nil
    ) -> Variable {
        normal(shape.map(IndexValue.int), mean: mean, std: std, dtype: dtype)
    }
    public func binomial(_ shape: [Int], n: Int = 1, p: any RandomParameter, dtype: DType = .int64) -> Variable {
        binomial(shape.map(IndexValue.int), n: n, p: p, dtype: dtype)
    }
    public func choice(_ shape: [Int], from n: Int) -> Variable { choice(shape.map(IndexValue.int), from: n) }
    public func permutation(_ n: Int) -> Variable { permutation(.int(n)) }

    /// The entries of a shape vector of static length (e.g. `x.shape`).
    private static func lengths(_ shape: Variable) -> [IndexValue] {
        guard shape.ndim == 1, let n = shape.type.shape[0] else { return [.variable(shape)] }
        if let c = shape as? Constant { return c.value.doubles.map { .int(Int($0)) } }
        return (0..<n).map { .variable(shape[$0]) }
    }
}

/// A distribution parameter: a Swift number or a tensor.
public protocol RandomParameter {
    /// The parameter as a graph variable (numbers become constants of `dtype`).
    func variable(_ dtype: DType) -> Variable
}

extension Variable: RandomParameter {
    public func variable(_ dtype: DType) -> Variable { self }
}

extension Double: RandomParameter {
    public func variable(_ dtype: DType) -> Variable {
        Constant(NDArray(scalar: self, dtype: dtype.isFloat ? dtype : .float64))
    }
}
