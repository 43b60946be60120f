import Datasets
import Foundation
import TestSupport
import Testing

/// `theano logreg` on a machine without MNIST: it downloads the four files into the user cache
/// from a loopback mirror (`THEANO_MNIST_MIRRORS`), verifies them, trains, and the next run finds
/// them there. Needs the real files to serve (their MD5s are the canonical ones) and python3.
@Suite(.serialized, .enabled(if: mnistDir != nil && hasPython, "needs MNIST (set MNIST_DIR) and python3"))
struct DataOnDemandTests {
    func run(_ arguments: [String], environment: [String: String], in dir: URL) throws -> (Int32, String) {
        let p = Process()
        let executable: URL = try #require(CheckpointKillTests.theano, "the theano executable is not built")
        p.executableURL = executable
        p.arguments = arguments
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["MNIST_DIR"] = nil
        env.merge(environment) { _, new in new }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func logregDownloadsIntoTheCacheOnceThenFindsIt() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("demand-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try LoopbackServer(serving: try #require(mnistDir))
        let cache = root.appendingPathComponent("cache")
        let env = ["XDG_CACHE_HOME": cache.path, "THEANO_MNIST_MIRRORS": server.url]
        let args = ["logreg", "--epochs", "1"]
        let (status, text) = try run(args, environment: env, in: root)
        #expect(status == 0, "\(text)")
        #expect(text.contains("MNIST not found; downloading it into \(cache.path)/theano-swift/mnist"))
        #expect(text.contains("\"model\":\"logreg\",\"epochs\":1,\"best_valid_error\":12.4583"))
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path + "/theano-swift/mnist").sorted()
        #expect(files == MNIST.files.map { $0 + ".gz" }.sorted())
        // The mirror is gone: the cache is found and nothing is downloaded.
        let gone = env.merging(["THEANO_MNIST_MIRRORS": "http://127.0.0.1:9/"]) { $1 }
        let (again, text2) = try run(args, environment: gone, in: root)
        #expect(again == 0 && !text2.contains("downloading"), "\(text2)")
        // --no-download with an empty cache: the one error with the fix, status 1, no usage text.
        let (refused, text3) = try run(
            args + ["--no-download"], environment: ["XDG_CACHE_HOME": root.path + "/none"],
            in: root)
        #expect(refused == 1 && text3.contains("MNIST not found") && !text3.contains("Usage:"), "\(text3)")
    }
}
