import NDArray

/// The one error type of the compiler. Errors about a node name its op, the types (and at run
/// time the shapes) of its inputs, and the user's source location where it was built.
///
/// ```swift
/// do { _ = try function(inputs: [x], outputs: [dot(x, W)]) }
/// catch let e as TheanoError { print(e) }   // Dot: … (built at Model.swift:12)
/// ```
public struct TheanoError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// A type rule rejected its inputs (dtype, ndim, static shape).
        case type
        /// Run-time shapes do not fit.
        case shape
        /// A value passed to a compiled function does not fit its input.
        case badInput
        case missingInput
        case unusedInput
        /// A shared variable passed as an explicit input.
        case sharedAsInput
        case update
        case givens
        case unsupported
        case gradient
        case runtime
        case config
        /// The C compiler rejected generated kernels, or they could not be cached or loaded.
        case compile
    }

    public var kind: Kind
    public var message: String
    /// The op's description, when the error is about a node.
    public var op: String?
    /// The node's inputs: types, and at run time shapes.
    public var inputs: String?
    public var location: SourceLocation?

    public init(
        _ kind: Kind, _ message: String, op: String? = nil, inputs: String? = nil,
        location: SourceLocation? = nil
    ) {
        self.kind = kind
        self.message = message
        self.op = op
        self.inputs = inputs
        self.location = location
    }

    public var description: String {
        var s = op.map { "\($0): " } ?? ""
        s += message
        if let i = inputs { s += "\n  inputs: \(i)" }
        if let l = location { s += "\n  built at \(l)" }
        return s
    }
}

/// What a type rule or `perform` throws; the graph adds the node's context.
public struct OpError: Error, CustomStringConvertible, Sendable {
    public var kind: TheanoError.Kind
    public var message: String
    public init(_ message: String, kind: TheanoError.Kind = .type) {
        self.message = message
        self.kind = kind
    }
    public var description: String { message }
}
