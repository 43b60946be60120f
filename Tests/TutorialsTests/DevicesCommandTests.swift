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

/// `theano device-check`, which `scripts/gpu-check` runs on a GPU, passes on the simulator: every
/// workload matches the CPU, a training call moves only its cost, minibatches run as graphs, and
/// each math function's ulps
/// are reported.
struct DeviceCheckCommandTests {
    @Test func deviceCheckPassesOnTheSimulator() throws {
        let (status, text) = try TheanoCommand.run(["device-check", "--device", "cuda-sim"])
        #expect(status == 0, "\(text)")
        let rows = text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let checks = rows.filter { $0["check"] != nil }
        #expect(checks.count == 6 && checks.allSatisfy { $0["ok"] as? Bool == true }, "\(text)")
        let math = rows.filter { $0["math"] != nil }
        #expect(math.count == 10, "\(text)")
        // The simulator's math is the C library's: within 2 ulps of the float64 reference.
        #expect(math.allSatisfy { ($0["max_ulp"] as? Int ?? .max) <= 2 }, "\(text)")
        let bad = try TheanoCommand.run(["device-check", "--device", "cpu"])
        #expect(bad.status != 0)
    }
}

/// `theano bench --only device`, the GPU targets' kernels on shared variables, on the simulator.
struct DeviceBenchCommandTests {
    @Test func deviceWorkloadReportsItsFigures() throws {
        let (status, text) = try TheanoCommand.run([
            "bench", "--device", "cuda-sim", "--json", "--only", "device", "--device-gemm", "64", "--device-elements",
            "1000", "--repeats", "1"
        ])
        #expect(status == 0, "\(text)")
        let row = try #require(
            text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.first { $0["workload"] as? String == "device" }, "\(text)")
        #expect((row["sgemm_gflops"] as? Double ?? 0) > 0 && (row["chain_seconds"] as? Double ?? 0) > 0, "\(row)")
        #expect(row["device"] as? String == "cuda-sim", "\(row)")
        #expect(try TheanoCommand.run(["bench", "--device", "gpu", "--only", "device"]).status != 0)
    }
}
