import Foundation
import Testing

/// The `theano` executable built beside the tests, run to completion.
enum TheanoCommand {
    /// Runs `theano arguments`: its exit status and standard output (standard error discarded).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        let executable: URL = try #require(CheckpointKillTests.theano, "the theano executable is not built")
        p.executableURL = executable
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
