import NDArray

// The CUDA kernel of ``RandomDraw`` (Backend/CUDA/C/random.cu) for float samples: the same Philox
// words and arithmetic as `perform`, so the device draws the CPU's numbers (the normal's within an
// ulp: the device's log and cos). Parameters are scalars or arrays of the sample's dtype that
// broadcast to its shape (Gibbs sampling's probabilities). The state stays on the host;
// permutations run there too.

extension RandomDraw: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        guard dtype.isFloat, distribution != .permutation else { return nil }
        let module = try runtime.fixedModule("random.cu", dtype, kernels: [("th_random", "th_random_args")])
        return RandomDeviceKernel(op: self, module: module, runtime: runtime)
    }
}

struct RandomDeviceKernel: Kernel, @unchecked Sendable {
    let op: RandomDraw
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let params = Array(inputs.dropFirst(1 + op.ndim))
        let state = inputs[0].scalars(as: Int64.self)
        let lengths = inputs[1...op.ndim].map { $0.count == 1 ? (try? $0.cast(to: .float64).item()) ?? -1 : -1 }
        let shape = lengths.map { Int($0) }
        // Anything perform would reject, or draws this kernel does not cover, go to perform.
        guard state.count == 2, lengths.allSatisfy({ $0 >= 0 }), shape.count <= CUDACodeGen.maxDims,
            let broadcast = try? params.map({ p in p.count == 1 ? nil : try p.broadcast(to: shape) }),
            params.allSatisfy({ $0.count == 1 || $0.dtype == op.dtype })
        else { return try op.perform(inputs) }
        // Probabilities in host memory are checked as the CPU checks them; on the device only,
        // they are not (a sigmoid's are in range).
        if case .binomial = op.distribution, !params[0].storage.isOnlyOnMirror,
            let bad = params[0].doubles.first(where: { !($0 >= 0 && $0 <= 1) })
        {
            throw OpError("binomial p must be in [0, 1], got \(bad)", kind: .badInput)
        }
        let (sample, out) = try runtime.output(
            try validated(shape), op.dtype, reusing: buffers.count > 1 ? buffers[1] : nil)
        let (distribution, n, k): (Int64, Int, Int) =
            switch op.distribution {
            case .uniform: (0, 0, op.dtype == .float64 ? 2 : 1)
            case .normal: (1, 0, op.dtype == .float64 ? 4 : 2)
            case .binomial(let n): (2, n, max(n, 1))
            case .choice(let n): (3, n, 2)
            case .permutation: (4, 0, 2)
            }
        var words: [Int64] = [Int64(out), Int64(sample.count), state[0], state[1], Int64(k), distribution, Int64(n)]
        for j in 0..<2 {
            let scalar = j < params.count && broadcast[j] == nil ? try params[j].item() : 0
            words.append(Int64(bitPattern: scalar.bitPattern))
        }
        for j in 0..<2 {
            let array = j < broadcast.count ? broadcast[j] : nil
            words.append(try array.map { Int64(try runtime.address(reading: $0)) } ?? 0)
        }
        let maxDims = CUDACodeGen.maxDims
        words.append(Int64(shape.count))
        words += (shape + [Int](repeating: 1, count: maxDims - shape.count)).map(Int64.init)
        for j in 0..<2 {
            let strides = (j < broadcast.count ? broadcast[j]?.strides : nil) ?? []
            words += (strides + [Int](repeating: 0, count: maxDims - strides.count)).map(Int64.init)
        }
        if sample.count > 0 { try runtime.launch("th_random", of: module, items: sample.count, arguments: words) }
        let next = NDArray(vector: [state[0], Int64(bitPattern: UInt64(bitPattern: state[1]) &+ 1)])
        return [next, sample]
    }

    private func validated(_ shape: [Int]) throws -> [Int] {
        _ = try NDArray.checkedCount(shape)
        return shape
    }
}
