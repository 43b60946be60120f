import NDArray

/// DEBUG mode's cross-check: the unoptimized graph runs beside the optimized one on the same
/// inputs and shared values; a difference names the first rewrite whose exclusion removes it,
/// the node it replaced and where that node was built. Values the rewrites make finite where the
/// naive graph overflows count as improvements, not differences.
final class DebugCheck {
    let inputs: [Variable]
    let roots: [Variable]
    let outputCount: Int
    let updates: [SharedVariable]
    let mode: Mode
    let applied: [(String, Variable, Variable)]
    let reference: Program
    /// Whether any value of the graph is float32: float64 results computed from float32 values
    /// carry float32 rounding, so they are compared at float32 tolerance.
    let carriesSingle: Bool

    init(
        inputs: [Variable], roots: [Variable], outputCount: Int, updates: [SharedVariable], mode: Mode,
        applied: [(String, Variable, Variable)]
    ) throws {
        self.inputs = inputs
        self.roots = roots
        self.outputCount = outputCount
        self.updates = updates
        self.mode = mode
        self.applied = applied
        carriesSingle =
            Graph.topologicalOrder(roots).contains { node in
                node.inputs.contains { $0.dtype == .float32 } || node.outputs.contains { $0.dtype == .float32 }
            } || inputs.contains { $0.dtype == .float32 }
        reference = try Program.compile(
            inputs: inputs, roots: roots, outputCount: outputCount, updates: updates, mode: mode,
            excluded: Mode.unoptimized.excluded, profile: false
        ).program
    }

    private func program(excluded: Set<String>) throws -> Program {
        try Program.compile(
            inputs: inputs, roots: roots, outputCount: outputCount, updates: updates, mode: mode,
            excluded: excluded, profile: false
        ).program
    }

    func verify(_ values: [NDArray], outputs: [NDArray]) throws {
        let (refOuts, refUps) = try reference.run(values)
        guard let (index, detail) = firstDifference(outputs, refOuts + refUps.map(\.1)) else { return }
        // Find the rewrite responsible: the first whose exclusion makes the results agree.
        var seen = Set<String>()
        for (name, old, _) in applied where seen.insert(name).inserted {
            let p = try program(excluded: mode.excluded.union([name]))
            let (o, u) = try p.run(values)
            if firstDifference(o + u.map(\.1), refOuts + refUps.map(\.1)) == nil {
                throw TheanoError(
                    .runtime, "DEBUG: rewrite \(name) changed \(label(index)): \(detail)",
                    op: old.owner.map { "\($0.op)" }, location: old.owner?.location ?? old.location)
            }
        }
        throw TheanoError(.runtime, "DEBUG: the optimized graph changed \(label(index)): \(detail)")
    }

    private func label(_ i: Int) -> String {
        i < outputCount ? "output \(i)" : "the update of \(updates[i - outputCount].label)"
    }

    /// The first result that differs beyond float tolerance, and how.
    private func firstDifference(_ a: [NDArray], _ b: [NDArray]) -> (Int, String)? {
        for (i, (x, y)) in zip(a, b).enumerated() {
            guard x.shape == y.shape else { return (i, "shape \(x.shape) instead of \(y.shape)") }
            let (rtol, atol) = x.dtype == .float32 || carriesSingle ? (1e-4, 1e-5) : (1e-7, 1e-9)
            for (k, (u, v)) in zip(x.doubles, y.doubles).enumerated() {
                if u == v || (u.isNaN && v.isNaN) || !v.isFinite { continue }
                if !(abs(u - v) <= atol + rtol * abs(v)) {
                    return (i, "element \(k) is \(u), the unoptimized graph gives \(v)")
                }
            }
        }
        return nil
    }
}
