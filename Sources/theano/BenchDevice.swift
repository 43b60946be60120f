import Foundation
import NDArray
import Theano

extension BenchWorkloads {
    /// The GPU targets' kernels on values that stay on the device (shared variables): SGEMM
    /// through `dot`, and `exp(-a)*tanh(a)+a**2` over a float32 vector. Meant for
    /// `THEANO_FLAGS=device=cuda` (`scripts/gpu-check`); on the CPU it measures the CPU.
    static func device(gemm n: Int, elements: Int, repeats: Int, _ emit: Emit) throws {
        var rng = SplitMix64(seed: 0)
        let A = shared(try NDArray.uniform([n, n], in: 0...1, dtype: .float32, using: &rng), name: "A")
        let B = shared(try NDArray.uniform([n, n], in: 0...1, dtype: .float32, using: &rng), name: "B")
        let product = try function(inputs: [], outputs: [dot(A, B)])
        let gemmSeconds = try timeit(repeats: repeats) { _ = try product() }
        let a = shared(try NDArray.uniform([elements], in: 0...1, dtype: .float32, using: &rng), name: "a")
        let chain = try function(inputs: [], outputs: [exp(-a) * tanh(a) + a ** 2])
        let chainSeconds = try timeit(repeats: repeats) { _ = try chain() }
        emit([
            "workload": "device", "device": "\(Config.current.device)", "gemm_n": n,
            "sgemm_seconds": gemmSeconds, "sgemm_gflops": 2 * pow(Double(n), 3) / gemmSeconds / 1e9,
            "chain_elements": elements, "chain_seconds": chainSeconds,
            "chain_gbps": 8 * Double(elements) / chainSeconds / 1e9
        ])
    }
}
