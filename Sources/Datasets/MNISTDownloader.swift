import Crypto
import Foundation

#if canImport(FoundationNetworking) && !THEANO_NO_NETWORKING
    import FoundationNetworking
#endif

/// Downloads the four MNIST files for a machine with internet access, verifying each against the
/// known uncompressed size and MD5, writing atomically (a `.part` file renamed when verified) and
/// resuming or retrying cleanly.
///
/// ```swift
/// try MNISTDownloader().fetch(to: URL(fileURLWithPath: "data/mnist"))
/// ```
public struct MNISTDownloader: Sendable {
    /// Uncompressed size and MD5 of each file (the canonical MNIST bytes).
    public static let expected: [String: (size: Int, md5: String)] = [
        "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637")
    ]

    /// The usual public mirrors of the gzip'd files.
    public static let defaultMirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/"
    ]

    public var mirrors: [String]
    public var attempts: Int
    public var timeout: TimeInterval
    /// What each file must hold once uncompressed: ``expected`` unless a mirror serves another set.
    public var checksums: [String: (size: Int, md5: String)]

    public init(
        mirrors: [String] = MNISTDownloader.defaultMirrors, attempts: Int = 3, timeout: TimeInterval = 60,
        checksums: [String: (size: Int, md5: String)] = MNISTDownloader.expected
    ) {
        self.mirrors = mirrors
        self.attempts = attempts
        self.timeout = timeout
        self.checksums = checksums
    }

    /// The uncompressed size and MD5 of each of the four files in `dir`, to serve as
    /// ``checksums`` for a mirror of that folder (the synthetic set, say).
    public static func checksums(of dir: URL) throws -> [String: (size: Int, md5: String)] {
        var table: [String: (size: Int, md5: String)] = [:]
        for name in MNIST.files {
            let file = MNIST.file(dir, name)
            guard let data = try? Data(contentsOf: file) else { throw DatasetError.missingFile(file.path) }
            let raw = Gzip.isGzip(data) ? try Gzip.decompress(data, file: file.lastPathComponent) : data
            table[name] = (raw.count, md5(raw))
        }
        return table
    }

    static func md5(_ data: Data) -> String {
        Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Fetches every missing or invalid file into `dir`. `progress(file, bytesSoFar, total)` is
    /// called as data arrives. Files already present and valid are kept.
    public func fetch(
        to dir: URL, progress: @escaping @Sendable (String, Int64, Int64?) -> Void = { _, _, _ in }
    ) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in MNIST.files {
            let dest = dir.appendingPathComponent(name + ".gz")
            if (try? verify(dest, name: name)) != nil { continue }
            var lastError: Error = DatasetError.download(url: name, reason: "no mirror configured")
            var done = false
            for mirror in mirrors where !done {
                let base = mirror.hasSuffix("/") ? mirror : mirror + "/"
                guard let url = URL(string: base + name + ".gz") else { continue }
                for _ in 0..<max(attempts, 1) where !done {
                    do {
                        try download(url, to: dest, name: name, progress: progress)
                        done = true
                    } catch let e as DatasetError {
                        lastError = e
                        if case .corrupt = e { break }  // the mirror serves bad data: try the next one
                    } catch {
                        lastError = error
                    }
                }
            }
            if !done { throw lastError }
        }
    }

    /// Downloads `url` into `dest.part` (resuming it when the server honours ranges), verifies it
    /// and renames it to `dest`. A file that fails verification is deleted.
    func download(
        _ url: URL, to dest: URL, name: String, progress: @escaping @Sendable (String, Int64, Int64?) -> Void
    ) throws {
        #if THEANO_NO_NETWORKING
            // The portable build (scripts/build-portable) leaves libcurl out.
            throw DatasetError.download(
                url: url.absoluteString,
                reason: "this build of theano has no networking; give the MNIST folder with --data")
        #else
            try fetch(url, to: dest, name: name, progress: progress)
        #endif
    }

    #if !THEANO_NO_NETWORKING
        private func fetch(
            _ url: URL, to dest: URL, name: String, progress: @escaping @Sendable (String, Int64, Int64?) -> Void
        ) throws {
            let part = dest.deletingLastPathComponent().appendingPathComponent("." + dest.lastPathComponent + ".part")
            let attributes = try? FileManager.default.attributesOfItem(atPath: part.path)
            let have = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            var request = URLRequest(url: url, timeoutInterval: timeout)
            if have > 0 { request.setValue("bytes=\(have)-", forHTTPHeaderField: "Range") }
            let sink = try DownloadSink(file: part, name: name, resumeFrom: have, progress: progress)
            let session = URLSession(configuration: .ephemeral, delegate: sink, delegateQueue: nil)
            session.dataTask(with: request).resume()
            sink.done.wait()
            session.finishTasksAndInvalidate()
            if let error = sink.failure { throw DatasetError.download(url: url.absoluteString, reason: error) }
            do {
                try verify(part, name: name)
            } catch {
                try? FileManager.default.removeItem(at: part)
                throw error
            }
            _ = try? FileManager.default.removeItem(at: dest)
            do { try FileManager.default.moveItem(at: part, to: dest) } catch {
                throw DatasetError.io("cannot move \(part.path) to \(dest.path): \(error.localizedDescription)")
            }
        }
    #endif

    /// Checks a gzip'd file's uncompressed size and MD5 against the known values.
    public func verify(_ file: URL, name: String) throws {
        guard let want = checksums[name] else { throw DatasetError.io("unknown MNIST file \(name)") }
        guard let data = try? Data(contentsOf: file) else { throw DatasetError.missingFile(file.path) }
        let raw = Gzip.isGzip(data) ? try Gzip.decompress(data, file: name + ".gz") : data
        guard raw.count == want.size else {
            throw DatasetError.corrupt(
                file: name + ".gz", reason: "uncompressed size \(raw.count) bytes, expected \(want.size)")
        }
        let md5 = MNISTDownloader.md5(raw)
        guard md5 == want.md5 else {
            throw DatasetError.corrupt(file: name + ".gz", reason: "MD5 \(md5), expected \(want.md5)")
        }
    }
}

