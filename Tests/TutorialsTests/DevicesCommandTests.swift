import Foundation
import Testing

/// `theano devices` reports the CUDA driver (or why there is none), NVRTC and the simulator.
struct DevicesCommandTests {
    @Test func devicesReportsDriverNVRTCAndTheSimulator() throws {
        let p = Process()
        let executable: URL = try #require(CheckpointKillTests.theano, "the theano executable is not built")
        p.executableURL = executable
        p.arguments = ["devices"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("driver: ") } && lines.contains { $0.hasPrefix("nvrtc: ") }, "\(text)")
        #expect(lines.last == "cuda-sim: available", "\(text)")
    }
}
