import Foundation
import NDArray
import Synchronization

/// A compiled function: call it with values for its inputs; it returns its outputs and commits
/// its updates to shared variables.
///
/// ```swift
/// let a = vector("a")
/// let f = try function(inputs: [a], outputs: [a + a ** 10])
/// try f([0, 1, 2])[0]        // [0, 2, 1026]
/// ```
///
/// A function may be called from several threads at once: the compiled graph is immutable and
/// each call takes its own buffers. Updates of concurrent calls are each committed whole, in an
/// unspecified order.
public final class Function: @unchecked Sendable {
    /// The explicit inputs, in call order.
    public let inputs: [Variable]
    /// The outputs as the user gave them.
    public let outputs: [Variable]
    /// The mode it was compiled in.
    public let mode: Mode
    let program: Program
    /// DEBUG mode: the graph as written, run beside the optimized one on every call.
    let debug: DebugCheck?
    /// Skip argument checks and conversions (Theano's `trust_input`): arguments that are an
    /// `NDArray` of the input's dtype and rank are taken as they are. Saves a few µs per call.
    public var trustInput: Bool {
        get { trust.load(ordering: .relaxed) }
        set { trust.store(newValue, ordering: .relaxed) }
    }
    private let trust = Atomic<Bool>(false)

    /// The shared variables each call updates, explicit and default updates (random-stream
    /// states) alike, in no particular order: what a checkpoint of a training loop must save.
    ///
    /// ```swift
    /// let saved = train.updatedSharedVariables.map { ($0.name, $0.value) }
    /// ```
    public var updatedSharedVariables: [SharedVariable] { program.updates.map(\.shared) }

    /// Values of inputs that callers may leave out (Theano's `In(x, value=…)`), by input index.
    let defaults: [Int: NDArray]

    init(
        inputs: [Variable], outputs: [Variable], mode: Mode, program: Program, debug: DebugCheck? = nil,
        defaults: [Int: NDArray] = [:]
    ) {
        self.inputs = inputs
        self.outputs = outputs
        self.mode = mode
        self.program = program
        self.debug = debug
        self.defaults = defaults
    }

    /// Runs the function with some inputs given by name; the others take their default values
    /// (`function(…, defaults:)`) or come from `positional`, in order.
    ///
    /// ```swift
    /// let pretrain = try function(inputs: [index, corruption, lr], outputs: [cost], updates: u,
    ///                             defaults: [corruption: 0.2, lr: 0.1])
    /// try pretrain(3)                                         // corruption 0.2, lr 0.1
    /// try pretrain.call([3], named: [corruption: 0.3])
    /// ```
    @discardableResult
    public func call(
        _ positional: [any TensorConvertible], named: [Variable: any TensorConvertible]
    ) throws -> [NDArray] {
        var args: [any TensorConvertible] = positional
        for (i, input) in inputs.enumerated().dropFirst(positional.count) {
            if let v = named[input] {
                args.append(v)
            } else if let d = defaults[i] {
                args.append(d)
            } else {
                throw TheanoError(
                    .badInput,
                    "no value for input \(input.label): pass it, by position or by name, or give it a default",
                    location: input.location)
            }
        }
        if let stray = named.keys.first(where: { !inputs.contains($0) }) {
            throw TheanoError(.badInput, "\(stray.label) is not an input of this function", location: stray.location)
        }
        if let twice = inputs.prefix(positional.count).first(where: { named[$0] != nil }) {
            throw TheanoError(
                .badInput, "input \(twice.label) is given both by position and by name", location: twice.location)
        }
        return try call(args)
    }

    /// Runs the function on `arguments` (one per input: `NDArray`, Swift numbers, nested arrays).
    /// Updates are committed only after every output and update has been computed; on any error
    /// no shared variable changes.
    @discardableResult
    public func callAsFunction(_ arguments: any TensorConvertible...) throws -> [NDArray] {
        try call(arguments)
    }

    /// ``callAsFunction(_:)`` for `NDArray` arguments, without boxing each one as
    /// `any TensorConvertible` (an allocation per argument): the path of training loops.
    @discardableResult
    public func callAsFunction(_ arguments: NDArray...) throws -> [NDArray] {
        guard arguments.count == inputs.count else { return try call(arguments.map { $0 as any TensorConvertible }) }
        if trustInput, zip(inputs, arguments).allSatisfy({ $0.dtype == $1.dtype && $0.ndim == $1.ndim }) {
            return try run(arguments)
        }
        return try run(zip(inputs, arguments).map { try Self.value($1, for: $0) })
    }

