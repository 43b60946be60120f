import NDArray

/// CUDA C for fused elementwise composites: the kernel body the C backend uses
/// (``CodeGen/body(_:)``), inside a grid-stride loop, after the CUDA prelude
/// (`Backend/CUDA/C/cuda_prelude.cuh`).
///
/// Each composite gives two kernels. `<name>_flat` serves operands that are contiguous at the
/// loop's shape or broadcast single elements (the pattern `fast` predicts from the static
/// types, as the C backend's fast loop); `<name>` serves any strides, decomposing the flat index
/// along the coalesced dimensions. Both take one struct by value:
///
/// ```c
/// struct name_args { char *p[N]; long long s[N][TH_MAX_DIMS]; long long shape[TH_MAX_DIMS];
///                    long long n; int nd; };
/// ```
///
/// `TH_KERNEL` is `extern "C" __global__` under NVRTC; `device=cuda-sim` compiles the same source
/// as C for the CPU (``simulatorLaunchers(_:)``), calling each thread's loop (`<kernel>_thread`) in
/// turn.
///
/// with the operands' base pointers (inputs, then outputs) and byte strides. A sum or mean
/// composite accumulates in double per thread, reduces per block in shared memory and adds the
/// block's sum to its output with `atomicAdd` (the host divides for a mean).
enum CUDACodeGen {
    /// The threads of a block the kernels are written for (the shared-memory reduction's size).
    static let blockSize = 256

    /// The prelude every module starts with.
    static var prelude: String { EmbeddedC.files["cuda_prelude.cuh"] ?? "" }

    /// The fixed kernels of `file` (in `Backend/CUDA/C`) for a float `dtype`, after the header that
    /// names their element type (`th_real`); a device's prelude goes before it.
    static func fixedSource(_ file: String, _ dtype: DType) throws -> String {
        guard let text = EmbeddedC.files[file], let real = EmbeddedC.files["fixed_real.cuh"] else {
            throw TheanoError(.runtime, "\(file) is not embedded")
        }
        return (dtype == .float64 ? "#define TH_DOUBLE\n" : "") + real + text
    }

    /// The module for `op`: the prelude and its two kernels.
    static func module(_ op: Composite, name: String, fast: [Int]) throws -> String {
        prelude + "\n" + (try kernels(op, name: name, fast: fast))
    }

    /// `op`'s two kernels, without the prelude.
    static func kernels(_ op: Composite, name: String, fast: [Int]) throws -> String {
        let nin = op.inputDTypes.count
        let nops = nin + op.outputs.count
        let body = try CodeGen.body(op).map { "        " + $0 }.joined(separator: "\n")
        let reducing = op.reduction != nil
        func inputType(_ k: Int) -> String { CodeGen.storage(op.inputDTypes[k]) }
        func outputType(_ j: Int) -> String { CodeGen.storage(op.instructions[op.outputs[j]].dtype) }
        func element(_ flat: Bool) -> String {
            var lines = (0..<nin).map { k in
                let at = flat ? (fast[k] == 0 ? "0" : "i") : "o\(k)"
                return flat
                    ? "        const \(inputType(k)) x\(k) = ((const \(inputType(k)) *)a.p[\(k)])[\(at)];"
                    : "        const \(inputType(k)) x\(k) = *(const \(inputType(k)) *)(a.p[\(k)] + \(at));"
            }
            lines.append(body)
            for (j, o) in op.outputs.enumerated() {
                if reducing {
                    lines.append("        acc += (double)v\(o);")
                } else if flat {
                    let at = fast[nin + j] == 0 ? "0" : "i"
                    lines.append("        ((\(outputType(j)) *)a.p[\(nin + j)])[\(at)] = v\(o);")
                } else {
                    lines.append("        *(\(outputType(j)) *)(a.p[\(nin + j)] + o\(nin + j)) = v\(o);")
                }
            }
            return lines.joined(separator: "\n")
        }
        let offsets = (0..<nops).map { "o\($0)" }
        let decompose = """
                    long long rest = i\(offsets.map { ", \($0) = 0" }.joined());
                    for (int d = a.nd - 1; d >= 0; --d) {
                        long long c = rest % a.shape[d];
                        rest /= a.shape[d];
            \((0..<nops).map { "            o\($0) += c * a.s[\($0)][d];" }.joined(separator: "\n"))
                    }
            """
        let finish = reducing ? Self.blockSum(output: "a.p[\(nin)]") : ""
        // Each thread's grid-stride loop is a function of its own, so that the simulator can run
        // a block's threads one after another and then combine their sums (no barrier needed).
        func kernel(_ suffix: String, _ flat: Bool) -> String {
            """
            TH_FN void \(name)\(suffix)_thread(const struct \(name)_args a, double *sum) {
                double acc = 0;
                for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < a.n;
                     i += (long long)gridDim.x * blockDim.x) {
            \(flat ? "" : decompose + "\n")\(element(flat))
                }
                *sum = acc;
            }
            TH_KERNEL void \(name)\(suffix)(struct \(name)_args a) {
                double acc;
                \(name)\(suffix)_thread(a, &acc);
            \(finish)}
            """
        }
        return """
            /* \(op.description) */
            struct \(name)_args {
                char *p[\(nops)];
                long long s[\(nops)][TH_MAX_DIMS];
                long long shape[TH_MAX_DIMS];
                long long n;
                int nd;
            };
            \(kernel("_flat", true))
            \(kernel("", false))

            """
    }

    /// The argument struct's size in bytes for `operands` operands (its C layout: pointers, the
    /// strides, the lengths, the count, the rank and its padding).
    static func argumentBytes(operands: Int) -> Int { operands * 8 + operands * 8 * maxDims + maxDims * 8 + 16 }

    /// The most dimensions a loop may have after coalescing (`TH_MAX_DIMS`).
    static let maxDims = 8

    /// The simulator's launchers for `kernels`: each runs its blocks one after another, and each
    /// block's threads one after another, adding a reduction's per-thread sums to its accumulator
    /// as the device's block reduction does:
    /// `void <kernel>_launch(long long blocks, long long threads, const void *a)`.
    static func simulatorLaunchers(_ kernels: [DeviceKernel]) -> String {
        kernels.map { k in
            let total = k.accumulator.map { "        atomicAdd(((double *const *)a)[\($0)], block);\n" } ?? ""
            return """
                void \(k.name)_launch(long long blocks, long long threads, const void *a) {
                    gridDim.x = blocks;
                    blockDim.x = threads;
                    for (long long b = 0; b < blocks; ++b) {
                        double block = 0;
                        blockIdx.x = b;
                        for (long long t = 0; t < threads; ++t) {
                            double sum;
                            threadIdx.x = t;
                            \(k.name)_thread(*(const struct \(k.arguments) *)a, &sum);
                            block += sum;
                        }
                        (void)block;
                \(total)    }
                }

                """
        }.joined()
    }

    /// A composite to compile, under the kernel name it gets, with its fast pattern.
    struct KernelUnit {
        let name: String
        let op: Composite
        let fast: [Int]
    }

    /// The block's partial sums (`acc` per thread) added, then the block's total to `output`.
    private static func blockSum(output: String) -> String {
        """
            __shared__ double partial[\(blockSize)];
            partial[threadIdx.x] = acc;
            __syncthreads();
            for (int half = blockDim.x / 2; half > 0; half /= 2) {
                if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
                __syncthreads();
            }
            if (threadIdx.x == 0) atomicAdd((double *)\(output), partial[0]);

        """
    }
}
