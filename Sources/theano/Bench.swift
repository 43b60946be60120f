import ArgumentParser
import Datasets
import Foundation
import NDArray
import Theano
import Tutorials

/// `theano bench`: the workloads of `../shared/anchors` with this library, in one process.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the benchmark workloads (elementwise, call overhead, MLP step, SGEMM, compile time, tutorials).",
        discussion: "bench/compare runs this beside the PyTensor, JAX and NumPy anchors and writes docs/BENCHMARKS.md.")

    @OptionGroup var data: DataOptions
    @Option(
        help: """
            Comma-separated workloads: elemwise, overhead, mlp-step, sgemm, compile, convnet-step, lenet, logreg, mlp, \
            memory, scan (µs per step of an RNN, its BPTT, A**k), device (for THEANO_FLAGS=device=cuda: SGEMM and \
            an elementwise chain on shared variables).
            """)
    var only = "elemwise,overhead,mlp-step,sgemm,compile,convnet-step"
    @Option(help: "LeNet minibatches of 500 to time (workload lenet).") var lenetBatches = 20
    @Option(help: "MLP tutorial epochs (workload mlp).") var mlpEpochs = 2
    @Option(help: "Repeats per measurement (the median is reported).") var repeats = 15
    @Option(help: "Where the functions run: cpu, cuda, cuda<N> or cuda-sim (default: THEANO_FLAGS' device).")
    var device: String?
    @Option(help: "SGEMM size of the device workload.") var deviceGemm = 8192
    @Option(help: "Elements of the device workload's elementwise chain.") var deviceElements = 100_000_000
    @Flag(help: "One JSON object per line instead of a table.") var json = false
    /// Internal: compile the logistic tutorial's functions once and print the seconds (run as a
    /// child process so that the cold and cached measurements each start from a fresh process).
    @Flag(help: .hidden) var compileOnce = false

    func run() throws {
        if let device {
            guard let d = Device(flag: device) else {
                throw ValidationError("--device takes cpu, cuda, cuda<N> or cuda-sim, got \(device)")
            }
            Config.current.device = d
        }
        if compileOnce {
            let mnist = try data.load()
            let t0 = DispatchTime.now()
            _ = try compileLogisticRegressionFunctions(data: mnist)
            print(seconds(since: t0))
            return
        }
        let workloads = Set(only.split(separator: ",").map(String.init))
        var rows: [[String: any Sendable]] = []
        func emit(_ row: [String: any Sendable]) {
            rows.append(row)
            if json {
                let data = (try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])) ?? Data()
                printFlushed(String(decoding: data, as: UTF8.self))
            } else {
                printFlushed(row.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "  "))
            }
        }
        if workloads.contains("elemwise") { try BenchWorkloads.elemwise(repeats: repeats, emit) }
        if workloads.contains("overhead") { try BenchWorkloads.overhead(repeats: repeats, emit) }
        if workloads.contains("mlp-step") {
            try BenchWorkloads.mlpStep(mnist: try? data.load(), repeats: repeats, emit)
        }
        if workloads.contains("sgemm") { try BenchWorkloads.sgemm(repeats: repeats, emit) }
        if workloads.contains("compile") { try BenchWorkloads.compile(dataPath: data.data, emit) }
        if workloads.contains("convnet-step") { try BenchWorkloads.convnetStep(repeats: repeats, emit) }
        if workloads.contains("memory") { try BenchWorkloads.memory(emit) }
        if workloads.contains("scan") { try BenchWorkloads.scanSteps(repeats: repeats, emit) }
        if workloads.contains("device") {
            try BenchWorkloads.device(gemm: deviceGemm, elements: deviceElements, repeats: repeats, emit)
        }
        if workloads.contains("lenet") {
            try BenchWorkloads.lenet(mnist: try data.load(), minibatches: lenetBatches, emit)
        }
        if workloads.contains("logreg") {
            let mnist = try data.load()
            let t0 = DispatchTime.now()
            let (result, _) = try trainLogisticRegression(data: mnist, log: { _ in })
            let elapsed: Double = seconds(since: t0)
            let valid: Double = result.outcome.bestValidationError * 100
            let test: Double = result.outcome.testError * 100
            emit([
                "workload": "logreg", "seconds": elapsed, "epochs": result.outcome.epochs, "best_valid_error": valid,
                "test_error": test
            ])
        }
        if workloads.contains("mlp") {
            let mnist = try data.load()
            var options = TrainingOptions.mlp()
            options.maxEpochs = mlpEpochs
            let t0 = DispatchTime.now()
            let (result, _) = try trainMLP(data: mnist, options: options, log: { _ in })
            let elapsed: Double = seconds(since: t0)
            let perEpoch: Double = elapsed / Double(max(1, result.outcome.epochs))
            emit(["workload": "mlp", "seconds": elapsed, "epochs": result.outcome.epochs, "seconds_per_epoch": perEpoch]
            )
        }
    }
}

func seconds(since t0: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9
}

/// Median seconds per call of `body`: calls per repeat chosen so a repeat takes ~0.2 s.
func timeit(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    let t0 = DispatchTime.now()
    try body()
    let one = max(seconds(since: t0), 1e-7)
    let number = max(1, Int(0.2 / one))
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now()
        for _ in 0..<number { try body() }
        times.append(seconds(since: start) / Double(number))
    }
    times.sort()
    return times[times.count / 2]
}
