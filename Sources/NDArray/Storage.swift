import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 64-byte-aligned, zero-initialised byte buffer shared by an array and its views.
///
/// Arrays have value semantics: a write through an ``NDArray`` copies its storage first unless
/// the array is its only user, so views never see writes made through another array.
///
/// A storage may also have a copy in a device's memory (a ``StorageMirror``), kept coherent
/// lazily: device kernels read the mirror (uploaded when host memory is newer) and write it
/// (making host memory stale), and host code reaching the bytes through ``pointer`` gets them
/// downloaded first. Values therefore stay on the device between the nodes and calls that use
/// them there, and cross only where host code reads them.
public final class NDStorage: @unchecked Sendable {
    /// Alignment of every buffer, enough for AVX-512 loads.
    public static let alignment = 64

    /// Host memory, current or not (see ``pointer``).
    @usableFromInline let host: UnsafeMutableRawPointer
    public let byteCount: Int
    /// Whether a mirror is attached: the one check host access pays on storages without one.
    @usableFromInline let mirrored = Atomic<Bool>(false)
    let residence = Mutex(Residence())

    /// Buffers this large are placed on 2 MiB boundaries and marked for transparent huge pages
    /// (as NumPy does from 4 MiB): streaming through a dataset then costs far fewer TLB misses,
    /// and the hardware prefetcher is not stopped at every 4 KiB page. Minibatch products over
    /// MNIST run about twice as fast.
    public static let hugePageThreshold = 4 << 20

    /// `byteCount` bytes on a 64-byte (or, for large buffers, 2 MiB) boundary; nil when the
    /// memory cannot be had (`posix_memalign` fails rather than the process trapping).
    private static func tryAllocate(_ byteCount: Int) -> UnsafeMutableRawPointer? {
        let bytes = max(byteCount, 1)
        let hugePage = 2 << 20
        let huge = bytes >= hugePageThreshold
        let (size, align) = huge ? ((bytes + hugePage - 1) / hugePage * hugePage, hugePage) : (bytes, alignment)
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, align, size) == 0, let p else { return nil }
        #if os(Linux)
            if huge { _ = madvise(p, size, MADV_HUGEPAGE) }
        #endif
        return p
    }

    /// Buffers sized like memory the process already holds (copies, casts): their failure is the
    /// runtime's out-of-memory trap. Sizes that come from a user's shape go through the
    /// throwing initialisers.
    private static func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        tryAllocate(byteCount) ?? UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: alignment)
    }

    private init(pointer: UnsafeMutableRawPointer, byteCount: Int) {
        self.host = pointer
        self.byteCount = byteCount
    }

    /// Allocates `byteCount` bytes, zeroed unless `zeroed` is false; throws when the memory
    /// cannot be had.
    public static func checked(byteCount: Int, zeroed: Bool = true) throws(NDArrayError) -> NDStorage {
        guard let p = tryAllocate(byteCount) else {
            throw .outOfMemory("cannot allocate \(byteCount) bytes (\(byteCount >> 20) MiB)")
        }
        if zeroed { p.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1)) }
        return NDStorage(pointer: p, byteCount: byteCount)
    }

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        host = NDStorage.allocate(byteCount)
        host.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    /// Allocates without zeroing, for buffers that are fully written right away.
    init(uninitializedByteCount byteCount: Int) {
        self.byteCount = byteCount
        host = NDStorage.allocate(byteCount)
    }

    deinit { free(host) }
}

extension NDArray {
    /// Whether no other array shares this array's storage. Compiled functions use it to reuse a
    /// buffer from an earlier call only when nothing (a caller, a shared variable, a view) holds it.
    package mutating func hasUniqueStorage() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// Whether nothing else holds this array's storage and no device has a copy of it: host
    /// memory the caller may overwrite directly (checked in place, so the array is not copied).
    package mutating func hasUniqueHostStorage() -> Bool {
        isKnownUniquelyReferenced(&storage) && !storage.mirrored.load(ordering: .acquiring)
    }

    /// Writes this array's elements, converted and broadcast, into `destination`'s memory in
    /// place, bypassing copy-on-write: only for buffers the caller owns (see ``hasUniqueStorage()``).
    package func write(into destination: NDArray) { copyConverting(into: destination) }
}
