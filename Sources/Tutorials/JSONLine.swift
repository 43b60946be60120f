import Foundation

/// One JSON object with its keys in insertion order: the summary line every tutorial prints.
/// Strings are escaped, numbers have a fixed number of decimals, and a non-finite number (a
/// diverged cost) is written `null`, which JSON can hold, rather than `nan`.
///
/// ```swift
/// var line = JSONLine()
/// line.add("model", "da")
/// line.add("costs", [63.24, 55.80])
/// print(line.text)            // {"model":"da","costs":[63.2400,55.8000]}
/// ```
public struct JSONLine: Sendable {
    private var fields: [String] = []

    public init() {}

    /// The object as one line of text.
    public var text: String { "{" + fields.joined(separator: ",") + "}" }

    public mutating func add(_ key: String, _ value: String) { put(key, Self.quoted(value)) }
    public mutating func add(_ key: String, _ value: Int) { put(key, String(value)) }
    public mutating func add(_ key: String, _ value: Bool) { put(key, value ? "true" : "false") }
    public mutating func add(_ key: String, _ value: Double, decimals: Int = 4) {
        put(key, Self.number(value, decimals))
    }
    public mutating func add(_ key: String, _ values: [Double], decimals: Int = 4) {
        put(key, Self.list(values, decimals))
    }
    public mutating func add(_ key: String, _ values: [[Double]], decimals: Int = 4) {
        put(key, "[" + values.map { Self.list($0, decimals) }.joined(separator: ",") + "]")
    }

    /// Appends every field of `other`, in its order.
    public mutating func add(contentsOf other: JSONLine) { fields += other.fields }

    private mutating func put(_ key: String, _ value: String) { fields.append(Self.quoted(key) + ":" + value) }

    private static func number(_ v: Double, _ decimals: Int) -> String {
        v.isFinite ? String(format: "%.\(decimals)f", v) : "null"
    }

    private static func list(_ values: [Double], _ decimals: Int) -> String {
        "[" + values.map { number($0, decimals) }.joined(separator: ",") + "]"
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
