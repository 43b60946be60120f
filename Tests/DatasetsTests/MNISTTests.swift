import Foundation
import NDArray
import Testing

@testable import Datasets

/// Where the real MNIST is (`MNIST_DIR`, else ../shared/data/mnist beside the repo).
let mnistDir: URL? = try? MNIST.locate(currentDirectory: FileManager.default.currentDirectoryPath)

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

struct MNISTTests {
    @Test(.enabled(if: mnistDir != nil, "MNIST not found (set MNIST_DIR)"))
    func tutorialSplitAndScaling() throws {
        let data = try MNIST.load(from: try #require(mnistDir))
        #expect(data.train.images.shape == [50_000, 784] && data.valid.images.shape == [10_000, 784])
        #expect(data.test.images.shape == [10_000, 784])
        #expect(data.train.images.dtype == .float32 && data.train.labels.dtype == .int32)
        let firstTrain: [Double] = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
        let firstTest: [Double] = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
        #expect(Array(data.train.labels.doubles.prefix(10)) == firstTrain)
        #expect(Array(data.test.labels.doubles.prefix(10)) == firstTest)
        var counts = [Int](repeating: 0, count: 10)
        for l in data.train.labels.doubles + data.valid.labels.doubles { counts[Int(l)] += 1 }
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        let pixels = try data.train.images.sliced([.range(start: 0, stop: 100, step: 1)]).doubles
        #expect(pixels.max() == 255.0 / 256.0 && pixels.min() == 0)
        #expect(pixels.allSatisfy { ($0 * 256).rounded() == $0 * 256 })
    }

    @Test func locateOrder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = #expect(throws: DatasetError.self) {
            try MNIST.locate(environment: ["MNIST_DIR": dir.path], currentDirectory: dir.path)
        }
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains(dir.path) && text.contains("data/mnist") && text.contains("fetch-mnist"))
        for f in MNIST.files {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(f + ".gz").path, contents: Data())
        }
        #expect(
            try MNIST.locate(environment: ["MNIST_DIR": dir.path], currentDirectory: "/nonexistent").path == dir.path)
        #expect(try MNIST.locate(explicit: dir.path, environment: [:], currentDirectory: "/").path == dir.path)
    }

    @Test func truncatedAndCorruptFilesGiveClearErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A valid tiny IDX label file: magic 0x0801, 5 items.
        let idx = Data([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5])
        let plain = dir.appendingPathComponent("labels")
        try idx.write(to: plain)
        #expect(try IDX.read(plain, expectedMagic: 0x0801).doubles == [1, 2, 3, 4, 5])

        try idx.prefix(11).write(to: plain)  // data cut short
        let e1 = #expect(throws: DatasetError.self) { try IDX.read(plain, expectedMagic: 0x0801) }
        #expect("\(e1.map { "\($0)" } ?? "")".contains("labels: header says 5 = 5 bytes of data, file has 3"))

        var bad = idx
        bad[2] = 9  // wrong magic
        try bad.write(to: plain)
        let e2 = #expect(throws: DatasetError.self) { try IDX.read(plain, expectedMagic: 0x0801) }
        #expect("\(e2.map { "\($0)" } ?? "")".contains("magic"))

        // A synthetic gzip'd label file stands in for the real one: no MNIST is needed here.
        let synthetic = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: synthetic) }
        try MNIST.writeSynthetic(to: synthetic, trainCount: 50, testCount: 4_000)
        let gz = try Data(contentsOf: synthetic.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        let cut = dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        try gz.prefix(gz.count / 2).write(to: cut)  // truncated gzip stream
        let e3 = #expect(throws: DatasetError.self) { try IDX.read(cut) }
        #expect("\(e3.map { "\($0)" } ?? "")".contains("t10k-labels-idx1-ubyte.gz: gzip data is truncated"))
        var flipped = gz
        flipped[gz.count / 2] ^= 0xff  // corrupt gzip stream
        try flipped.write(to: cut)
        let e4 = #expect(throws: DatasetError.self) { try IDX.read(cut) }
        #expect("\(e4.map { "\($0)" } ?? "")".contains("t10k-labels-idx1-ubyte.gz"))
    }
}

struct IDXHeaderTests {
    @Test func absurdDimensionsAreAnError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("images")
        try Data([0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2]).write(
            to: url)
        let e = #expect(throws: DatasetError.self) { try IDX.read(url) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("images"))
    }
}
