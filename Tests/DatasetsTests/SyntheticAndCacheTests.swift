import Foundation
import NDArray
import Testing

@testable import Datasets

struct GzipAndIDXWriteTests {
    @Test func gzipRoundTripsAndIsReadableByZlib() throws {
        let bytes: [UInt8] = (0..<100_000).map { (i: Int) -> UInt8 in UInt8((i * 7 + i / 100) % 251) }
        let raw = Data(bytes)
        let packed = try Gzip.compress(raw)
        #expect(Gzip.isGzip(packed) && packed.count < raw.count)
        #expect(try Gzip.decompress(packed, file: "x") == raw)
        #expect(try Gzip.decompress(try Gzip.compress(Data()), file: "empty").isEmpty)
    }

    @Test func idxWriteRoundTripsPlainAndGzipped() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try NDArray((0..<24).map { UInt8($0 * 10) }, shape: [2, 3, 4])
        for gzip in [false, true] {
            let url = dir.appendingPathComponent(gzip ? "a.gz" : "a")
            try IDX.write(a, to: url, gzip: gzip)
            let back = try IDX.read(url, expectedMagic: 0x0803)
            #expect(back.shape == [2, 3, 4] && back.doubles == a.doubles)
        }
        let e = #expect(throws: DatasetError.self) {
            try IDX.write(NDArray(vector: [Int32(300)]), to: dir.appendingPathComponent("b"), gzip: false)
        }
        #expect("\(e.map { "\($0)" } ?? "")".contains("0…255"))
    }
}

struct SyntheticMNISTTests {
    @Test func loadsWithTheTutorialScalingAndASmallValidationSplit() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try MNIST.writeSynthetic(to: dir, trainCount: 300, testCount: 50, seed: 7)
        let data = try MNIST.load(from: dir, validationCount: 100)
        #expect(data.train.images.shape == [200, 784] && data.valid.count == 100 && data.test.count == 50)
        let pixels = data.train.images.doubles
        #expect(pixels.max() == 255.0 / 256.0 && pixels.min() == 0)
        let labels = Set(data.train.labels.doubles)
        #expect(labels.count == 10 && labels.allSatisfy { (0...9).contains($0) })
        // The classic split needs more than 10,000 training images: a clear error, not a crash.
        let e = #expect(throws: DatasetError.self) { try MNIST.load(from: dir) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("10000 validation images leave none to train on"))
    }

    @Test func sameSeedSameFiles() throws {
        let a = try temporaryDirectory()
        let b = try temporaryDirectory()
        defer { [a, b].forEach { try? FileManager.default.removeItem(at: $0) } }
        try MNIST.writeSynthetic(to: a, trainCount: 20, testCount: 10, seed: 3)
        try MNIST.writeSynthetic(to: b, trainCount: 20, testCount: 10, seed: 3)
        let ta = try MNISTDownloader.checksums(of: a)
        let tb = try MNISTDownloader.checksums(of: b)
        #expect(MNIST.files.allSatisfy { ta[$0]?.md5 == tb[$0]?.md5 && ta[$0]?.size == tb[$0]?.size })
        #expect(ta["t10k-labels-idx1-ubyte"]?.size == 18)
    }
}

struct CacheDirectoryTests {
    @Test func xdgCacheHomeThenHome() {
        let xdg = MNIST.cacheDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])
        #expect(xdg?.path == "/c/theano-swift/mnist")
        #expect(MNIST.cacheDirectory(environment: ["HOME": "/h"])?.path == "/h/.cache/theano-swift/mnist")
        #expect(
            MNIST.cacheDirectory(environment: ["XDG_CACHE_HOME": "", "HOME": "/h"])?.path
                == "/h/.cache/theano-swift/mnist")
        #expect(MNIST.cacheDirectory(environment: [:]) == nil)
    }

    @Test func locateFindsTheCacheLast() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let env = ["XDG_CACHE_HOME": root.path]
        let cache = try #require(MNIST.cacheDirectory(environment: env))
        let e = #expect(throws: DatasetError.self) { try MNIST.locate(environment: env, currentDirectory: root.path) }
        #expect("\(e.map { "\($0)" } ?? "")".contains(cache.path))
        try MNIST.writeSynthetic(to: cache, trainCount: 20, testCount: 10)
        #expect(try MNIST.locate(environment: env, currentDirectory: root.path).path == cache.path)
    }

    @Test func noDownloadGivesTheNotFoundErrorWithTheFix() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let e = #expect(throws: DatasetError.self) {
            try MNIST.locateOrDownload(
                download: false, environment: ["XDG_CACHE_HOME": root.path],
                currentDirectory: root.path)
        }
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains("MNIST not found") && text.contains("--no-download") && text.contains("fetch-mnist"))
        let left = try FileManager.default.contentsOfDirectory(atPath: root.path)
        #expect(left.isEmpty)
    }
}
