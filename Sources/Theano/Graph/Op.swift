import NDArray

/// An operation: a value type whose equal instances compute the same function (which is what
/// makes merging and rewrite matching cheap).
///
/// One op holds, in one file: its type rule (``outputTypes(_:)``), its reference implementation
/// (``perform(_:)``), its gradient (``DifferentiableOp``), its shape rule
/// (``outputLength(_:output:dim:)``), what the VM may assume about it (``replayRole``,
/// ``kernelAgreement``) and, per backend, its kernel (for the CPU: `NativeLowering`). Nothing
/// else in the system switches over op types, so a new op is its file, its C file if it has a
/// fixed kernel, and its tests.
///
/// ```swift
/// struct Twice: Op {
///     func outputTypes(_ t: [TensorType]) throws -> [TensorType] { [t[0]] }
///     func perform(_ x: [NDArray]) throws -> [NDArray] { [x[0].mapElements(to: x[0].dtype) { 2 * $0 }] }
/// }
/// ```
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
    /// The shape rule (Theano's `infer_shape`): the length along `dim` of output `output` of
    /// `node` as an int64 scalar expression over the node's inputs and their shapes, or nil when
    /// the op does not determine it. It lets `x.shape[d]` be computed without computing `x`.
    func outputLength(_ node: Apply, output: Int, dim: Int) -> Variable?
    /// What the replay planner may assume about this op's nodes.
    var replayRole: ReplayRole { get }
    /// How closely a backend's kernel must agree with ``perform(_:)`` (DEBUG mode checks it).
    var kernelAgreement: KernelAgreement { get }
}

/// What the replay planner (which plans a call once its input layouts are known) may assume
/// about an op.
public enum ReplayRole: Sendable {
    /// An ordinary computation: its result is fixed when all its inputs are.
    case computes
    /// The result depends on its inputs' shapes only (`shape(x)`), so it is fixed once they are.
    case shapeOnly
    /// Never fixed, even on fixed inputs (random draws).
    case impure
    /// Output 0 is a view of input 0 at an offset that depends on shapes only (when its other
    /// inputs are fixed): a replay turns it into pointer arithmetic.
    case view
}

/// How a kernel's results may differ from the op's reference `perform`.
public enum KernelAgreement: Sendable {
    /// The same arithmetic in the same order: a few ulps.
    case sameOrder
    /// Sums taken in another order (vector lanes, blocks): rounding of the sum.
    case reorderedSums
    /// Sums of products whose terms cancel (convolution taps): rounding relative to the
    /// largest entry.
    case reorderedProducts
}

extension Op {
    public var outputCount: Int { 1 }
    public var viewMap: [Int: Int] { [:] }
    public var reusesBuffers: Bool { false }
    public var inplaceMap: [Int: Int] { [:] }
    public func outputLength(_ node: Apply, output: Int, dim: Int) -> Variable? { nil }
    public var replayRole: ReplayRole { .computes }
    public var kernelAgreement: KernelAgreement { .sameOrder }
    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] {
        try perform(inputs)
    }
    public var description: String { String(describing: Self.self) }

    /// Type-erased equality, for comparing ops held as `any Op`.
    public func isEqual(to other: any Op) -> Bool {
        guard let o = other as? Self else { return false }
        return self == o
    }
}

/// The buffer in `buffers[index]` when it is contiguous with the given shape and dtype.
func reusable(_ buffers: [NDArray?], _ index: Int, shape: [Int], dtype: DType) -> NDArray? {
    guard index < buffers.count, let b = buffers[index], b.shape == shape, b.dtype == dtype, b.isContiguous
    else { return nil }
    return b
}

extension Array where Element == TensorType {
    /// `float32(?, 3), int64()` — for error messages.
    var summary: String { map(\.description).joined(separator: ", ") }
}

extension Array where Element == NDArray {
    /// `float32 shape (3, 4), int64 shape ()` — for run-time error messages.
    var summary: String {
        map { a in
            "\(a.dtype) shape (" + a.shape.map(String.init).joined(separator: ", ") + (a.ndim == 1 ? ",)" : ")")
        }
        .joined(separator: ", ")
    }
}
