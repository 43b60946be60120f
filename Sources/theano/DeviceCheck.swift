import ArgumentParser
import Foundation
import NDArray
import Theano
import Tutorials

/// `theano device-check`: the checks that need the device itself, for `scripts/gpu-check` on a GPU
/// machine (no Swift toolchain there, so no test runner): each workload on the device against the
/// CPU, the transfers of a training call, its CUDA graphs, and the device math's error in ulps. One JSON line per
/// check; the exit status is 1 when a check fails.
struct DeviceCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device-check",
        abstract: "Check the CUDA backend on a device against the CPU (JSON lines; exit 1 on a failure).")

    @Option(help: "cuda, cuda<N> or cuda-sim.") var device = "cuda"

    func run() throws {
        guard let d = Device(flag: device), d != .cpu else { throw ValidationError("--device must name a CUDA device") }
        let mode = Mode.fastRun.on(d)
        var failures = 0
        func emit(_ row: [String: any Sendable]) {
            if row["ok"] as? Bool == false { failures += 1 }
            let data = (try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])) ?? Data()
            printFlushed(String(decoding: data, as: UTF8.self))
        }
        for check in DeviceChecks.all {
            do {
                let error = try check.run(mode)
                emit(["check": check.name, "ok": error <= check.tolerance, "max_error": error, "device": "\(d)"])
            } catch {
                emit(["check": check.name, "ok": false, "error": "\(error)", "device": "\(d)"])
            }
        }
        do { emit(try DeviceChecks.residency(mode)) } catch {
            emit(["check": "residency", "ok": false, "error": "\(error)"])
        }
        do { emit(try DeviceChecks.graphs(mode)) } catch {
            emit(["check": "CUDA graphs", "ok": false, "error": "\(error)"])
        }
        do {
            for row in try DeviceChecks.mathAccuracy(mode) { emit(row) }
        } catch {
            emit(["check": "device math accuracy", "ok": false, "error": "\(error)"])
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// The workloads `theano device-check` runs on the device and on the CPU.
enum DeviceChecks {
    struct Check: Sendable {
        let name: String
        let tolerance: Double
        let run: @Sendable (Mode) throws -> Double
    }

    /// The largest relative difference between `outputs` computed under `mode` and on the CPU.
    static func compare(_ inputs: [Variable], _ outputs: [Variable], _ values: [NDArray], _ mode: Mode) throws -> Double
    {
        let got = try function(inputs: inputs, outputs: outputs, mode: mode).call(values)
        let want = try function(inputs: inputs, outputs: outputs, mode: .fastRun.on(.cpu)).call(values)
        var worst = 0.0
        for (g, w) in zip(got, want) {
            guard g.shape == w.shape else { return .infinity }
            for (u, v) in zip(g.doubles, w.doubles) where !(u.isNaN && v.isNaN) {
                worst = max(worst, u == v ? 0 : abs(u - v) / max(1, abs(v)))
            }
        }
        return worst
    }

    static func uniform(
        _ shape: [Int], _ dtype: DType = .float32, _ range: ClosedRange<Double> = -3...3, seed: UInt64
    )
        throws -> NDArray
    {
        var rng = SplitMix64(seed: seed)
        return try NDArray.uniform(shape, in: range, dtype: dtype, using: &rng)
    }

    static let all: [Check] = [
        Check(name: "elementwise exp(-a)*tanh(a)+a**2, 1e6 float32", tolerance: 1e-5) { mode in
            let a = fvector("a")
            return try compare([a], [exp(-a) * tanh(a) + a * a], [uniform([1_000_000], seed: 1)], mode)
        },
        Check(name: "sum, max and argmax over axes", tolerance: 1e-5) { mode in
            let x = ftensor3("x")
            let outputs = [sum(x, axis: 1), max(x, axis: [1, 2]), cast(argmax(x, axis: 2), .float64), mean(x * x)]
            return try compare([x], outputs, [uniform([64, 300, 7], seed: 2)], mode)
        },
        Check(name: "softmax, log-softmax, cross-entropy and its gradient", tolerance: 1e-5) { mode in
            let z = fmatrix("z")
            let y = lvector("y")
            let cost = mean(softmaxCrossEntropy(z, y))
            let outputs = [softmax(z), logSoftmax(z), cost, try grad(cost, wrt: z)]
            let labels = try NDArray((0..<500).map { Int64($0 * 7 % 10) })
            return try compare([z, y], outputs, [uniform([500, 10], seed: 3), labels], mode)
        },
        Check(name: "dot, transposed dot, matrix-vector and gemm (float32)", tolerance: 1e-4) { mode in
            let a = fmatrix("a")
            let b = fmatrix("b")
            let v = fvector("v")
            let outputs = [dot(a, b), dot(a.T, a), dot(a, v), a - 0.1 * dot(a, dot(b.T, b))]
            return try compare(
                [a, b, v], outputs,
                [uniform([300, 200], seed: 4), uniform([200, 200], seed: 5), uniform([200], seed: 6)],
                mode)
        }
    ]

    /// The logistic tutorial's step on 1,200 random examples in minibatches of `batch`.
    static func logisticStep(_ mode: Mode, batch: Int) throws -> (train: Function, W: SharedVariable) {
        let data = shared(try uniform([1200, 784], .float32, 0...1, seed: 7), name: "X")
        let labels = shared(try NDArray((0..<1200).map { Int32($0 % 10) }), name: "Y")
        let W = shared(try NDArray.zeros([784, 10], dtype: .float32), name: "W")
        let b = shared(try NDArray.zeros([10], dtype: .float32), name: "b")
        let x = fmatrix("x")
        let y = ivector("y")
        let cost = -mean(log(softmax(dot(x, W) + b))[arange(y.shape[0]), y])
        let (gW, gb) = try grad(cost, wrt: W, b)
        let index = lscalar("index")
        let size = Double(batch)
        func slice(_ v: Variable) -> Variable { v[index * size..<(index + 1) * size] }
        let train = try function(
            inputs: [index], outputs: [cost], updates: [W: W - 0.13 * gW, b: b - 0.13 * gb],
            givens: [x: slice(data), y: slice(labels)], mode: mode)
        return (train, W)
    }

    /// After its first call, a training call moves only its cost (one download) and no upload.
    static func residency(_ mode: Mode) throws -> [String: any Sendable] {
        let (train, _) = try logisticStep(mode, batch: 600)
        _ = try train(0)
        let mine = TrafficTally()
        try NDStorage.$tally.withValue(mine) { _ = try train(1)[0].item() }
        let moved = mine.traffic
        return [
            "check": "residency: a training call moves only its cost", "uploads": moved.uploads,
            "downloads": moved.downloads, "downloaded_bytes": moved.downloadedBytes,
            "ok": moved.uploads == 0 && moved.downloads == 1
        ]
    }

    /// Minibatches of 20 (the MLP tutorial's size): from the third call the step runs as CUDA
    /// graphs, updated to each minibatch's offset, with the CPU's costs and parameters.
    static func graphs(_ mode: Mode) throws -> [String: any Sendable] {
        let (train, W) = try logisticStep(mode, batch: 20)
        let (cpu, cW) = try logisticStep(.fastRun.on(.cpu), batch: 20)
        var worst = 0.0
        for i in 0..<12 {
            let (u, v) = (try train(i)[0].item(), try cpu(i)[0].item())
            worst = max(worst, abs(u - v) / max(1, abs(v)))
        }
        for (u, v) in zip(W.value.doubles, cW.value.doubles) { worst = max(worst, abs(u - v) / max(1, abs(v))) }
        guard let stats = train.graphStatistics else {
            return ["check": "CUDA graphs: minibatches of 20", "ok": false, "error": "no graphs on \(mode.name)"]
        }
        var row: [String: any Sendable] = [
            "check": "CUDA graphs: minibatches of 20", "max_error": worst, "graphs_made": stats.made,
            "graph_updates": stats.updates, "graph_launches": stats.launches,
            "ok": worst <= 1e-4 && stats.launches >= 10 && stats.disabled == nil
        ]
        if let why = stats.disabled { row["disabled"] = why }
        return row
    }

    /// Each unary function over 2²⁰ float32 points on the device, against the CPU's float64
    /// rounded to float32: the largest error in ulps.
    static func mathAccuracy(_ mode: Mode) throws -> [[String: any Sendable]] {
        let functions: [(String, ClosedRange<Double>, (Variable) -> Variable)] = [
            ("exp", -80...80, { exp($0) }), ("log", 1e-30...1e30, { log($0) }), ("log1p", -0.99...100, { log1p($0) }),
            ("expm1", -20...20, { expm1($0) }), ("tanh", -10...10, { tanh($0) }),
            ("sigmoid", -30...30, { sigmoid($0) }),
            ("softplus", -30...30, { softplus($0) }), ("sin", -100...100, { sin($0) }),
            ("cos", -100...100, { cos($0) }),
            ("sqrt", 0...1e6, { sqrt($0) })
        ]
        var rows: [[String: any Sendable]] = []
        for (name, range, f) in functions {
            let x32 = try uniform([1 << 20], .float32, range, seed: 8)
            let a = fvector("a")
            let d = dvector("d")
            let got = try function(inputs: [a], outputs: [f(a)], mode: mode)(x32)[0].scalars(as: Float.self)
            let want = try function(inputs: [d], outputs: [f(d)], mode: .fastCompile)(x32.cast(to: .float64))[0]
                .scalars(as: Double.self)
            var worst: UInt32 = 0
            for (g, w) in zip(got, want) where w.isFinite { worst = max(worst, ulps(g, Float(w))) }
            rows.append(["math": name, "dtype": "float32", "max_ulp": Int(worst), "range": "\(range)"])
        }
        return rows
    }

    /// The distance between two floats in units in the last place.
    static func ulps(_ a: Float, _ b: Float) -> UInt32 {
        if a == b { return 0 }
        if a.isNaN || b.isNaN { return .max }
        func ordered(_ x: Float) -> Int64 {
            let bits = Int64(x.bitPattern & 0x7fff_ffff)
            return x.sign == .minus ? -bits : bits
        }
        return UInt32(min(Int64(UInt32.max), abs(ordered(a) - ordered(b))))
    }
}
