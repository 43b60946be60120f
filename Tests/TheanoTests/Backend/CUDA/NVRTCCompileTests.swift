import Foundation
import NDArray
import Testing

@testable import Theano

/// Every elementwise kernel the CUDA backend can emit compiles with NVRTC to a CUBIN for sm_80
/// (A100) and sm_90 (H100, H200), on any machine: NVRTC needs no GPU. `scripts/setup` installs
/// NVIDIA's NVRTC wheel; without it these tests are skipped, saying why.
@Suite("CUDA kernels compile with NVRTC for sm_80 and sm_90")
struct NVRTCCompileTests {
    static var nvrtc: Result<NVRTC, any Error> { NVRTC.shared }
    static var available: Bool { NVRTC.unavailableReason == nil }
    static var skipReason: Comment { Comment(rawValue: NVRTC.unavailableReason ?? "") }

    /// Every scalar op, as the single instruction of a composite, at each input dtype its type
    /// rule accepts.
    static func composites(_ dtype: DType) -> [Composite] {
        ScalarOpTests.cases.compactMap { c -> Composite? in
            guard let op = (c.op as? any ElemwiseNode)?.anyScalar else { return nil }
            let inputs: [DType] = c.inputs.map { input in
                if case .bool = input { return .bool }
                return dtype
            }
            guard let output = try? op.dtypes(inputs).output else { return nil }
            let args = inputs.indices.map { Composite.Operand.input($0) }
            return Composite(
                inputDTypes: inputs, instructions: [.init(op: AnyScalarOp(op), args: args, dtype: output)],
                outputs: [0])
        }
    }

    /// One module holding the kernels of `composites`, with the fast pattern "all contiguous".
    static func module(_ composites: [Composite]) throws -> String {
        var source = CUDACodeGen.prelude
        for (i, op) in composites.enumerated() {
            let fast = Array(repeating: 1, count: op.inputDTypes.count + op.outputs.count)
            source += try CUDACodeGen.kernels(op, name: "th_k\(i)", fast: fast)
        }
        return source
    }

    @Test(
        "every scalar op's kernel compiles, in each dtype", .enabled(if: available, skipReason),
        arguments: [DType.float32, .float64, .int8, .int32, .int64])
    func scalarOps(_ dtype: DType) throws {
        let nvrtc = try Self.nvrtc.get()
        let composites = Self.composites(dtype)
        #expect(composites.count >= (dtype.isFloat ? 40 : 25), "\(composites.count) ops")
        let source = try Self.module(composites)
        for arch in [80, 90] {
            let cubin = try nvrtc.compile(source, name: "ops_\(dtype).cu", architecture: arch)
            // An ELF object: 0x7f 'E' 'L' 'F'.
            #expect(Array(cubin.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46])
        }
    }

    @Test("a fused chain and its sum compile", .enabled(if: available, skipReason))
    func fusedAndReduced() throws {
        let nvrtc = try Self.nvrtc.get()
        let x = fvector("x")
        let f = try function(inputs: [x], outputs: [exp(-x) * tanh(x) + x * x, sum(softsign(x) * 2)])
        let composites = f.program.steps.compactMap { $0.node.op as? Composite }
        #expect(composites.count >= 2 && composites.contains { $0.reduction == .sum }, "\(composites)")
        let cubin = try nvrtc.compile(try Self.module(composites), name: "fused.cu", architecture: 90)
        #expect(!cubin.isEmpty)
    }

    @Test("the fixed device kernels compile in both float dtypes", .enabled(if: available, skipReason))
    func fixedKernels() throws {
        let nvrtc = try Self.nvrtc.get()
        for file in ["reduce.cu", "nnet.cu", "image.cu", "index.cu", "random.cu"] {
            for dtype in [DType.float32, .float64] {
                let source = CUDACodeGen.prelude + (try CUDACodeGen.fixedSource(file, dtype))
                for arch in [80, 90] {
                    let cubin = try nvrtc.compile(source, name: file, architecture: arch)
                    #expect(!cubin.isEmpty, "\(file) \(dtype) sm_\(arch)")
                }
            }
        }
    }

    @Test("a compile error comes back with NVRTC's log", .enabled(if: available, skipReason))
    func compileErrorsCarryTheLog() throws {
        let nvrtc = try Self.nvrtc.get()
        let e = #expect(throws: TheanoError.self) {
            _ = try nvrtc.compile(
                "extern \"C\" __global__ void k() { undefined_thing(); }", name: "bad.cu",
                architecture: 90)
        }
        #expect(e?.description.contains("undefined_thing") == true, "\(String(describing: e))")
    }

    @Test("without NVRTC, the error names every place searched")
    func missingLibraryNamesTheSearch() {
        let paths = NVRTC.candidates(environment: ["THEANO_NVRTC": "/nowhere/libnvrtc.so.13", "HOME": "/home/u"])
        #expect(paths.first == "/nowhere/libnvrtc.so.13")
        #expect(paths.contains("/home/u/.cache/theano-swift/cuda/nvidia/cu13/lib/libnvrtc.so.13"))
        #expect(paths.contains("/usr/local/cuda/lib64/libnvrtc.so.13") && paths.last == "libnvrtc.so.12")
    }

    @Test(
        "CUBINs are cached on disk by source, options, NVRTC version and architecture",
        .enabled(if: available, skipReason))
    func cubinsAreCached() throws {
        let nvrtc = try Self.nvrtc.get()
        let source =
            CUDACodeGen.prelude + "TH_KERNEL void k(float *p) { p[threadIdx.x] = \(UInt32.random(in: 0...1_000_000)); }"
        let first = try CUBINCache.cubin(for: source, architecture: 90, nvrtc: nvrtc)
        let folder = (Config.current.compiledir ?? NativeCompiler.defaultCacheDirectory()) + "/cuda"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".cubin") }
        let cached = try files.map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        #expect(cached.contains(Data(first)))
        #expect(try CUBINCache.cubin(for: source, architecture: 90, nvrtc: nvrtc) == first)
        #expect(try CUBINCache.cubin(for: source, architecture: 80, nvrtc: nvrtc) != first)
    }
}
