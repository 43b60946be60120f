import NDArray

/// A type-erased scalar op that keeps equality and hashing, so composites stay `Hashable`.
public struct AnyScalarOp: Hashable, Sendable, CustomStringConvertible {
    public let base: any ScalarOp

    public init(_ op: any ScalarOp) { base = op }

    public static func == (a: AnyScalarOp, b: AnyScalarOp) -> Bool { sameOp(a.base, b.base) }
    public func hash(into h: inout Hasher) {
        h.combine(ObjectIdentifier(type(of: base)))
        base.hash(into: &h)
    }
    public var description: String { base.description }
}

/// Tensor elementwise ops expose their scalar op, so fusion can collect them without knowing `S`.
protocol ElemwiseNode {
    var anyScalar: any ScalarOp { get }
}

extension Elemwise: ElemwiseNode {
    var anyScalar: any ScalarOp { scalar }
}

/// Several elementwise ops fused into one: a small program of scalar ops over the composite's
/// inputs, computed in one loop. Built by the fusion rewrite; the native backend compiles it to C,
/// and ``perform(_:)`` runs the same program with the reference ops (what DEBUG mode compares to).
public struct Composite: Op {
    /// Where an instruction's argument comes from.
    public enum Operand: Hashable, Sendable {
        /// The composite's input `i`.
        case input(Int)
        /// The result of instruction `i`.
        case value(Int)
        /// A scalar constant of the given dtype (inlined into the generated code).
        case constant(Double, DType)
    }

    /// One scalar op applied to operands; `dtype` is its output dtype.
    public struct Instruction: Hashable, Sendable {
        public let op: AnyScalarOp
        public let args: [Operand]
        public let dtype: DType
    }

    public let inputDTypes: [DType]
    public let instructions: [Instruction]
    /// The instructions whose results are the composite's outputs.
    public let outputs: [Int]
    /// `.sum` or `.mean`: the single output is reduced over all its elements in the same loop
    /// (accumulated in float64), giving a scalar — elementwise work feeding a reduction without
    /// the intermediate array.
    public var reduction: ReduceKind? = nil

    public var outputCount: Int { outputs.count }

    /// Any input of an output's dtype may hold that output (the kernel reads and writes each
    /// element at the same index); the VM offers one when its shape turns out to match.
    public var inplaceMap: [Int: Int] {
        var map: [Int: Int] = [:]
        if reduction != nil { return map }
        // Each input can hold at most one output.
        var used = Set<Int>()
        for (o, i) in outputs.enumerated() {
            if let k = inputDTypes.indices.first(where: {
                inputDTypes[$0] == instructions[i].dtype && !used.contains($0)
            }) {
                map[o] = k
                used.insert(k)
            }
        }
        return map
    }

    /// `Composite{Add(i0, Mul(i1, 2.0))}`: each output as an expression of the inputs `i0`, `i1`, ….
    public var description: String {
        func text(_ i: Int) -> String {
            let args = instructions[i].args.map { a -> String in
                switch a {
                case .input(let k): "i\(k)"
                case .value(let j): text(j)
                case .constant(let v, let d): d.isFloat ? "\(v)" : "\(Int64.clamping(v))"
                }
            }
            return "\(instructions[i].op)(" + args.joined(separator: ", ") + ")"
        }
        let body = outputs.map(text).joined(separator: ", ")
        return "Composite{" + (reduction.map { "\($0.rawValue.capitalized)(\(body))" } ?? body) + "}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.map(\.dtype) == inputDTypes else {
            throw OpError(
                "Composite expects \(inputDTypes.map(\.description).joined(separator: ", ")), got \(inputs.summary)")
        }
        if let reduction, let o = outputs.first {
            _ = try broadcastStatic(inputs.map(\.shape))
            return [TensorType(reduction.outputDType(instructions[o].dtype), shape: [])]
        }
        return try outputs.map { o in
            TensorType(instructions[o].dtype, shape: try broadcastStatic(dependencies(of: o).map { inputs[$0].shape }))
        }
    }

    /// The composite inputs an instruction reads, directly or through other instructions.
    func dependencies(of instruction: Int) -> [Int] {
        var seen = Set<Int>()
        var inputs = Set<Int>()
        var stack = [instruction]
        while let i = stack.popLast() {
            guard seen.insert(i).inserted else { continue }
            for a in instructions[i].args {
                switch a {
                case .input(let k): inputs.insert(k)
                case .value(let j): stack.append(j)
                case .constant: break
                }
            }
        }
        return inputs.sorted()
    }

    /// The reference: each instruction with its op's own `Elemwise.perform`.
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        var values: [NDArray] = []
        values.reserveCapacity(instructions.count)
        for ins in instructions {
            let args = ins.args.map { a -> NDArray in
                switch a {
                case .input(let k): return inputs[k]
                case .value(let j): return values[j]
                case .constant(let v, let d): return NDArray(scalar: v, dtype: d)
                }
            }
            values.append(try performElemwise(ins.op.base, args))
        }
        let results = outputs.map { values[$0] }
        guard let reduction, let r = results.first else { return results }
        return try Reduce(kind: reduction, axes: Array(0..<r.ndim)).perform([r])
    }
}

private func sameOp<S: ScalarOp>(_ a: S, _ b: any ScalarOp) -> Bool { (b as? S) == a }

private func performElemwise<S: ScalarOp>(_ op: S, _ args: [NDArray]) throws -> NDArray {
    try Elemwise(op).perform(args)[0]
}

extension Composite {
    /// A reduction's output is a scalar; otherwise the elementwise rule.
    public func outputLength(_ node: Apply, output: Int, dim: Int) -> Variable? {
        reduction == nil ? ShapeInference.throughFullInput(node, output: output, dim: dim) : nil
    }

    public var kernelAgreement: KernelAgreement { reduction == nil ? .sameOrder : .reorderedSums }
}

// MARK: - Native kernel (generated C)

extension Composite: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? {
        let fast = ElementwiseKernel.fastPattern(self, inputs: node.inputs.map(\.type))
        return .generated { name in try CodeGen.kernel(self, name: name, fast: fast) }
    }

    func nativeKernel(_ node: Apply, _ code: LinkedCode) throws -> (any Kernel)? {
        ElementwiseKernel(
            op: self, entry: unsafeBitCast(try code.generatedEntry(), to: ElementwiseKernel.Entry.self),
            fast: ElementwiseKernel.fastPattern(self, inputs: node.inputs.map(\.type)),
            cost: ElementwiseKernel.cost(self), flush: code.options.flushDenormals)
    }
}
