import Datasets
import Foundation
import Testing

/// `kill -9` of the `theano` command in the middle of an epoch, then `--resume`: the run ends
/// with the summary an uninterrupted run prints (same epochs and errors).
@Suite(.serialized)
struct CheckpointKillTests {
    /// The `theano` executable built beside the test bundle.
    static let theano: URL? = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        for dir in [bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()]
        {
            let candidate = dir.appendingPathComponent("theano")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    /// Runs `theano arguments`, returning its process (started) and where its stdout goes.
    func start(_ arguments: [String], output: URL) throws -> Process {
        let p = Process()
        let executable: URL = try #require(Self.theano, "the theano executable is not built beside the tests")
        p.executableURL = executable
        p.arguments = arguments
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: output)
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The summary line without its timings.
    func summary(_ output: URL) throws -> String {
        let text = try String(contentsOf: output, encoding: .utf8)
        let last = try #require(text.split(separator: "\n").last { $0.hasPrefix("{") })
        return last.replacingOccurrences(
            of: #","?(train|total)_seconds":[0-9.]+"#, with: "", options: .regularExpression)
    }

    @Test func mlpKilledMidEpochResumesToTheSameSummary() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("mnist")
        let checkpoint = root.appendingPathComponent("ck")
        // The tutorials' split keeps the last 10,000 training images to validate: 2,000 train.
        try MNIST.writeSynthetic(to: data, trainCount: 12_000, testCount: 500, seed: 9)
        let common = ["mlp", "--epochs", "3", "--hidden", "32", "--lr", "0.05", "--data", data.path, "--no-download"]

        let straightOut = root.appendingPathComponent("straight.txt")
        let straight = try start(common, output: straightOut)
        straight.waitUntilExit()
        #expect(straight.terminationStatus == 0)

        // Kill once the first checkpoint is written, a random moment into the next epoch.
        let killedOut = root.appendingPathComponent("killed.txt")
        let killed = try start(common + ["--checkpoint", checkpoint.path], output: killedOut)
        let file = checkpoint.appendingPathComponent("mlp.checkpoint.npz")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: file.path) && killed.isRunning && Date() < deadline {
            usleep(2_000)
        }
        usleep(UInt32.random(in: 5_000...60_000))
        #expect(killed.isRunning, "the run ended before it could be killed")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(killed.terminationReason == .uncaughtSignal)
        #expect(try !String(contentsOf: killedOut, encoding: .utf8).contains("{\"model\""))

        let resumedOut = root.appendingPathComponent("resumed.txt")
        let resumed = try start(common + ["--checkpoint", checkpoint.path, "--resume"], output: resumedOut)
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)
        #expect(try String(contentsOf: resumedOut, encoding: .utf8).hasPrefix("resuming from"))
        #expect(try summary(resumedOut) == summary(straightOut))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: checkpoint.path)
        #expect(leftovers == ["mlp.checkpoint.npz"])
    }
}
