extension NDArray: CustomStringConvertible, CustomDebugStringConvertible {
    /// NumPy's `str(a)`: `[[1. 2.]\n [3. 4.]]`; arrays over 1000 elements are summarised.
    public var description: String { format(repr: false) }

    /// NumPy's `repr(a)`: `array([[1., 2.], [3., 4.]], dtype=float32)`.
    public var debugDescription: String { format(repr: true) }

    func format(repr: Bool) -> String {
        let values = doubles
        let summarize = count > 1000
        let cells = values.map { formatElement($0) }
        let width = cells.map(\.count).max() ?? 0
        let sep = repr ? ", " : " "
        let prefix = repr ? "array(" : ""
        var out = ""
        func emit(_ axis: Int, _ base: Int, _ indent: Int) {
            if axis == ndim {
                let c = cells[base]
                out += String(repeating: " ", count: width - c.count) + c
                return
            }
            let n = shape[axis]
            let block = shape[(axis + 1)...].reduce(1, *)
            out += "["
            var first = true
            let showAll = !summarize || n <= 6
            for i in 0..<n {
                if !showAll && i == 3 {
                    out +=
                        axis == ndim - 1
                        ? "\(sep)..." : "\(repr ? "," : "")\n" + String(repeating: " ", count: indent + 1) + "..."
                    continue
                }
                if !showAll && i > 2 && i < n - 3 { continue }
                if !first {
                    if axis == ndim - 1 {
                        out += sep
                    } else {
                        out += (repr ? "," : "") + String(repeating: "\n", count: ndim - axis - 1)
                        out += String(repeating: " ", count: indent + 1)
                    }
                }
                first = false
                emit(axis + 1, base + i * block, indent + 1)
            }
            out += "]"
        }
        emit(0, 0, prefix.count)
        if repr {
            let defaultDType = dtype == .float64 || dtype == .int64 || dtype == .bool
            let suffix = (defaultDType && count > 0) ? "" : ", dtype=\(dtype)"
            return prefix + out + suffix + ")"
        }
        return out
    }

    private func formatElement(_ v: Double) -> String {
        switch dtype {
        case .bool: return v != 0 ? "True" : "False"
        case .float32, .float64:
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if v == v.rounded() && abs(v) < 1e16 { return "\(Int64(v))." }
            return dtype == .float32 ? "\(Float(v))" : "\(v)"
        default: return "\(Int64(v))"
        }
    }
}
