import Synchronization

/// A storage's copy in another memory (a GPU's), which device kernels read and write in place of
/// host memory. ``NDStorage`` keeps the two coherent and calls these to move the bytes.
public protocol StorageMirror: AnyObject, Sendable {
    /// Copies the mirror's first `bytes` bytes to `destination` in host memory.
    func copyToHost(_ destination: UnsafeMutableRawPointer, bytes: Int) throws
    /// Copies `bytes` bytes of host memory at `source` into the mirror.
    func copyFromHost(_ source: UnsafeRawPointer, bytes: Int) throws
}

/// Which copies of a storage hold its current bytes.
struct Residence {
    var mirror: (any StorageMirror)?
    var hostCurrent = true
    var mirrorCurrent = false
    /// A download that failed where no error could be thrown (``NDStorage/pointer``).
    var failure: (any Error)?
}

/// Bytes moved between host memory and mirrors, for the profiler and tests.
public struct MirrorTraffic: Sendable, Equatable {
    public var uploads = 0, downloads = 0, uploadedBytes = 0, downloadedBytes = 0
    public init() {}

    fileprivate mutating func add(uploadOf bytes: Int) {
        uploads += 1
        uploadedBytes += bytes
    }

    fileprivate mutating func add(downloadOf bytes: Int) {
        downloads += 1
        downloadedBytes += bytes
    }

    /// The traffic between two readings of ``NDStorage/traffic``.
    public static func - (a: MirrorTraffic, b: MirrorTraffic) -> MirrorTraffic {
        var d = MirrorTraffic()
        d.uploads = a.uploads - b.uploads
        d.downloads = a.downloads - b.downloads
        d.uploadedBytes = a.uploadedBytes - b.uploadedBytes
        d.downloadedBytes = a.downloadedBytes - b.downloadedBytes
        return d
    }
}

extension NDStorage {
    /// Host memory holding the current bytes, downloaded from the mirror when it alone has them.
    /// Host code may write through it, so a mirror then counts as stale until a device kernel
    /// writes it again or it is uploaded. A download failing here leaves the old host bytes and
    /// is thrown by the next ``synchronizeHost()`` (the VM calls it before every host kernel).
    // Inlinable, so that a storage without a mirror costs a load and a branch, as the stored
    // pointer it replaced did (no call, no retain of the storage).
    @inlinable public var pointer: UnsafeMutableRawPointer {
        if mirrored.load(ordering: .acquiring) { try? sync(forWriting: true) }
        return host
    }

    /// Host memory holding the current bytes, for code that only reads them: a mirror stays
    /// current.
    @inlinable public var readPointer: UnsafeMutableRawPointer {
        if mirrored.load(ordering: .acquiring) { try? sync(forWriting: false) }
        return host
    }

    /// Brings host memory up to date for host code that may write it; throws when the download
    /// fails.
    public func synchronizeHost() throws {
        if mirrored.load(ordering: .acquiring) { try sync(forWriting: true) }
    }

    /// Throws the error of a download that failed inside ``pointer`` or ``readPointer``.
    public func checkHost() throws {
        try residence.withLock { r in
            if let failure = r.failure {
                r.failure = nil
                throw failure
            }
        }
    }

    @usableFromInline func sync(forWriting: Bool) throws {
        try residence.withLock { r in
            if let failure = r.failure {
                r.failure = nil
                throw failure
            }
            if !r.hostCurrent, let m = r.mirror {
                do {
                    try m.copyToHost(host, bytes: byteCount)
                } catch {
                    r.failure = error
                    throw error
                }
                r.hostCurrent = true
                NDStorage.count(download: byteCount)
            }
            if forWriting { r.mirrorCurrent = false }
        }
    }

