import Foundation
import NDArray
import Testing
@testable import Theano

/// Runs `outputs` in FAST_RUN (fused, native) and in the unoptimized reference mode on the same
/// arguments; returns both results.
func nativeAndReference(_ inputs: [Variable], _ outputs: [Variable], _ args: [NDArray]) throws -> ([NDArray], [NDArray]) {
    let fast = try function(inputs: inputs, outputs: outputs, mode: .fastRun)
    let ref = try function(inputs: inputs, outputs: outputs, mode: .unoptimized)
    return (try fast.call(args), try ref.call(args))
}

@Suite("Native elementwise kernels")
struct NativeKernelTests {
    @Test("fusion turns an elementwise expression into one native composite", arguments: [DType.float32, .float64])
    func fusedExpression(dtype: DType) throws {
        let a = vector("a", dtype: dtype)
        let y = exp(-a) * tanh(a) + a ** 2
        let f = try function(inputs: [a], outputs: [y])
        let lines = f.graphDescription.split(separator: "\n").filter { $0.contains("Composite") }
        #expect(lines.count == 1, "\(f.graphDescription)")
        #expect(f.program.steps.count == 1)
        #expect(f.program.steps.first?.kernel != nil, "no native kernel: is a C compiler installed?")
        let x = try array((0..<1000).map { Double($0) / 50 - 10 }, [1000], dtype)
        let (got, want) = try nativeAndReference([a], [y], [x])
        expectClose(got[0], want[0], rtol: dtype == .float32 ? 1e-5 : 1e-13)
    }
}
