import NDArray
import Testing
import Theano

/// How closely a backend's result must match the op's reference `perform`, by dtype and by
/// what the op's kernels may reorder (``KernelAgreement``).
func tolerance(_ agreement: KernelAgreement, _ dtype: DType, largest: Double) -> (rel: Double, abs: Double) {
    let single = dtype == .float32
    switch agreement {
    case .reorderedProducts:
        let rel = single ? 1e-4 : 1e-10
        return (rel, rel * largest)
    case .reorderedSums: return single ? (1e-5, 1e-6) : (1e-10, 1e-13)
    case .sameOrder: return single ? (1e-5, 1e-6) : (1e-11, 1e-13)
    }
}

/// The modes that reach each backend: the reference `perform` (FAST_COMPILE), the native CPU
/// kernels (FAST_RUN; the reference where no C compiler is installed), DEBUG, which also
/// compares each native kernel with `perform` node by node and checks the declared views, and
/// the CUDA backend's kernels on the simulated device (`cuda-sim`, which needs the C compiler).
public let backendModes: [(name: String, mode: Mode)] = [
    ("FAST_COMPILE", .fastCompile), ("FAST_RUN", .fastRun), ("DEBUG", .debug),
    ("cuda-sim", .fastRun.on(.simulatedCUDA))
]

/// Checks an op in one call, the way `checkHashable(equivalenceClasses:)` checks a type:
/// - the type rule: ``Op/outputTypes(_:)`` accepts each sample's types, and `perform`'s results
///   have the types it gives;
/// - every backend: a function of the op alone, compiled in each of ``backendModes``, gives
///   `perform`'s results on each sample (within the tolerance the op's `kernelAgreement` allows);
/// - the gradient (ops that are ``DifferentiableOp``s, with `gradient` true): ``verifyGrad`` at
///   each sample, in float64, with respect to every float input (others are held constant);
/// - `Hashable`: the op equals itself and a copy with the same hash, and differs from every op
///   in `unequal`.
///
/// ```swift
/// checkOp(Elemwise(Softsign()), samples: [[try NDArray([-2, 0.5, 3] as [Double])]])
/// ```
public func checkOp<O: Op>(
    _ op: O, samples: [[NDArray]], unequal: [any Op] = [], gradient: Bool = true,
    gradientTolerance: (rel: Double, abs: Double) = (1e-5, 1e-7),
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(!samples.isEmpty, "checkOp needs at least one sample", sourceLocation: sourceLocation)
    checkHashable(op, unequal: unequal, sourceLocation: sourceLocation)
    for (k, sample) in samples.enumerated() {
        let what = "\(op), sample \(k) (\(sample.map { "\($0.dtype)\($0.shape)" }.joined(separator: ", ")))"
        guard let reference = checkTypeRule(op, sample, what, sourceLocation) else { continue }
        checkBackends(op, sample, reference, what, sourceLocation)
        if gradient, op is any DifferentiableOp {
            checkGradient(op, sample, what, gradientTolerance, sourceLocation)
        }
    }
}

private func checkHashable<O: Op>(_ op: O, unequal: [any Op], sourceLocation: Testing.SourceLocation) {
    let copy = op
    #expect(
        op == copy && op.hashValue == copy.hashValue, "\(op) is not equal to its copy",
        sourceLocation: sourceLocation)
    for other in unequal {
        let same = (other as? O).map { $0 == op } ?? false
        #expect(!same, "\(op) equals \(other), which computes another function", sourceLocation: sourceLocation)
    }
}

/// `perform`'s results, once they are known to have the types the type rule gives; nil (with
/// an issue recorded) otherwise.
private func checkTypeRule<O: Op>(
    _ op: O, _ sample: [NDArray], _ what: String,
    _ sourceLocation: Testing.SourceLocation
) -> [NDArray]? {
    let types = sample.map { TensorType($0.dtype, shape: $0.shape.map { Optional($0) }) }
    do {
        let outTypes = try op.outputTypes(types)
        let results = try op.perform(sample)
        #expect(
            outTypes.count == results.count && results.count == op.outputCount,
            "\(what): \(outTypes.count) types, \(results.count) results", sourceLocation: sourceLocation)
        for (t, r) in zip(outTypes, results) {
            #expect(
                t.accepts(r), "\(what): the type rule says \(t), perform gave \(r.dtype) \(r.shape)",
                sourceLocation: sourceLocation)
        }
        return results
    } catch {
        Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

private func checkBackends<O: Op>(
    _ op: O, _ sample: [NDArray], _ reference: [NDArray], _ what: String,
    _ sourceLocation: Testing.SourceLocation
) {
    let inputs = sample.map { tensor($0.dtype, shape: $0.shape.map { _ in nil }) }
    let outputs = Apply.make(op, inputs).outputs
    for (name, mode) in backendModes {
        do {
            let f = try function(inputs: inputs, outputs: outputs, mode: mode, onUnusedInput: .ignore)
            let got = try f.call(sample)
            for (o, (g, want)) in zip(got, reference).enumerated() {
                let layout = "\(what) in \(name): output \(o) is \(g.dtype) \(g.shape), perform gave "
                    + "\(want.dtype) \(want.shape)"
                #expect(g.dtype == want.dtype && g.shape == want.shape, "\(layout)", sourceLocation: sourceLocation)
                let largest = want.doubles.lazy.filter(\.isFinite).map(Swift.abs).max() ?? 0
                let (rel, abs) = tolerance(op.kernelAgreement, want.dtype, largest: largest)
                let bad = zip(g.doubles, want.doubles).enumerated().first { _, pair in
                    let (u, v) = pair
                    return !(u == v || (u.isNaN && v.isNaN) || Swift.abs(u - v) <= abs + rel * Swift.abs(v))
                }
                let differs = "\(what) in \(name): output \(o) element \(bad?.offset ?? 0) is "
                    + "\(bad?.element.0 ?? 0), perform gave \(bad?.element.1 ?? 0)"
                #expect(bad == nil, "\(differs)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("\(what) in \(name): \(error)", sourceLocation: sourceLocation)
        }
    }
}

private func checkGradient<O: Op>(
    _ op: O, _ sample: [NDArray], _ what: String, _ tol: (rel: Double, abs: Double),
    _ sourceLocation: Testing.SourceLocation
) {
    let floats = sample.indices.filter { sample[$0].dtype.isFloat }
    let types = sample.map { TensorType($0.dtype, shape: $0.shape.map { Optional($0) }) }
    guard !floats.isEmpty, let outTypes = try? op.outputTypes(types), outTypes.contains(where: { $0.dtype.isFloat })
    else { return }
    do {
        try verifyGrad(
            { vars in
                var args = sample.map { Constant($0) as Variable }
                for (v, k) in zip(vars, floats) { args[k] = v }
                let outs = Apply.make(op, args).outputs.filter { $0.dtype.isFloat }
                return outs.dropFirst().reduce(sum(outs[0])) { $0 + sum($1) }
            }, at: floats.map { sample[$0] }, relTolerance: tol.rel, absTolerance: tol.abs, mode: .fastCompile)
    } catch {
        Issue.record("\(what): gradient: \(error)", sourceLocation: sourceLocation)
    }
}