    /// The mirror for a device kernel to read, made by `make` when there is none (or the one
    /// there is not `M`), and uploaded when host memory is newer.
    public func mirrorForReading<M: StorageMirror>(_ make: () throws -> M) throws -> M {
        try residence.withLock { r in
            let m = try attached(&r, make)
            if !r.mirrorCurrent {
                try m.copyFromHost(host, bytes: byteCount)
                r.mirrorCurrent = true
                NDStorage.count(upload: byteCount)
            }
            return m
        }
    }

    /// The mirror for a device kernel to write every byte of: host memory becomes stale.
    public func mirrorForWriting<M: StorageMirror>(_ make: () throws -> M) throws -> M {
        try residence.withLock { r in
            let m = try attached(&r, make)
            r.mirrorCurrent = true
            r.hostCurrent = false
            return m
        }
    }

    /// Marks the mirror as holding the current bytes after a device kernel wrote part of them
    /// (it must have been read with ``mirrorForReading(_:)`` first).
    public func mirrorWasWritten() {
        residence.withLock { r in
            guard r.mirror != nil else { return }
            r.mirrorCurrent = true
            r.hostCurrent = false
        }
    }

    /// Whether a mirror holds the current bytes and host memory does not.
    public var isOnlyOnMirror: Bool { residence.withLock { !$0.hostCurrent && $0.mirrorCurrent } }

    /// Whether a mirror is attached.
    @inlinable public var hasMirror: Bool { mirrored.load(ordering: .acquiring) }

    /// Host memory as it is, neither synchronised nor marking a mirror stale: for a caller that
    /// has checked ``hasMirror`` (or called ``synchronizeHost()``) beforehand, so that its loop
    /// makes no call and retains nothing (``Replay``).
    @inlinable package var unsynchronizedHost: UnsafeMutableRawPointer { host }

    private func attached<M: StorageMirror>(_ r: inout Residence, _ make: () throws -> M) throws -> M {
        if let m = r.mirror as? M { return m }
        if let old = r.mirror, !r.hostCurrent {
            try old.copyToHost(host, bytes: byteCount)
            r.hostCurrent = true
        }
        let m = try make()
        r.mirror = m
        r.mirrorCurrent = false
        mirrored.store(true, ordering: .releasing)
        return m
    }

    /// Host↔device traffic so far: every storage's mirror transfers, and those device code
    /// makes outside a storage (``count(download:)``), in the whole process (what runs beside a
    /// call counts too: a ``TrafficTally`` counts one task's).
    public static var traffic: MirrorTraffic { trafficCounter.withLock { $0 } }

    /// The transfers of the current task, when set (and of the tallies it was made inside).
    ///
    /// ```swift
    /// let mine = TrafficTally()
    /// try NDStorage.$tally.withValue(mine) { _ = try f(x) }
    /// print(mine.traffic.downloads)
    /// ```
    @TaskLocal public static var tally: TrafficTally?

    /// Counts an upload that device code made outside a storage's mirror.
    public static func count(upload bytes: Int) {
        trafficCounter.withLock { $0.add(uploadOf: bytes) }
        tally?.add(uploadOf: bytes)
    }

    /// Counts a download that device code made outside a storage's mirror (a scalar result).
    public static func count(download bytes: Int) {
        trafficCounter.withLock { $0.add(downloadOf: bytes) }
        tally?.add(downloadOf: bytes)
    }

}

private let trafficCounter = Mutex(MirrorTraffic())

/// One task's host↔device traffic (``NDStorage/tally``); a tally made inside another's scope
/// also counts into it.
public final class TrafficTally: Sendable {
    private let state = Mutex(MirrorTraffic())
    private let parent: TrafficTally?

    public init() { parent = NDStorage.tally }

    public var traffic: MirrorTraffic { state.withLock { $0 } }

    fileprivate func add(uploadOf bytes: Int) {
        state.withLock { $0.add(uploadOf: bytes) }
        parent?.add(uploadOf: bytes)
    }

    fileprivate func add(downloadOf bytes: Int) {
        state.withLock { $0.add(downloadOf: bytes) }
        parent?.add(downloadOf: bytes)
    }
}
