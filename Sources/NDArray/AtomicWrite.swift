import Foundation

/// Writes a file so that a kill or a power cut at any moment leaves either the old file or the
/// whole new one: the bytes go to a temporary file beside it, are flushed to disk (`fsync`), and
/// the temporary file is renamed over the target, whose folder is then flushed too.
///
/// ```swift
/// try AtomicWrite.write(Data("done".utf8), to: URL(fileURLWithPath: "state.txt"))
/// ```
public enum AtomicWrite {
    public static func write(_ data: Data, to url: URL) throws(NDArrayError) {
        let dir = url.deletingLastPathComponent()
        let tag = "\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(tag).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count, failure == nil {
                let n = Foundation.write(fd, base + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno != EINTR { failure = String(cString: strerror(errno)) }
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temp.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temp.path)
            throw .io("cannot write \(url.path): \(failure)")
        }
        let dirfd = open(dir.path, O_RDONLY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}
