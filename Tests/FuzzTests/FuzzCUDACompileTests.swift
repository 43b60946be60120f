import Foundation
import Fuzz
import NDArray
import Testing

@testable import Theano

/// The fused composites of the fuzzer's 600 graphs, as FAST_RUN makes them, compile as CUDA
/// kernels with NVRTC for sm_90 (skipped, saying why, where NVRTC cannot be found).
struct FuzzCUDACompileTests {

    @Test(
        "every composite of the fuzzer's graphs compiles with NVRTC",
        .enabled(if: NVRTC.unavailableReason == nil, Comment(rawValue: NVRTC.unavailableReason ?? "")))
    func fuzzComposites() throws {
        let nvrtc = try NVRTC.shared.get()
        var composites: [Composite] = []
        var seen = Set<Composite>()
        for c in FuzzTests.cases {
            guard let (inputs, output) = try? FuzzRunner().graph(c) else { continue }
            // Fusion without lowering: the composites, not their C kernels.
            guard
                let f = try? function(
                    inputs: inputs, outputs: [output], mode: .fastRun.excluding("native"), onUnusedInput: .ignore)
            else { continue }
            for case let op as Composite in f.program.steps.map(\.node.op) where seen.insert(op).inserted {
                composites.append(op)
            }
        }
        #expect(composites.count >= 100, "\(composites.count) composites")
        var source = CUDACodeGen.prelude
        for (i, op) in composites.enumerated() {
            let fast = Array(repeating: 1, count: op.inputDTypes.count + op.outputs.count)
            source += try CUDACodeGen.kernels(op, name: "th_f\(i)", fast: fast)
        }
        let cubin = try nvrtc.compile(source, name: "fuzz.cu", architecture: 90)
        #expect(Array(cubin.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46])
    }
}
