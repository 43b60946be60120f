#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte-aligned, zero-initialised byte buffer shared by an array and its views.
///
/// Arrays have value semantics: a write through an ``NDArray`` copies its storage first unless
/// the array is its only user, so views never see writes made through another array.
public final class NDStorage: @unchecked Sendable {
    /// Alignment of every buffer, enough for AVX-512 loads.
    public static let alignment = 64

    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        let bytes = max(byteCount, 1)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: NDStorage.alignment)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    /// Allocates without zeroing, for buffers that are fully written right away.
    init(uninitializedByteCount byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: NDStorage.alignment)
    }

    deinit { pointer.deallocate() }
}

extension NDArray {
    /// Whether no other array shares this array's storage. Compiled functions use it to reuse a
    /// buffer from an earlier call only when nothing (a caller, a shared variable, a view) holds it.
    package mutating func hasUniqueStorage() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// Writes this array's elements, converted and broadcast, into `destination`'s memory in
    /// place, bypassing copy-on-write: only for buffers the caller owns (see ``hasUniqueStorage()``).
    package func write(into destination: NDArray) { copyConverting(into: destination) }
}
