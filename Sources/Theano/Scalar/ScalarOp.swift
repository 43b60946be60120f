import NDArray
import RealModule

/// The element type a float-domain scalar op computes in.
public typealias FloatElement = Real & BinaryFloatingPoint & NDElement

/// How a scalar op's output dtype follows from its inputs.
public enum ScalarTypeRule: Hashable, Sendable {
    /// NumPy promotion of the inputs (bools computed as int8).
    case promote
    /// Like `.promote`, then integers go to float (int8/int16/uint8 → float32, wider → float64).
    case upgradeToFloat
    /// Computed on the promoted inputs; the output is bool.
    case predicate
    /// Inputs must be bool; the output is bool.
    case logical
    /// `switch(cond, a, b)`: the condition is any dtype, the output promotes `a` and `b`.
    case select
    /// Output is the given dtype; computed in the input's dtype.
    case cast(DType)
}

/// An element-wise operation on scalars. ``Elemwise`` lifts it to tensors with NumPy
/// broadcasting; everything else (fusion, gradients, printing) reaches it through this protocol.
///
/// A new elementwise op is one small file: the struct, its type rule, its evaluation in the float
/// domain (generic, so Float computes in Float as NumPy does) and, for ops defined on integers,
/// in the integer domain, plus its user-facing function.
public protocol ScalarOp: Hashable, Sendable, CustomStringConvertible {
    /// 1, 2 or 3 inputs.
    var arity: Int { get }
    var typeRule: ScalarTypeRule { get }
    /// Value in the float domain; unused arguments are zero.
    func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T
    /// Value in the integer domain (ints and bools computed as Int64, wrapped to the output dtype).
    func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64
    /// The derivative as graph: gradients for `inputs` given the output `z` and its gradient `g`,
    /// as tensor expressions (``Elemwise`` reduces them to each input's shape). `nil` is zero.
    func gradient(_ inputs: [Variable], _ z: Variable, _ g: Variable) -> [Variable?]
    /// Computes the op over broadcast inputs already converted to `out`'s dtype. A requirement
    /// (with a default) so that each op's witness is a loop specialised for that op: called
    /// through `Elemwise<S>` the generic version would dispatch per element.
    func run(_ args: [NDArray], into out: NDArray)
    /// The op as a C expression over `args` (C expressions already converted to `domain`), for
    /// the native backend's generated kernels. Its value must equal ``float(_:_:_:)`` or
    /// ``int(_:_:_:)``; the helpers it calls (`th_exp`, `th_wadd`, …) live in `Backend/Native/C/prelude.h`.
    func c(_ args: [String], _ domain: CDomain) -> String
    /// Facts the rewrites use: `f(a, b) == f(b, a)`.
    var isCommutative: Bool { get }
    /// `e` with `f(x, e) == x` for every `x` (0 for addition), or nil.
    var identity: Double? { get }
    /// Rough cost of one evaluation in simple-arithmetic units (an add is 1), which decides when
    /// a fused loop is worth splitting across threads.
    var cost: Int { get }
}

/// The C type a scalar op computes in inside a generated kernel: the float dtypes as themselves,
/// integers and bools as `int64_t` (as ``ScalarOp/int(_:_:_:)`` does).
public enum CDomain: Hashable, Sendable {
    case float32, float64, int64

    /// The domain a computation in `dtype` uses.
    init(_ dtype: DType) {
        self = dtype == .float32 ? .float32 : (dtype == .float64 ? .float64 : .int64)
    }

    public var isFloat: Bool { self != .int64 }
    /// The C type name.
    public var cType: String {
        switch self {
        case .float32: "float"
        case .float64: "double"
        case .int64: "int64_t"
        }
    }
    /// The libm-style suffix of this domain's functions: `expf` for float, `exp` for double.
    public var f: String { self == .float32 ? "f" : "" }
    /// A number as a C literal of this domain.
    public func literal(_ v: Double) -> String {
        switch self {
        case .float32: return v.isFinite ? "\(Float(v))f" : (v.isNaN ? "NAN" : (v > 0 ? "INFINITY" : "(-INFINITY)"))
        case .float64: return v.isFinite ? "\(v)" : (v.isNaN ? "NAN" : (v > 0 ? "INFINITY" : "(-INFINITY)"))
        case .int64: return "INT64_C(\(Int64.clamping(v)))"
        }
    }
}

extension ScalarOp {
    public var arity: Int { 1 }
    public var typeRule: ScalarTypeRule { .promote }
    public var description: String { String(describing: Self.self) }
    public var isCommutative: Bool { false }
    public var identity: Double? { nil }
    public var cost: Int { 1 }