    /// ``callAsFunction(_:)`` with an array of arguments.
    @discardableResult
    public func call(_ arguments: [any TensorConvertible]) throws -> [NDArray] {
        if arguments.count < inputs.count, !defaults.isEmpty,
            (arguments.count..<inputs.count).allSatisfy({ defaults[$0] != nil })
        {
            return try call(arguments + (arguments.count..<inputs.count).map { defaults[$0]! as any TensorConvertible })
        }
        guard arguments.count == inputs.count else {
            throw TheanoError(
                .badInput,
                "function takes \(inputs.count) argument\(inputs.count == 1 ? "" : "s") "
                    + "(\(inputs.map(\.label).joined(separator: ", "))), got \(arguments.count)"
            )
        }
        var values: [NDArray] = []
        values.reserveCapacity(arguments.count)
        let trusted = trustInput
        for (input, arg) in zip(inputs, arguments) {
            if trusted, let v = arg.arrayValue, v.dtype == input.dtype, v.ndim == input.ndim {
                values.append(v)
                continue
            }
            values.append(try Self.value(arg, for: input))
        }
        return try run(values)
    }

    /// An argument converted to the input's dtype and checked against its rank and static
    /// lengths (generic, so `NDArray` arguments are not boxed).
    private static func value(_ arg: some TensorConvertible, for input: Variable) throws -> NDArray {
        let v: NDArray
        do { v = try arg.tensorValue(for: input.type) } catch {
            throw TheanoError(.badInput, "bad argument for input \(input.label): \(error)", location: input.location)
        }
        guard v.ndim == input.ndim else {
            throw TheanoError(
                .badInput, "input \(input.label) needs \(input.ndim) dimensions, got shape \(v.shape)",
                location: input.location)
        }
        for (d, (want, got)) in zip(input.type.shape, v.shape).enumerated() {
            if let want, want != got {
                throw TheanoError(
                    .badInput, "input \(input.label) needs length \(want) on dimension \(d), got shape \(v.shape)",
                    location: input.location)
            }
        }
        return v
    }

    /// Runs the function on `values`, converting only those whose dtype or rank differs from
    /// their input's (a scan's steps, whose values are views of its own buffers).
    func callChecked(_ values: [NDArray]) throws -> [NDArray] {
        guard values.count == inputs.count else { return try call(values.map { $0 as any TensorConvertible }) }
        if zip(inputs, values).allSatisfy({ $0.dtype == $1.dtype && $0.ndim == $1.ndim }) { return try run(values) }
        return try run(zip(inputs, values).map { try Self.value($1, for: $0) })
    }

    /// Runs the program on checked values and commits the updates.
    private func run(_ values: [NDArray]) throws -> [NDArray] {
        let (outs, updates) = try program.run(values)
        if let debug { try debug.verify(values, outputs: outs + updates.map(\.1)) }
        for (shared, value) in updates { shared.commit(value) }
        return outs
    }

    /// How this function's calls used CUDA graphs (nil off a CUDA device, or when each kernel is
    /// launched at its node: profiling, DEBUG, a mode excluding `"replay"`).
    ///
    /// ```swift
    /// let train = try function(inputs: [i], outputs: [cost], updates: …, mode: .fastRun.on(.cuda(0)))
    /// for i in 0..<100 { _ = try train(i % 83) }
    /// print(train.graphStatistics?.launches ?? 0)   // two stretches a call, graphs from the third
    /// ```
    public var graphStatistics: GraphStatistics? { program.graphStatistics }

    /// Timings per node and op kind, when compiled with `profile: true` (or `THEANO_FLAGS=profile=True`).
    public var profile: Profile? { program.profile }

    /// The compiled graph, one node per line (Theano's `debugprint`).
    public var graphDescription: String {
        debugDescription(program.outputVariables, extraRoots: program.updateVariables)
    }
}