#if !THEANO_NO_NETWORKING
    /// Receives one HTTP response into a file, appending when the server answers 206.
    private final class DownloadSink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let file: URL, name: String, progress: @Sendable (String, Int64, Int64?) -> Void
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var handle: FileHandle?
        private var received: Int64
        private var total: Int64?
        private(set) var failure: String?

        init(
            file: URL, name: String, resumeFrom: Int64, progress: @escaping @Sendable (String, Int64, Int64?) -> Void
        ) throws {
            self.file = file
            self.name = name
            self.progress = progress
            received = resumeFrom
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
        ) {
            lock.lock()
            defer { lock.unlock() }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200 || status == 206 else {
                failure = "HTTP status \(status)"
                completionHandler(.cancel)
                return
            }
            if status == 200 { received = 0 }  // the server ignored the range: start over
            let fm = FileManager.default
            if status == 200 || !fm.fileExists(atPath: file.path) {
                _ = fm.createFile(atPath: file.path, contents: nil)
            }
            handle = try? FileHandle(forWritingTo: file)
            if status == 206 { _ = try? handle?.seekToEnd() } else { try? handle?.truncate(atOffset: 0) }
            let length = response.expectedContentLength
            total = length > 0 ? received + length : nil
            completionHandler(handle == nil ? .cancel : .allow)
            if handle == nil { failure = "cannot write \(file.path)" }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            lock.lock()
            handle?.write(data)
            received += Int64(data.count)
            let (r, t) = (received, total)
            lock.unlock()
            progress(name, r, t)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            lock.lock()
            try? handle?.close()
            if let error, failure == nil { failure = error.localizedDescription }
            lock.unlock()
            done.signal()
        }
    }
#endif