    /// Integer ops default to the float definition (only reached by `.promote` ops on ints).
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        Int64.clamping(float(Double(a), Double(b), Double(c)))
    }

    /// The dtype computed in and the dtype produced, from the input dtypes.
    public func dtypes(_ inputs: [DType]) throws -> (compute: DType, output: DType) {
        guard inputs.count == arity else {
            throw OpError("\(self) takes \(arity) inputs, got \(inputs.count)")
        }
        func promoted(_ ds: [DType]) -> DType {
            let p = ds.dropFirst().reduce(ds[0]) { DType.promote($0, $1) }
            return p == .bool ? .int8 : p
        }
        switch typeRule {
        case .promote:
            let p = promoted(inputs)
            return (p, p)
        case .upgradeToFloat:
            let p = promoted(inputs).upgradedToFloat
            return (p, p)
        case .predicate: return (inputs.dropFirst().reduce(inputs[0]) { DType.promote($0, $1) }, .bool)
        case .logical:
            guard inputs.allSatisfy({ $0 == .bool }) else {
                throw OpError(
                    "\(self) needs bool inputs, got \(inputs.map(\.description).joined(separator: ", ")); compare "
                        + "first (e.g. neq(x, 0))"
                )
            }
            return (.bool, .bool)
        case .select:
            let p = DType.promote(inputs[1], inputs[2])
            return (p, p)
        case .cast(let d): return (inputs[0], d)
        }
    }

    public func run(_ args: [NDArray], into out: NDArray) { runElementwise(args, into: out) }

    /// The shared strided loop, specialised per op and element type.
    public func runElementwise(_ args: [NDArray], into out: NDArray) {
        switch out.dtype {
        case .float32: loop(Float.self, args, out) { a, b, c in self.float(a, b, c) }
        case .float64: loop(Double.self, args, out) { a, b, c in self.float(a, b, c) }
        default: loop(Int64.self, args, out) { a, b, c in self.int(a, b, c) }
        }
    }
}

/// The strided loop shared by every scalar op; `f` is specialised per op and element type.
@inline(__always)
func loop<T: NDElement>(_: T.Type, _ args: [NDArray], _ out: NDArray, _ f: (T, T, T) -> T) {
    let z = T(int64: 0)
    let po = out.storage.pointer.assumingMemoryBound(to: T.self)
    let p = args.map { $0.storage.pointer.assumingMemoryBound(to: T.self) }
    let loop = StridedLoop(shape: out.shape, strides: args.map(\.strides) + [out.strides])
    let offs = args.map(\.offset) + [out.offset]
    switch args.count {
    case 1:
        let pa = p[0]
        loop.forEachRow(offsets: offs) { o, n, s in
            if s[0] == 1 && s[1] == 1 {
                let a = pa + o[0]
                let r = po + o[1]
                for t in 0..<n { r[t] = f(a[t], z, z) }
                return
            }
            var i = o[0]
            var k = o[1]
            for _ in 0..<n {
                po[k] = f(pa[i], z, z)
                i += s[0]
                k += s[1]
            }
        }
    case 2:
        let pa = p[0]
        let pb = p[1]
        loop.forEachRow(offsets: offs) { o, n, s in
            if s[0] == 1 && s[1] == 1 && s[2] == 1 {
                let a = pa + o[0]
                let b = pb + o[1]
                let r = po + o[2]
                for t in 0..<n { r[t] = f(a[t], b[t], z) }
                return
            }
            var i = o[0]
            var j = o[1]
            var k = o[2]
            for _ in 0..<n {
                po[k] = f(pa[i], pb[j], z)
                i += s[0]
                j += s[1]
                k += s[2]
            }
        }
    default:
        let pa = p[0]
        let pb = p[1]
        let pc = p[2]
        loop.forEachRow(offsets: offs) { o, n, s in
            var i = o[0]
            var j = o[1]
            var l = o[2]
            var k = o[3]
            for _ in 0..<n {
                po[k] = f(pa[i], pb[j], pc[l])
                i += s[0]
                j += s[1]
                l += s[2]
                k += s[3]
            }
        }
    }
}

/// `out[i] = f(x[i])` over a strided (possibly broadcast) `x` of `out`'s element type.
@inline(__always)
func mapElements<T: NDElement>(_: T.Type, _ x: NDArray, _ out: NDArray, _ f: (T) -> T) {
    loop(T.self, [x], out) { a, _, _ in f(a) }
}
