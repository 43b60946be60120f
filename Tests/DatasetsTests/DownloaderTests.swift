import Foundation
import NDArray
import TestSupport
import Testing

@testable import Datasets

@Suite(.serialized, .enabled(if: hasPython, "needs python3 (for a loopback HTTP server)"))
struct DownloaderTests {
    /// The synthetic set every test serves (train 10,200 images so the classic split loads), and
    /// the sizes and MD5s a downloader must check it against.
    static let source: (dir: URL, checksums: [String: (size: Int, md5: String)])? = {
        guard let dir = try? temporaryDirectory(),
            (try? MNIST.writeSynthetic(to: dir, trainCount: 10_200, testCount: 300, seed: 11)) != nil,
            let table = try? MNISTDownloader.checksums(of: dir)
        else { return nil }
        return (dir, table)
    }()

    func downloader(_ mirrors: [String], attempts: Int = 1, timeout: TimeInterval = 10) throws -> MNISTDownloader {
        MNISTDownloader(
            mirrors: mirrors, attempts: attempts, timeout: timeout,
            checksums: try #require(Self.source).checksums)
    }

    /// A served folder holding the synthetic files, with `damage` applied to one of them.
    func servedFolder(damage: ((inout Data) -> Void)? = nil) throws -> URL {
        let dir = try temporaryDirectory()
        for f in MNIST.files {
            var data = try Data(contentsOf: try #require(Self.source).dir.appendingPathComponent(f + ".gz"))
            if f == "t10k-labels-idx1-ubyte", let damage { damage(&data) }
            try data.write(to: dir.appendingPathComponent(f + ".gz"))
        }
        return dir
    }

    @Test func fetchesAndVerifiesAllFour() throws {
        let served = try servedFolder()
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        let server = try LoopbackServer(serving: served)
        let seen = Counter()
        try downloader([server.url]).fetch(to: dest) { _, n, _ in seen.add(n) }
        #expect(seen.value > 0)
        for f in MNIST.files {
            #expect(FileManager.default.fileExists(atPath: dest.appendingPathComponent(f + ".gz").path))
        }
        #expect(try MNIST.load(from: dest).test.count == 300)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dest.path).filter { $0.hasSuffix(".part") }
        #expect(leftovers.isEmpty)
    }

    @Test func theCanonicalChecksumsRejectOtherBytes() throws {
        let served = try servedFolder()
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        let server = try LoopbackServer(serving: served)
        let e = #expect(throws: DatasetError.self) {
            try MNISTDownloader(mirrors: [server.url], attempts: 1, timeout: 10).fetch(to: dest)
        }
        #expect("\(e.map { "\($0)" } ?? "")".contains("expected 47040016"))
    }

    @Test func corruptedFileIsRejectedAndNothingIsLeft() throws {
        // Same length, different bytes: the uncompressed content with one label changed.
        let served = try servedFolder { data in
            var raw = (try? Gzip.decompress(data, file: "")) ?? Data()
            raw[raw.count - 1] ^= 1
            data = raw  // served uncompressed under the .gz name: size ok, MD5 wrong
        }
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        let server = try LoopbackServer(serving: served)
        let e = #expect(throws: DatasetError.self) { try downloader([server.url]).fetch(to: dest) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("MD5"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dest.path)
        #expect(!names.contains("t10k-labels-idx1-ubyte.gz") && !names.contains { $0.hasSuffix(".part") })
    }

    @Test func truncatedFileIsRejectedAndNothingIsLeft() throws {
        let served = try servedFolder { data in data = data.prefix(data.count - 100) }
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        let server = try LoopbackServer(serving: served)
        let e = #expect(throws: DatasetError.self) { try downloader([server.url], attempts: 2).fetch(to: dest) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("truncated"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dest.path)
        #expect(!names.contains("t10k-labels-idx1-ubyte.gz") && !names.contains { $0.hasSuffix(".part") })
    }

    @Test func interruptedDownloadResumesWithARange() throws {
        let served = try servedFolder()
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        // Half of one file already arrived before the connection broke.
        let full = try Data(contentsOf: served.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try full.prefix(full.count / 2).write(to: dest.appendingPathComponent(".train-images-idx3-ubyte.gz.part"))
        let server = try LoopbackServer(serving: served, ranges: true)
        try downloader([server.url]).fetch(to: dest)
        let log = try String(contentsOf: served.appendingPathComponent("ranges.log"), encoding: .utf8)
        #expect(log.contains("/train-images-idx3-ubyte.gz \(full.count / 2)"))
        #expect(try Data(contentsOf: dest.appendingPathComponent("train-images-idx3-ubyte.gz")) == full)
        #expect(try MNIST.load(from: dest).train.count == 200)
    }

    @Test func unreachableMirrorFallsBackToTheNext() throws {
        let served = try servedFolder()
        let dest = try temporaryDirectory()
        defer { [served, dest].forEach { try? FileManager.default.removeItem(at: $0) } }
        let server = try LoopbackServer(serving: served)
        try downloader(["http://127.0.0.1:9/", server.url], timeout: 5).fetch(to: dest)
        #expect(try MNIST.load(from: dest).valid.count == 10_000)
    }

    @Test func dataOnDemandGoesToTheCacheOnceAndIsFoundThereAfter() throws {
        let served = try servedFolder()
        let root = try temporaryDirectory()
        defer { [served, root].forEach { try? FileManager.default.removeItem(at: $0) } }
        let env = ["XDG_CACHE_HOME": root.appendingPathComponent("cache").path, "HOME": root.path]
        let cache = try #require(MNIST.cacheDirectory(environment: env))
        var started: [String] = []
        do {
            let server = try LoopbackServer(serving: served)
            let seen = Counter()
            let dir = try MNIST.locateOrDownload(
                downloader: try downloader([server.url]), environment: env,
                currentDirectory: root.path, starting: { started.append($0.path) },
                progress: { _, n, _ in seen.add(n) })
            #expect(dir.path == cache.path && started == [cache.path] && seen.value > 0)
        }
        // The server is gone: the second run finds the cache and downloads nothing.
        let again = try MNIST.locateOrDownload(
            downloader: try downloader(["http://127.0.0.1:9/"]), environment: env,
            currentDirectory: root.path, starting: { started.append($0.path) })
        #expect(again.path == cache.path && started.count == 1)
        #expect(try MNIST.load(from: again).test.count == 300)
    }

    @Test func aFailedDownloadSaysWhatToDo() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let env = ["XDG_CACHE_HOME": root.path]
        let e = #expect(throws: DatasetError.self) {
            try MNIST.locateOrDownload(
                downloader: try downloader(["http://127.0.0.1:9/"], timeout: 5),
                environment: env, currentDirectory: root.path)
        }
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains("MNIST not found") && text.contains("fetch-mnist"))
        #expect(text.contains("Downloading it into \(root.path)/theano-swift/mnist failed"))
        // An explicit --data folder is never replaced by a download.
        let e2 = #expect(throws: DatasetError.self) {
            try MNIST.locateOrDownload(explicit: root.path + "/none", environment: env, currentDirectory: root.path)
        }
        #expect("\(e2.map { "\($0)" } ?? "")".contains("/none"))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n: Int64 = 0
    func add(_ v: Int64) {
        lock.lock()
        n = max(n, v)
        lock.unlock()
    }
    var value: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return n
    }
}
