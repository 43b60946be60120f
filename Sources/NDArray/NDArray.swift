/// An n-dimensional array of one ``DType``: shape, strides (in elements) and an offset into
/// shared, aligned storage.
///
/// Slices, transposes and broadcasts are views that share storage without copying; writing
/// copies first when the storage is shared (copy-on-write), so arrays behave as Swift values.
///
/// ```swift
/// let a = NDArray([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
/// let t = a.transposed()          // a view: shape [3, 2]
/// print(t)                        // [[1. 4.]  [2. 5.]  [3. 6.]]
/// ```
public struct NDArray: Sendable {
    public let dtype: DType
    public internal(set) var shape: [Int]
    /// Strides in elements (not bytes); 0 on broadcast dimensions.
    public internal(set) var strides: [Int]
    /// Offset of element `[0, 0, …]` from the start of storage, in elements.
    public internal(set) var offset: Int
    public internal(set) var storage: NDStorage

    /// Wraps existing storage; checks nothing (internal building block of views).
    package init(storage: NDStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A zero-filled C-contiguous array.
    public init(zeros shape: [Int], dtype: DType) throws(NDArrayError) {
        try NDArray.validate(shape: shape)
        let count = shape.reduce(1, *)
        self.init(
            storage: try NDStorage.checked(byteCount: count * dtype.itemSize), dtype: dtype, shape: shape,
            strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    /// An uninitialised C-contiguous array whose size comes from a user (a shape, a file
    /// header): throws when the memory cannot be had.
    init(checkedUninitialized shape: [Int], dtype: DType) throws(NDArrayError) {
        try NDArray.validate(shape: shape)
        let bytes = try NDArray.checkedCount(shape, itemSize: dtype.itemSize)
        self.init(
            storage: try NDStorage.checked(byteCount: bytes, zeroed: false), dtype: dtype,
            shape: shape, strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    /// An uninitialised C-contiguous array; callers write every element before reading.
    init(uninitialized shape: [Int], dtype: DType) {
        let count = shape.reduce(1, *)
        self.init(
            storage: NDStorage(uninitializedByteCount: count * dtype.itemSize), dtype: dtype,
            shape: shape, strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    public var ndim: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    public var isEmpty: Bool { count == 0 }

    /// Row-major strides of a contiguous array of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= Swift.max(shape[i], 1)
        }
        return strides
    }

    static func validate(shape: [Int]) throws(NDArrayError) {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw .invalidShape("negative dimension \(bad) in shape \(shape)")
        }
        _ = try checkedCount(shape)
    }

    /// The element count of `shape`, or an error when it overflows (corrupt headers, typos).
    public static func checkedCount(_ shape: [Int], itemSize: Int = 1) throws(NDArrayError) -> Int {
        var n = itemSize
        for d in shape {
            let (r, overflow) = n.multipliedReportingOverflow(by: Swift.max(d, 0))
            if overflow || r > Int(Int32.max) * 4096 { throw .invalidShape("shape \(shape) is too large") }
            n = r
        }
        return n
    }

    /// Whether elements are laid out in row-major order with no gaps.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: ndim - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Whether `self` and `other` use the same storage buffer (one may be a view of the other).
    public func sharesStorage(with other: NDArray) -> Bool { storage === other.storage }

    /// Typed pointer to element `[0, 0, …]`.
    @inline(__always)
    public func basePointer<T>(as: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer.assumingMemoryBound(to: T.self) + offset
    }

    /// Makes the storage unique before a write (copy-on-write).
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) || !isContiguous {
            self = contiguous(forceCopy: true)
        }
    }
}

/// Errors from array operations: bad shapes, indices, dtypes and files.
public enum NDArrayError: Error, Equatable, CustomStringConvertible {
    case invalidShape(String)
    case shapeMismatch(String)
    case indexOutOfRange(String)
    case dtypeMismatch(String)
    case unsupported(String)
    case io(String)
    /// An allocation that could not be met.
    case outOfMemory(String)

    public var description: String {
        switch self {
        case .invalidShape(let s): "invalid shape: \(s)"
        case .shapeMismatch(let s): "shape mismatch: \(s)"
        case .indexOutOfRange(let s): "index out of range: \(s)"
        case .dtypeMismatch(let s): "dtype mismatch: \(s)"
        case .unsupported(let s): "unsupported: \(s)"
        case .io(let s): s
        case .outOfMemory(let s): "out of memory: \(s)"
        }
    }
}
