import Foundation
import Testing

/// `theano devices` reports the CUDA driver (or why there is none), NVRTC and the simulator.
struct DevicesCommandTests {
    @Test func devicesReportsDriverNVRTCAndTheSimulator() throws {
        let (status, text) = try TheanoCommand.run(["devices"])
        #expect(status == 0)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("driver: ") } && lines.contains { $0.hasPrefix("nvrtc: ") }, "\(text)")
        #expect(lines.last == "cuda-sim: available", "\(text)")
    }
}