/// Compiles a function from `inputs` to `outputs`.
///
/// - `updates`: new values for shared variables, computed from the values before the call and
///   committed together after it (`[W: W - 0.13 * gW]`).
/// - `givens`: variables replaced by other expressions before compiling, e.g. an input `x` by a
///   minibatch slice of a shared dataset (a view: the dataset is not copied).
/// - `onUnusedInput`: what to do with an input the outputs do not need (default from `Config`).
/// - `profile`: record time per node and op kind (see ``Function/profile``).
/// - `defaults`: values for inputs that callers may leave out (trailing positional arguments,
///   or any input with ``Function/call(_:named:)``), checked against the input's type now.
/// - `noDefaultUpdates`: do not apply the ``SharedVariable/defaultUpdate`` of the shared
///   variables the graph uses (a random stream then draws the same numbers on every call).
public func function(
    inputs: [Variable], outputs: [Variable],
    updates: [SharedVariable: Variable] = [:], givens: [Variable: Variable] = [:],
    mode: Mode? = nil, onUnusedInput: UnusedInputPolicy? = nil, profile: Bool? = nil,
    noDefaultUpdates: Bool = false, defaults: [Variable: any TensorConvertible] = [:]
) throws -> Function {
    let updates =
        noDefaultUpdates
        ? updates : withDefaultUpdates(updates, roots: outputs + Array(updates.values) + Array(givens.values))
    let mode = mode ?? Config.current.mode
    let policy = onUnusedInput ?? Config.current.onUnusedInput
    // Explicit inputs: symbolic, not shared, not constant, not repeated.
    var seen = Set<Variable>()
    for v in inputs {
        if v is SharedVariable {
            throw TheanoError(
                .sharedAsInput,
                "shared variable \(v.label) cannot be an explicit input: its value is used implicitly; change it "
                    + "with setValue or givens",
                location: v.location)
        }
        if v is Constant {
            throw TheanoError(.badInput, "constant \(v.label) cannot be an input", location: v.location)
        }
        if !seen.insert(v).inserted {
            throw TheanoError(.badInput, "input \(v.label) is listed twice", location: v.location)
        }
    }
    // Givens: same dtype and rank.
    for (old, new) in givens {
        if old is SharedVariable || old is Constant || inputs.contains(old) {
            throw TheanoError(
                .givens,
                "givens cannot replace \(old.label): it is a "
                    + "\(old is SharedVariable ? "shared variable" : old is Constant ? "constant" : "function input")",
                location: old.location)
        }
        guard old.dtype == new.dtype, old.ndim == new.ndim else {
            throw TheanoError(
                .givens, "givens replaces \(old.label) with \(new.label): dtype and rank must match",
                location: new.owner?.location ?? new.location)
        }
    }
    // Updates: the value must have the shared variable's dtype and rank.
    let updateList = updates.sorted { ($0.key.name ?? "") < ($1.key.name ?? "") }
    for (shared, value) in updateList {
        guard value.dtype == shared.dtype, value.ndim == shared.ndim else {
            throw TheanoError(
                .update,
                "update of \(shared.label) has type \(value.type); it must be \(shared.dtype) with \(shared.ndim) "
                    + "dimensions\(value.dtype != shared.dtype ? " (use cast(…, .\(shared.dtype)))" : "")",
                location: value.owner?.location ?? value.location)
        }
    }
    let roots = outputs + updateList.map(\.value)
    let rebuilt = givens.isEmpty ? roots : Graph.clone(roots, replacing: givens)
    // Invalid nodes are reported before any rewrite sees them.
    if let bad = Graph.topologicalOrder(rebuilt, stoppingAt: Set(inputs)).first(where: { $0.error != nil }),
        let e = bad.error
    {
        throw e
    }
    // Unused inputs are judged on the graph as written, before rewrites simplify it.
    try checkUnusedInputs(inputs, rebuilt, policy: policy)
    let (program, applied) = try Program.compile(
        inputs: inputs, roots: rebuilt, outputCount: outputs.count,
        updates: updateList.map(\.key), mode: mode, excluded: mode.excluded,
        profile: profile ?? Config.current.profile)
    var debug: DebugCheck?
    if mode.name == Mode.debug.name {
        debug = try DebugCheck(
            inputs: inputs, roots: rebuilt, outputCount: outputs.count,
            updates: updateList.map(\.key), mode: mode, applied: applied)
    }
    var defaultValues: [Int: NDArray] = [:]
    for (v, value) in defaults {
        guard let i = inputs.firstIndex(of: v) else {
            throw TheanoError(.badInput, "default given for \(v.label), which is not an input", location: v.location)
        }
        do { defaultValues[i] = try value.tensorValue(for: v.type) } catch {
            throw TheanoError(.badInput, "bad default for input \(v.label): \(error)", location: v.location)
        }
    }
    return Function(
        inputs: inputs, outputs: outputs, mode: mode, program: program, debug: debug, defaults: defaultValues)
}

/// `updates` plus the default updates of every shared variable the roots (and those updates,
/// transitively) use that has no explicit update.
private func withDefaultUpdates(_ updates: [SharedVariable: Variable], roots: [Variable]) -> [SharedVariable: Variable]
{
    var all = updates
    var frontier = roots
    while !frontier.isEmpty {
        var added: [Variable] = []
        for case let s as SharedVariable in Graph.ancestors(frontier, stoppingAt: []) {
            if all[s] == nil, let u = s.defaultUpdate {
                all[s] = u
                added.append(u)
            }
        }
        frontier = added
    }
    return all
}

private func checkUnusedInputs(_ inputs: [Variable], _ roots: [Variable], policy: UnusedInputPolicy) throws {
    let used = Set(Graph.ancestors(roots, stoppingAt: Set(inputs)))
    for v in inputs where !used.contains(v) {
        let msg = "input \(v.label) is not used by the outputs or updates"
        switch policy {
        case .raise:
            throw TheanoError(.unusedInput, msg + " (pass onUnusedInput: .ignore to allow this)", location: v.location)
        case .warn: FileHandle.standardError.write(Data("theano: warning: \(msg)\n".utf8))
        case .ignore: break
        }
    }
}

extension Variable {
    /// Evaluates this variable, giving values for the inputs it needs (Theano's `eval`).
    ///
    /// ```swift
    /// try (x * 2).eval([x: [1, 2, 3]])     // [2., 4., 6.]
    /// ```
    public func eval(_ inputs: [Variable: any TensorConvertible] = [:]) throws -> NDArray {
        let pairs = Array(inputs)
        let f = try function(inputs: pairs.map(\.key), outputs: [self], onUnusedInput: .ignore)
        return try f.call(pairs.map(\.value))[0]
    }
}
