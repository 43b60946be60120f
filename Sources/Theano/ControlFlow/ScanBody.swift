import NDArray
import Synchronization

/// A scan's step as a graph of its own: placeholders for one step's values (sequence slices,
/// previous outputs per tap, non-sequences), the step's outputs, and the inner function compiled
/// from them on first use (rewritten and lowered like any function).
final class ScanBody: @unchecked Sendable {
    let inputs: [Variable]
    /// Recurrent outputs, then the others, then the stop condition when there is one.
    let outputs: [Variable]
    private let compiled = Mutex<Function?>(nil)

    init(inputs: [Variable], outputs: [Variable]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The inner function, compiled once in the current mode.
    func function() throws -> Function {
        try compiled.withLock { f in
            if let f { return f }
            let made = try Theano.function(inputs: inputs, outputs: outputs, onUnusedInput: .ignore)
            f = made
            return made
        }
    }

    /// One step: the inner function on `values` (each of its placeholder's dtype and rank).
    func step(_ values: [NDArray]) throws -> [NDArray] {
        try function().callChecked(values)
    }
}

/// The step's inner graph with every outer variable it uses (a shared variable, an input of the
/// outer function, anything computed outside the step) turned into a placeholder of its own, so
/// that the scan takes it as an input and gradients reach it. Constants stay in the graph.
struct ScanCapture {
    /// The outer variables, in the order their placeholders were made.
    let outer: [Variable]
    let placeholders: [Variable]
    let outputs: [Variable]

    init(outputs: [Variable], stepInputs: [Variable]) {
        let mine = Set(stepInputs)
        var inner = Set<Variable>(stepInputs)
        let nodes = Graph.topologicalOrder(outputs, stoppingAt: mine)
        // A variable is the step's own when it depends on a step input.
        for node in nodes where node.inputs.contains(where: inner.contains) {
            for o in node.outputs { inner.insert(o) }
        }
        var replace: [Variable: Variable] = [:]
        var outer: [Variable] = []
        var placeholders: [Variable] = []
        func capture(_ v: Variable) {
            guard !inner.contains(v), !(v is Constant), replace[v] == nil else { return }
            let p = Variable(type: v.type, name: v.name, owner: nil, index: 0, location: v.location)
            replace[v] = p
            outer.append(v)
            placeholders.append(p)
        }
        for node in nodes where node.inputs.contains(where: inner.contains) {
            for v in node.inputs { capture(v) }
        }
        for v in outputs { capture(v) }
        self.outer = outer
        self.placeholders = placeholders
        self.outputs = Graph.clone(outputs, replacing: replace)
    }
}
