import Foundation
import Testing

/// `bench/gpu/report`, which turns `scripts/gpu-check`'s results into docs/BENCHMARKS.md's GPU
/// section, run on results made up for the test.
@Suite("GPU report: the BENCHMARKS.md section from gpu-check's results")
struct GPUReportTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../bench/gpu/report").standardized

    func report(results: [String: String], existing: String) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gpu-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in results {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let out = root.appendingPathComponent("BENCHMARKS.md")
        try existing.write(to: out, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--results", folder.path, "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try String(contentsOf: out, encoding: .utf8)
    }

    @Test("without results the section says nothing was measured; the rest of the file stays")
    func nothingMeasured() throws {
        let text = try report(results: [:], existing: "# Benchmarks\n\nCPU table\n")
        #expect(text.hasPrefix("# Benchmarks\n\nCPU table\n"))
        #expect(text.contains("Not yet measured on a GPU"))
        // Run again: the section is replaced, not repeated.
        let again = try report(results: [:], existing: text)
        #expect(again.components(separatedBy: "## GPU").count == 2)
    }

    @Test("results give each target with ours, PyTorch's, the ratio and the verdict")
    func figuresAndVerdicts() throws {
        let results = [
            "facts.txt": "|   0  NVIDIA H200                    On  |\n",
            "device-check.out": #"{"check":"residency","ok":true}"# + "\n" + #"{"math":"exp","max_ulp":1}"# + "\n",
            "logreg.out": #"{"model":"logreg","epochs":74,"train_seconds":0.25}"# + "\n",
            "mlp.out": #"{"model":"mlp","epochs":2,"train_seconds":3.0}"# + "\n",
            "bench.out": #"{"workload":"device","sgemm_gflops":50000,"chain_gbps":3000}"# + "\n"
                + #"{"workload":"lenet","s_per_minibatch_median":0.004}"# + "\n",
            "torch.out": [
                #"{"workload":"logreg","seconds":0.5}"#, #"{"workload":"mlp_epoch","seconds":2.0}"#,
                #"{"workload":"lenet_minibatch","seconds":0.002}"#, #"{"workload":"sgemm","gflops":52000}"#,
                #"{"workload":"elemwise","seconds":0.0004,"copy_gbps":4000}"#
            ].joined(separator: "\n")
        ]
        let text = try report(results: results, existing: "# Benchmarks\n")
        #expect(text.contains("NVIDIA H200"), "\(text)")
        #expect(
            text.contains("| logistic tutorial to early stop, training | 0.25 s | 0.5 s | 0.50× | ≤ 0.3 s | met |"),
            "\(text)")
        #expect(text.contains("| MLP epoch, batch 20 | 1.5 s | 2 s | 0.75× | ≤ 1.0 × PyTorch | met |"), "\(text)")
        #expect(
            text.contains("| LeNet minibatch of 500 | 0.004 s | 0.002 s | 2.00× | ≤ 1.0 × PyTorch | not met |"),
            "\(text)")
        #expect(text.contains("SGEMM 8192² through `dot`, GFLOP/s | 5e+04 | 5.2e+04 | 0.96× |"), "\(text)")
        #expect(text.contains("exp 1"), "\(text)")
    }
}
