import Foundation
import NDArray
import Testing

@testable import Theano

/// The numpy-computed fixtures (Fixtures/generate.py).
let fixtures: [String: NDArray] = {
    guard let url = Bundle.module.url(forResource: "ops", withExtension: "npz", subdirectory: "Fixtures"),
        let f = try? NPZ.read(from: url)
    else { return [:] }
    return f
}()

/// Whether `actual` equals `expected` in shape and dtype and, elementwise, within tolerance
/// (NaNs must match NaNs).
func close(_ actual: NDArray, _ expected: NDArray, rtol: Double? = nil, atol: Double? = nil) -> String? {
    if actual.shape != expected.shape { return "shape \(actual.shape) != expected \(expected.shape)" }
    if actual.dtype != expected.dtype { return "dtype \(actual.dtype) != expected \(expected.dtype)" }
    let r = rtol ?? (expected.dtype == .float32 ? 2e-5 : 1e-10)
    let a = atol ?? (expected.dtype == .float32 ? 2e-6 : 1e-12)
    for (i, (x, y)) in zip(actual.doubles, expected.doubles).enumerated() {
        if x.isNaN && y.isNaN { continue }
        if x == y { continue }
        if !(abs(x - y) <= a + r * abs(y)) { return "element \(i): \(x) != expected \(y)" }
    }
    return nil
}

/// Asserts closeness with a readable message.
func expectClose(
    _ actual: NDArray, _ expected: NDArray, rtol: Double? = nil, atol: Double? = nil,
    _ comment: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let problem = close(actual, expected, rtol: rtol, atol: atol)
    #expect(problem == nil, "\(comment) \(problem ?? "")", sourceLocation: sourceLocation)
}

/// A symbolic input matching a value's dtype and rank.
func input(like a: NDArray, _ name: String) -> Variable {
    tensor(a.dtype, shape: Array(repeating: nil, count: a.ndim), name: name)
}

func array(_ values: [Double], _ shape: [Int], _ dtype: DType = .float64) throws -> NDArray {
    try NDArray(values, shape: shape).cast(to: dtype)
}
