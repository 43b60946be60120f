/// Theano's `debugprint`: one line per node, children indented, repeated nodes by id.
///
/// ```
/// Add [id A]
///  ├─ a [id B]
///  └─ Pow [id C]
///     ├─ a [id B]
///     └─ 10 [id D]
/// ```
public func debugprint(_ outputs: Variable...) -> String { debugDescription(outputs, extraRoots: []) }

/// ``debugprint(_:)`` of a compiled function's graph (including its update expressions).
public func debugprint(_ f: Function) -> String { f.graphDescription }

func debugDescription(_ outputs: [Variable], extraRoots: [Variable]) -> String {
    var ids: [ObjectIdentifier: String] = [:]
    var printed = Set<ObjectIdentifier>()
    var lines: [String] = []
    var withInner: [Apply] = []
    func id(_ o: AnyObject) -> String {
        let key = ObjectIdentifier(o)
        if let s = ids[key] { return s }
        var n = ids.count
        var s = ""
        repeat {
            s = String(UnicodeScalar(UInt8(65 + n % 26))) + s
            n = n / 26 - 1
        } while n >= 0
        ids[key] = s
        return s
    }
    func visit(_ v: Variable, _ prefix: String, _ childPrefix: String) {
        guard let node = v.owner else {
            lines.append(prefix + "\(v.name ?? v.description) [id \(id(v))]" + (v is SharedVariable ? " (shared)" : ""))
            return
        }
        let out = node.outputCount > 1 ? ".\(v.index)" : ""
        let name = v.name.map { " '\($0)'" } ?? ""
        let key = ObjectIdentifier(node)
        if printed.contains(key) {
            lines.append(prefix + "\(node.op)\(out) [id \(id(node))]\(name) ...")
            return
        }
        printed.insert(key)
        if node.op is any InnerGraphOp { withInner.append(node) }
        lines.append(prefix + "\(node.op)\(out) [id \(id(node))]\(name)")
        for (i, input) in node.inputs.enumerated() {
            let last = i == node.inputs.count - 1
            visit(input, childPrefix + (last ? " └─ " : " ├─ "), childPrefix + (last ? "    " : " │  "))
        }
    }
    for v in outputs { visit(v, "", "") }
    for v in extraRoots {
        lines.append("Update:")
        visit(v, "", "")
    }
    // Loops' and branches' own graphs, after the graph (nested ones after their parent's).
    var k = 0
    while k < withInner.count {
        let node = withInner[k]
        k += 1
        guard let op = node.op as? any InnerGraphOp else { continue }
        for (label, inner) in op.innerGraphs {
            lines.append("Inner graph of \(node.op) [id \(id(node))]\(label.isEmpty ? "" : " (\(label))"):")
            for v in inner { visit(v, "", "") }
        }
    }
    return lines.joined(separator: "\n")
}

/// An op that runs graphs of its own (a loop's step, a branch), which `debugprint` shows after the
/// graph that uses it.
protocol InnerGraphOp {
    /// Each inner graph's label (empty when there is one) and outputs.
    var innerGraphs: [(label: String, outputs: [Variable])] { get }
}
