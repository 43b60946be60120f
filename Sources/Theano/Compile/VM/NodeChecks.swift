import NDArray

/// DEBUG mode's checks of each node as it runs.
enum NodeChecks {
    /// An op must not change its inputs, and the outputs it declares as views must share their
    /// input's storage.
    static func check(_ node: Apply, args: [NDArray], before: [NDArray], results: [NDArray]) throws {
        for (i, (now, then)) in zip(args, before).enumerated()
        where !now.sharesStorage(with: then) && now.doubles != then.doubles
            && !now.doubles.contains(where: { $0.isNaN })
        {
            throw TheanoError(
                .runtime, "DEBUG: \(node.op) changed its input \(i) without declaring it",
                op: "\(node.op)", inputs: args.summary, location: node.location)
        }
        for (o, i) in node.op.viewMap where results[o].count > 0 && !results[o].sharesStorage(with: args[i]) {
            throw TheanoError(
                .runtime, "DEBUG: \(node.op) declares output \(o) a view of input \(i), but it is a copy",
                op: "\(node.op)", inputs: args.summary, location: node.location)
        }
    }

    /// A kernel must agree with the op's reference `perform`, within the tolerance its
    /// ``Op/kernelAgreement`` allows.
    static func compareWithReference(_ node: Apply, args: [NDArray], results: [NDArray]) throws {
        let reference = try node.op.perform(args)
        for (o, (got, want)) in zip(results, reference).enumerated() {
            guard got.shape == want.shape, got.dtype == want.dtype else {
                throw TheanoError(
                    .runtime,
                    "DEBUG: the native kernel of \(node.op) gave output \(o) as \(got.dtype) "
                        + "\(got.shape), the reference \(want.dtype) \(want.shape)",
                    op: "\(node.op)", inputs: args.summary, location: node.location)
            }
            let (rtol, atol) = tolerance(node.op.kernelAgreement, got, want, args)
            for (k, (u, v)) in zip(got.doubles, want.doubles).enumerated() {
                if u == v || (u.isNaN && v.isNaN) { continue }
                if !(abs(u - v) <= atol + rtol * abs(v)) {
                    throw TheanoError(
                        .runtime,
                        "DEBUG: the native kernel of \(node.op) differs from its reference at "
                            + "output \(o), element \(k): \(u) instead of \(v)",
                        op: "\(node.op)", inputs: args.summary, location: node.location)
                }
            }
        }
    }

    private static func tolerance(
        _ agreement: KernelAgreement, _ got: NDArray, _ want: NDArray,
        _ args: [NDArray]
    ) -> (rtol: Double, atol: Double) {
        // A float64 result computed from float32 values (a float32 `exp` divided into a float64)
        // carries float32 rounding: the native and reference transcendentals differ by a few
        // float32 ulps there, not float64 ones.
        let single = got.dtype == .float32 || (got.dtype == .float64 && args.contains { $0.dtype == .float32 })
        switch agreement {
        case .reorderedProducts:
            // A direct convolution sums its taps in another order than the GEMM: an entry near
            // zero after cancellation differs by rounding relative to the largest entries.
            let rtol = got.dtype == .float32 ? 1e-4 : 1e-10
            return (rtol, rtol * (want.doubles.lazy.map(abs).max() ?? 0))
        case .reorderedSums:
            // Fused sums add in another order than the reference's lanes.
            return single ? (1e-5, 1e-6) : (1e-10, 1e-14)
        case .sameOrder:
            return single ? (1e-5, 1e-6) : (1e-12, 1e-14)
        }
    }
}

extension TheanoError {
    /// `error`, thrown by `node` running on `args`, with the node's op, inputs and source line.
    init(at node: Apply, _ args: [NDArray], _ error: any Error) {
        let kind: TheanoError.Kind = (error as? OpError)?.kind ?? .runtime
        self.init(kind, "\(error)", op: "\(node.op)", inputs: args.summary, location: node.location)
    }
}
