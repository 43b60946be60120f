import NDArray

/// A Swift value accepted as an argument of a compiled function: `NDArray`, Swift numbers and
/// `Bool`, and (nested) arrays of them.
///
/// Swift numbers and arrays behave like Python literals: they take the input's dtype when their
/// values fit exactly (`f([0, 1, 2])` for a float32 vector). `NDArray`s follow the safe-cast rule:
/// float64 into a float32 input is an error unless `Config.allowDowncast` is set.
public protocol TensorConvertible {
    /// The value as an array of `dtype`; `nil` when it does not fit (the caller reports).
    func tensorValue(for type: TensorType) throws -> NDArray
    /// The value itself when it is an `NDArray` (cheaper than a dynamic cast, which costs
    /// about half a microsecond per argument).
    var arrayValue: NDArray? { get }
}

extension TensorConvertible {
    public var arrayValue: NDArray? { nil }
}

extension NDArray: TensorConvertible {
    public var arrayValue: NDArray? { self }

    public func tensorValue(for type: TensorType) throws -> NDArray {
        if dtype == type.dtype { return self }
        if dtype.canCastSafely(to: type.dtype) || Config.current.allowDowncast { return cast(to: type.dtype) }
        throw OpError(
            "an array of \(dtype) cannot be passed as \(type.dtype) without losing precision; cast it first (or set "
                + "allowDowncast)",
            kind: .badInput)
    }
}

/// Swift numbers, bools and nested arrays of them.
protocol LiteralTensor: TensorConvertible {
    /// Row-major values and the shape they form.
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws
}

extension LiteralTensor {
    public func tensorValue(for type: TensorType) throws -> NDArray {
        var values: [Double] = []
        var shape: [Int] = []
        try flatten(into: &values, shape: &shape, depth: 0)
        let d = type.dtype
        for v in values {
            let fits: Bool
            switch d {
            case .float32, .float64: fits = true
            case .bool: fits = v == 0 || v == 1
            default:
                let half = Double(sign: .plus, exponent: d.itemSize * 8 - 1, significand: 1)
                let lo: Double = d == .uint8 ? 0 : -half
                let hi: Double = d == .uint8 ? 255 : half - 1
                fits = v == v.rounded() && v >= lo && v <= hi
            }
            guard fits else { throw OpError("the value \(v) does not fit \(d)", kind: .badInput) }
        }
        var a = try NDArray.zeros(shape, dtype: d)
        var i = 0
        a = a.map { _ in
            defer { i += 1 }
            return values[i]
        }
        return a
    }
}

extension NDArray {
    /// A copy whose i-th element (row-major) is `f(i)`.
    func map(_ f: (Int) -> Double) -> NDArray {
        var out = self
        out.fillElements(f)
        return out
    }
}

extension Double: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(self) }
}
extension Float: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(Double(self)) }
}
extension Int: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(Double(self)) }
}
extension Int32: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(Double(self)) }
}
extension Int64: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(Double(self)) }
}
extension Bool: LiteralTensor {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws { values.append(self ? 1 : 0) }
}

extension Array: TensorConvertible where Element: TensorConvertible {}

extension Array: LiteralTensor where Element: TensorConvertible {
    func flatten(into values: inout [Double], shape: inout [Int], depth: Int) throws {
        if shape.count == depth {
            shape.append(count)
        } else if shape[depth] != count {
            throw OpError(
                "nested arrays are ragged: lengths \(shape[depth]) and \(count) at depth \(depth)", kind: .badInput)
        }
        for e in self {
            guard let l = e as? LiteralTensor else {
                throw OpError("nested arrays must hold Swift numbers or bools", kind: .badInput)
            }
            try l.flatten(into: &values, shape: &shape, depth: depth + 1)
        }
    }
}
