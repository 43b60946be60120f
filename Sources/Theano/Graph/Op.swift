import NDArray

/// An operation: a value type whose equal instances compute the same function (which is what
/// makes merging and rewrite matching cheap).
///
/// One op holds, in one file: its type rule (``outputTypes(_:)``), its reference implementation
/// (``perform(_:)``) and, as the library grows, its gradient and native code.
public protocol Op: Hashable, Sendable, CustomStringConvertible {
    /// Number of outputs (1 for almost every op).
    var outputCount: Int { get }
    /// The type rule: output types from input types; throws ``OpError`` on a bad combination.
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType]
    /// The reference implementation on runtime values.
    func perform(_ inputs: [NDArray]) throws -> [NDArray]
    /// Outputs that are views of an input (output index → input index); DEBUG mode checks them.
    var viewMap: [Int: Int] { get }
    /// ``perform(_:)`` writing into `buffers` (one per output, nil or a contiguous array from an
    /// earlier call that nothing else holds) when they have the output's shape and dtype, so a
    /// compiled function reuses its memory across calls. Ops that do not reuse memory return
    /// `perform(inputs)`.
    func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray]
    /// Whether ``perform(_:reusing:)`` uses the buffers (the VM keeps buffers only for these).
    var reusesBuffers: Bool { get }
    /// Inputs whose memory may become an output's (output index → input index) when nothing
    /// else reads the input any more: the VM then passes that input as the output's buffer, and
    /// the op overwrites it in place (Theano's `destroy_map`, decided at run time).
    var inplaceMap: [Int: Int] { get }
}

extension Op {
    public var outputCount: Int { 1 }
    public var viewMap: [Int: Int] { [:] }
    public var reusesBuffers: Bool { false }
    public var inplaceMap: [Int: Int] { [:] }
    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] { try perform(inputs) }
    public var description: String { String(describing: Self.self) }

    /// Type-erased equality, for comparing ops held as `any Op`.
    public func isEqual(to other: any Op) -> Bool {
        guard let o = other as? Self else { return false }
        return self == o
    }
}

/// The buffer in `buffers[index]` when it is contiguous with the given shape and dtype.
func reusable(_ buffers: [NDArray?], _ index: Int, shape: [Int], dtype: DType) -> NDArray? {
    guard index < buffers.count, let b = buffers[index], b.shape == shape, b.dtype == dtype, b.isContiguous else { return nil }
    return b
}

extension Array where Element == TensorType {
    /// `float32(?, 3), int64()` — for error messages.
    var summary: String { map(\.description).joined(separator: ", ") }
}

extension Array where Element == NDArray {
    /// `float32 shape (3, 4), int64 shape ()` — for run-time error messages.
    var summary: String {
        map { "\($0.dtype) shape (" + $0.shape.map(String.init).joined(separator: ", ") + ($0.ndim == 1 ? ",)" : ")") }
            .joined(separator: ", ")
    }
}
