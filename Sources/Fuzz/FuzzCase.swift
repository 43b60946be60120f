import Foundation
import NDArray
import Theano

/// One random graph of the differential fuzzer, as `generate_fuzz.py` writes it: inputs, nodes
/// (an op over earlier values: inputs first, then nodes), NumPy's value of the last node.
public struct FuzzCase: Codable, Sendable {
    public struct Tensor: Codable, Sendable {
        public var dtype: String
        public var shape: [Int]
        /// Which axes are declared static (length 1 known when the graph is built).
        public var `static`: [Bool]?
        public var data: [Double]

        /// The values as an array of this dtype.
        public func array() throws -> NDArray {
            let type = try FuzzCase.dtype(dtype)
            return try NDArray(data, shape: shape).cast(to: type)
        }
    }

    /// An index item of `subtensor` and the set/inc ops: a position, or a slice.
    public struct Item: Codable, Sendable {
        public var index: Int?
        public var start: Int?
        public var stop: Int?
        public var step: Int?
    }

    /// An axis attribute: one axis, several, or nil (all).
    public enum AxisSpec: Codable, Sendable {
        case one(Int)
        case several([Int])

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .one(i) } else { self = .several(try c.decode([Int].self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .one(let i): try c.encode(i)
            case .several(let a): try c.encode(a)
            }
        }
    }

    public struct Node: Codable, Sendable {
        public var op: String
        public var args: [Int]
        public var axis: AxisSpec?
        public var keepdims: Bool?
        public var dtype: String?
        public var shape: [Int]?
        /// dimshuffle: axis numbers, or "x".
        public var pattern: [PatternEntry]?
        public var items: [Item]?
        public var ndim: Int?
        /// conv2d: `valid`, `full` or `half`; strides; whether the filters are flipped.
        public var border: String?
        public var stride: [Int]?
        public var flip: Bool?
        /// pool2d: the window, whether partial windows at the border are dropped, and the mode
        /// (`max`, `average_inc_pad`, `average_exc_pad`).
        public var window: [Int]?
        public var ignoreBorder: Bool?
        public var mode: String?

        enum CodingKeys: String, CodingKey {
            case op, args, axis, keepdims, dtype, shape, pattern, items, ndim, border, stride, flip, window, mode
            case ignoreBorder = "ignore_border"
        }
    }

    public enum PatternEntry: Codable, Sendable {
        case axis(Int)
        case broadcast

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .axis(i) } else { self = .broadcast }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .axis(let i): try c.encode(i)
            case .broadcast: try c.encode("x")
            }
        }
    }

    public var id: Int
    public var inputs: [Tensor]
    public var nodes: [Node]
    /// The largest magnitude of any value in the graph (scales the absolute tolerance).
    public var scale: Double
    /// Whether the gradient is checked against finite differences.
    public var grad: Bool
    public var expected: Tensor

    static func dtype(_ name: String) throws -> DType {
        guard let d = DType.allCases.first(where: { "\($0)" == name }) else {
            throw FuzzError("unknown dtype \(name)")
        }
        return d
    }

    /// Reads a file of cases, one JSON object a line.
    public static func load(_ url: URL) throws -> [FuzzCase] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(FuzzCase.self, from: Data($0.utf8)) }
    }
}

/// A case the fuzzer could not build or run as written (a bug in the case, not in the library).
public struct FuzzError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
