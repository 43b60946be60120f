import Foundation

/// A small, fast, seeded generator (SplitMix64) for reproducible test data and weight
/// initialisation. Not for cryptography.
///
/// ```swift
/// var rng = SplitMix64(seed: 1234)
/// let w = try NDArray.uniform([784, 500], in: -0.07...0.07, dtype: .float32, using: &rng)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = Swift.max(unit(), .leastNonzeroMagnitude)
        let v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

extension NDArray {
    /// An array of values uniform in `range`, drawn from `rng` in row-major order.
    public static func uniform(
        _ shape: [Int], in range: ClosedRange<Double>, dtype: DType,
        using rng: inout SplitMix64
    ) throws(NDArrayError) -> NDArray {
        let n = shape.reduce(1, *)
        let values = (0..<n).map { _ in rng.uniform(range.lowerBound, range.upperBound) }
        return try NDArray(values, shape: shape).cast(to: dtype)
    }
}
