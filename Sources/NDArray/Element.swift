/// A Swift type that can be stored in an ``NDArray``.
///
/// Conversions go through `Int64` between integer types (exact) and through `Double` otherwise;
/// converting NaN or an out-of-range float to an integer gives a defined value instead of trapping.
public protocol NDElement: Sendable {
    static var dtype: DType { get }
    init(double value: Double)
    init(int64 value: Int64)
    var doubleValue: Double { get }
    var int64Value: Int64 { get }
}

extension Int64 {
    /// Float → integer without trapping: NaN → 0, out of range → the nearest bound, else truncation.
    @inline(__always)
    public static func clamping(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9.223372036854775807e18 { return .max }
        if d <= -9.223372036854775808e18 { return .min }
        return Int64(d)
    }
}

extension Bool: NDElement {
    public static var dtype: DType { .bool }
    @inline(__always) public init(double value: Double) { self = value != 0 }
    @inline(__always) public init(int64 value: Int64) { self = value != 0 }
    @inline(__always) public var doubleValue: Double { self ? 1 : 0 }
    @inline(__always) public var int64Value: Int64 { self ? 1 : 0 }
}

extension Float: NDElement {
    public static var dtype: DType { .float32 }
    @inline(__always) public init(double value: Double) { self = Float(value) }
    @inline(__always) public init(int64 value: Int64) { self = Float(value) }
    @inline(__always) public var doubleValue: Double { Double(self) }
    @inline(__always) public var int64Value: Int64 { .clamping(Double(self)) }
}

extension Double: NDElement {
    public static var dtype: DType { .float64 }
    @inline(__always) public init(double value: Double) { self = value }
    @inline(__always) public init(int64 value: Int64) { self = Double(value) }
    @inline(__always) public var doubleValue: Double { self }
    @inline(__always) public var int64Value: Int64 { .clamping(self) }
}

/// Integer element types wrap on conversion, as NumPy's `astype` does.
public protocol NDIntegerElement: NDElement, FixedWidthInteger {}

extension NDIntegerElement {
    @inline(__always) public init(double value: Double) { self.init(truncatingIfNeeded: Int64.clamping(value)) }
    @inline(__always) public init(int64 value: Int64) { self.init(truncatingIfNeeded: value) }
    @inline(__always) public var doubleValue: Double { Double(self) }
    @inline(__always) public var int64Value: Int64 { Int64(truncatingIfNeeded: self) }
}

extension Int8: NDIntegerElement { public static var dtype: DType { .int8 } }
extension Int16: NDIntegerElement { public static var dtype: DType { .int16 } }
extension Int32: NDIntegerElement { public static var dtype: DType { .int32 } }
extension Int64: NDIntegerElement { public static var dtype: DType { .int64 } }
extension UInt8: NDIntegerElement { public static var dtype: DType { .uint8 } }
extension Int: NDIntegerElement { public static var dtype: DType { .int64 } }

/// A computation generic over the element type, run for a runtime ``DType`` by
/// ``DType/visit(_:)``; the switch there names each concrete type, so the optimiser
/// specialises the generic body for every dtype instead of dispatching per element.
public protocol DTypeVisitor {
    associatedtype Result
    func visit<T: NDElement>(_ type: T.Type) -> Result
}

extension DType {
    /// Runs `visitor` with the Swift type stored for this dtype.
    @inline(__always)
    public func visit<V: DTypeVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case .bool: visitor.visit(Bool.self)
        case .int8: visitor.visit(Int8.self)
        case .int16: visitor.visit(Int16.self)
        case .int32: visitor.visit(Int32.self)
        case .int64: visitor.visit(Int64.self)
        case .uint8: visitor.visit(UInt8.self)
        case .float32: visitor.visit(Float.self)
        case .float64: visitor.visit(Double.self)
        }
    }
}

/// Converts one element between stored types: exact through `Int64` between integers and bools,
/// through `Double` when either side is a float.
@inline(__always)
public func convertElement<T: NDElement, U: NDElement>(_ x: T, to: U.Type) -> U {
    if T.dtype.isFloat || U.dtype.isFloat { return U(double: x.doubleValue) }
    return U(int64: x.int64Value)
}
