import NDArray

/// A symbolic tensor: a graph input, a constant, a shared variable, or the output of an
/// ``Apply`` node. Identity matters (two `matrix("x")` calls are different inputs), so it is a
/// class compared by identity.
///
/// ```swift
/// let x = matrix("x")          // float32 (floatX) matrix input
/// let y = tanh(x) * 2          // y.owner is the Mul node
/// ```
public class Variable: Hashable, CustomStringConvertible {
    public let type: TensorType
    /// The user's name for it (shown by printing and in error messages).
    public var name: String?
    /// The node that computes it; nil for inputs, constants and shared variables.
    public let owner: Apply?
    /// Which output of `owner` this is.
    public let index: Int
    /// Where it was built.
    public let location: SourceLocation

    init(type: TensorType, name: String?, owner: Apply?, index: Int, location: SourceLocation) {
        self.type = type
        self.name = name
        self.owner = owner
        self.index = index
        self.location = location
    }

    /// A free symbolic input of `type`.
    public convenience init(_ type: TensorType, name: String? = nil) {
        self.init(type: type, name: name, owner: nil, index: 0, location: .capture())
    }

    public var dtype: DType { type.dtype }
    public var ndim: Int { type.ndim }

    public static func == (a: Variable, b: Variable) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }

    public var description: String {
        if let n = name { return n }
        if let o = owner { return "\(o.op)" + (o.outputCount > 1 ? ".\(index)" : "") }
        return "<\(type)>"
    }

    /// A name for messages: `'x' (float32(?, 784))`.
    var label: String { (name.map { "'\($0)'" } ?? description) + " (\(type))" }
}

/// A symbolic tensor with a fixed value, folded into the compiled program.
public final class Constant: Variable {
    public let value: NDArray

    /// A constant holding `value`.
    public init(_ value: NDArray, name: String? = nil) {
        self.value = value
        super.init(
            type: TensorType(value.dtype, shape: value.shape.map { $0 }), name: name, owner: nil,
            index: 0, location: .capture())
    }

    public override var description: String {
        if let n = name { return n }
        if value.count <= 8 { return value.description }
        return "Constant\(type)"
    }
}
