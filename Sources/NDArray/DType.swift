/// The element type of an ``NDArray``: the NumPy dtypes this library supports.
///
/// ```swift
/// let a = NDArray.zeros([2, 3], dtype: .float32)
/// a.dtype.itemSize   // 4
/// ```
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bool, int8, int16, int32, int64, uint8, float32, float64

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    public var isFloat: Bool { self == .float32 || self == .float64 }
    public var isInteger: Bool { !isFloat && self != .bool }
    public var isSigned: Bool { self != .uint8 && self != .bool }
    public var description: String { rawValue }

    /// NumPy's type string (`<f4`, `|b1`, …) for `.npy` headers.
    public var numpyDescr: String {
        switch self {
        case .bool: "|b1"
        case .int8: "|i1"
        case .uint8: "|u1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .float32: "<f4"
        case .float64: "<f8"
        }
    }

    /// The dtype of a NumPy type string, ignoring byte order markers (`=`, `<`, `|`).
    public init?(numpyDescr: String) {
        var s = Substring(numpyDescr)
        if let f = s.first, "<=|>".contains(f) { s = s.dropFirst() }
        switch s {
        case "b1", "?": self = .bool
        case "i1": self = .int8
        case "u1": self = .uint8
        case "i2": self = .int16
        case "i4": self = .int32
        case "i8": self = .int64
        case "f4": self = .float32
        case "f8": self = .float64
        default: return nil
        }
    }

    /// Range of ints exactly representable, used by the safe-cast rule.
    var mantissaBits: Int { self == .float32 ? 24 : 53 }

    /// Whether every value of `self` is representable in `other` (NumPy's `can_cast(…, 'safe')`).
    public func canCastSafely(to other: DType) -> Bool {
        if self == other || self == .bool { return true }
        switch (self, other) {
        case (_, .bool): return false
        case (.float32, .float64): return true
        case (.float32, _), (.float64, _): return false
        case (.uint8, .int8): return false
        case (.uint8, _): return other.isFloat || other.itemSize > 1
        case (_, .uint8): return false
        case (_, .float32): return itemSize <= 2
        case (_, .float64): return true
        default: return other.isInteger && other.itemSize >= itemSize
        }
    }

    /// NumPy's `result_type` of two array dtypes.
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a.canCastSafely(to: b) { return b }
        if b.canCastSafely(to: a) { return a }
        // Mixed signedness or int/float combinations that neither holds.
        if a.isFloat || b.isFloat { return .float64 }
        let size = max(a.itemSize, b.itemSize)
        switch size {
        case 1: return .int16
        case 2: return .int32
        default: return .int64
        }
    }

    /// The float dtype an integer is computed in by float-only ops (Theano's `upgrade_to_float`).
    public var upgradedToFloat: DType {
        switch self {
        case .float32, .float64: self
        case .bool, .int8, .uint8, .int16: .float32
        case .int32, .int64: .float64
        }
    }
}
