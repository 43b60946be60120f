import ArgumentParser
import Datasets
import Foundation
import NDArray
import Theano
import Tutorials

/// The workloads of `../shared/anchors`, written with this library.
enum BenchWorkloads {
    typealias Emit = ([String: any Sendable]) -> Void

    /// `a + a**10` and `exp(-a)*tanh(a)+a**2` on float32 vectors, and a plain copy of the same
    /// array (the memory-bound floor the targets are stated against).
    static func elemwise(repeats: Int, _ emit: Emit) throws {
        let a = fvector("a")
        let exprs: [(String, Variable)] = [("pow10", a + a ** 10), ("chain", exp(-a) * tanh(a) + a ** 2)]
        for n in [1_000, 100_000, 10_000_000] {
            var rng = SplitMix64(seed: 0)
            let x = try NDArray.uniform([n], in: 0...1, dtype: .float32, using: &rng)
            // The copy baseline writes into an existing array, as the anchors' np.copyto does.
            let destination = try NDArray.zeros([n], dtype: .float32)
            let copy = timeit(repeats: repeats) { x.write(into: destination) }
            let copyMicros: Double = copy * 1e6
            emit(["workload": "elemwise", "expr": "copy", "n": n, "us_median": copyMicros])
            for (name, y) in exprs {
                let f = try function(inputs: [a], outputs: [y])
                f.trustInput = true
                let t = try timeit(repeats: repeats) { _ = try f(x) }
                // The answer is checked against the reference implementation.
                let want = try function(inputs: [a], outputs: [y], mode: .fastCompile)(x)[0].doubles
                let got = try f(x)[0].doubles
                let worst = zip(got, want).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
                let micros: Double = t * 1e6
                let ratio: Double = t / copy
                emit([
                    "workload": "elemwise", "expr": name, "n": n, "us_median": micros, "ratio_to_copy": ratio,
                    "max_rel_diff_to_reference": worst
                ])
            }
        }
    }

    /// Per-call overhead: the tiny logistic-regression step of the docs (N=4, 100 features) and
    /// `x + 1` on a scalar, validating inputs and trusting them.
    static func overhead(repeats: Int, _ emit: Emit) throws {
        var rng = SplitMix64(seed: 0)
        let n = 4
        let feats = 100
        let dx = try NDArray.uniform([n, feats], in: -1...1, dtype: .float32, using: &rng)
        let dy = try NDArray((0..<n).map { Float($0 % 2) })
        let x = fmatrix("x")
        let y = fvector("y")
        let w = shared(try NDArray.uniform([feats], in: -1...1, dtype: .float32, using: &rng), name: "w")
        let b = shared(0.0, dtype: .float32, name: "b")
        let p1 = 1 / (1 + exp(-dot(x, w) - b))
        let xent = -y * log(p1) - (1 - y) * log(1 - p1)
        let cost = mean(xent) + 0.01 * sum(w ** 2)
        let (gw, gb) = try grad(cost, wrt: w, b)
        let train = try function(
            inputs: [x, y], outputs: [gt(p1, 0.5), xent], updates: [w: w - 0.1 * gw, b: b - 0.1 * gb])
        let s = fscalar("s")
        let plus1 = try function(inputs: [s], outputs: [s + 1])
        let one = NDArray(scalar: Float(1))
        var row: [String: any Sendable] = ["workload": "overhead"]
        row["logreg_N4_f100_us_median"] = try timeit(repeats: repeats) { _ = try train(dx, dy) } * 1e6
        row["x_plus_1_scalar_us_median"] = try timeit(repeats: repeats) { _ = try plus1(one) } * 1e6
        train.trustInput = true
        plus1.trustInput = true
        row["logreg_N4_f100_trust_input_us_median"] = try timeit(repeats: repeats) { _ = try train(dx, dy) } * 1e6
        row["x_plus_1_scalar_trust_input_us_median"] = try timeit(repeats: repeats) { _ = try plus1(one) } * 1e6
        emit(row)
        if let profile = train.profile {
            printFlushed("profile of the tiny logistic step:\n\(profile)\n\(debugprint(train))")
        }
    }

    /// One SGD step of a 60×784 → 500 tanh → 10 softmax MLP as one compiled function, on
    /// successive MNIST minibatches (random data without MNIST).
    static func mlpStep(mnist: MNIST?, repeats: Int, _ emit: Emit) throws {
        let batch = 60
        let nin = 784
        let nhid = 500
        let nout = 10
        var rng = SplitMix64(seed: 1234)
        let images = try mnist?.train.images ?? NDArray.uniform([6000, nin], in: 0...1, dtype: .float32, using: &rng)
        let labels = try mnist?.train.labels ?? NDArray((0..<6000).map { Int32($0 % 10) })
        let count = images.shape[0] / batch
        let xs = try (0..<count).map { i in
            try images.sliced([.range(start: i * batch, stop: (i + 1) * batch, step: 1)]).contiguous()
        }
        let ys = try (0..<count).map { i in
            try labels.sliced([.range(start: i * batch, stop: (i + 1) * batch, step: 1)]).contiguous()
        }
        let bound = (6.0 / Double(nin + nhid)).squareRoot()
        let x = fmatrix("x")
        let y = ivector("y")
        let W1 = shared(try NDArray.uniform([nin, nhid], in: -bound...bound, dtype: .float32, using: &rng), name: "W1")
        let b1 = shared(try NDArray.zeros([nhid], dtype: .float32), name: "b1")
        let W2 = shared(try NDArray.uniform([nhid, nout], in: -0.01...0.01, dtype: .float32, using: &rng), name: "W2")
        let b2 = shared(try NDArray.zeros([nout], dtype: .float32), name: "b2")
        let h = tanh(dot(x, W1) + b1)
        let p = softmax(dot(h, W2) + b2)
        let cost = -mean(log(p)[arange(y.shape[0]), y])
        let params = [W1, b1, W2, b2]
        let grads = try grad(cost, wrt: params)
        var updates: [SharedVariable: Variable] = [:]
        for (v, g) in zip(params, grads) { updates[v] = v - 0.01 * g }
        let step = try function(inputs: [x, y], outputs: [cost], updates: updates)
        step.trustInput = true
        var i = 0
        let t = try timeit(repeats: repeats) {
            i = (i + 1) % count
            _ = try step(xs[i], ys[i])
        }
        let micros: Double = t * 1e6
        let flops: Double = 6 * Double(batch * (nin * nhid + nhid * nout))
        let gflops: Double = flops / t / 1e9
        emit(["workload": "mlp-step", "shape": "60x784-500-10", "us_per_call_median": micros, "gflops": gflops])
        if let profile = step.profile { printFlushed("profile of the MLP step:\n\(profile)") }
    }

    /// The 2010 ConvNet training step (anchors' micro_convnet_step.py): 256×256 images → conv
    /// 6@7×7 → 5×5 max-pool → tanh → conv 16@6×7×7 → tanh → 10-way softmax, forward, backward and
    /// SGD in one function, at batch 1 and 16.
    static func convnetStep(repeats: Int, _ emit: Emit) throws {
        for batch in [1, 16] {
            var rng = SplitMix64(seed: 0)
            func normal(_ shape: [Int], _ scale: Double) throws -> NDArray {
                try NDArray.uniform(shape, in: -scale * 1.7...scale * 1.7, dtype: .float32, using: &rng)
            }
            let W0 = shared(try normal([6, 1, 7, 7], 0.1), name: "W0")
            let W1 = shared(try normal([16, 6, 7, 7], 0.05), name: "W1")
            let W2 = shared(try normal([16 * 44 * 44, 10], 0.01), name: "W2")
            let b2 = shared(try NDArray.zeros([10], dtype: .float32), name: "b2")
            let x = tensor(.float32, shape: [batch, 1, 256, 256], name: "x")
            let y = ivector("y")
            let h0 = tanh(pool2d(conv2d(x, W0), window: (5, 5)))
            let h1 = tanh(conv2d(h0, W1))
            let p = softmax(dot(h1.flatten(2), W2) + b2)
            let cost = -mean(log(p)[arange(y.shape[0]), y])
            let params = [W0, W1, W2, b2]
            let grads = try grad(cost, wrt: params)
            var updates: [SharedVariable: Variable] = [:]
            for (v, g) in zip(params, grads) { updates[v] = v - 0.01 * g }
            let step = try function(inputs: [x, y], outputs: [cost], updates: updates)
            step.trustInput = true
            let images = try NDArray.uniform([batch, 1, 256, 256], in: 0...1, dtype: .float32, using: &rng)
            let labels = try NDArray((0..<batch).map { Int32($0 % 10) })
            let t = try timeit(repeats: max(3, repeats / 2)) { _ = try step(images, labels) }
            let millis: Double = t * 1e3
            emit(["workload": "convnet-step", "batch": batch, "ms_per_step_median": millis])
            if let profile = step.profile { printFlushed("profile of the ConvNet step (batch \(batch)):\n\(profile)") }
        }
    }

    /// LeNet-5 training minibatches of 500 (anchors' lenet_mnist.py), seconds per minibatch.
    static func lenet(mnist: MNIST, minibatches: Int, _ emit: Emit) throws {
        let options = TrainingOptions.lenet()
        let x = fmatrix("x")
        let y = ivector("y")
        var rng = SplitMix64(seed: options.seed)
        let model = try LeNet(input: x, batchSize: options.batchSize, rng: &rng)
        let index = lscalar("index")
        let trX = shared(mnist.train.images, name: "trainX", borrow: true)
        let trY = shared(mnist.train.labels, name: "trainY", borrow: true)
        let bs = Double(options.batchSize)
        let grads = try grad(model.negativeLogLikelihood(y), wrt: model.params)
        var updates: [SharedVariable: Variable] = [:]
        for (p, g) in zip(model.params, grads) { updates[p] = p - options.learningRate * g }
        let train = try function(
            inputs: [index], outputs: [model.negativeLogLikelihood(y)], updates: updates,
            givens: [x: trX[index * bs..<(index + 1) * bs], y: trY[index * bs..<(index + 1) * bs]])
        let batches = mnist.train.count / options.batchSize
        _ = try train(0)
        var times: [Double] = []
        for k in 0..<minibatches {
            let t0 = DispatchTime.now()
            _ = try train(k % batches)
            times.append(seconds(since: t0))
        }
        times.sort()
        let median: Double = times[times.count / 2]
        emit(["workload": "lenet", "minibatches": minibatches, "s_per_minibatch_median": median])
        if let profile = train.profile { printFlushed("profile of the LeNet minibatch:\n\(profile)") }
    }

    /// SGEMM 2048² through a compiled `dot`, against calling the BLAS library directly.
    static func sgemm(repeats: Int, _ emit: Emit) throws {
        let n = 2048
        var rng = SplitMix64(seed: 0)
        let a = try NDArray.uniform([n, n], in: 0...1, dtype: .float32, using: &rng)
        let b = try NDArray.uniform([n, n], in: 0...1, dtype: .float32, using: &rng)
        let x = fmatrix("x")
        let y = fmatrix("y")
        let f = try function(inputs: [x, y], outputs: [dot(x, y)])
        f.trustInput = true
        // Alternated call by call, so that the machine's drift hits both alike.
        _ = try f(a, b)
        _ = try BLAS.directMatmul(a, b)
        var oursTimes: [Double] = []
        var directTimes: [Double] = []
        for _ in 0..<max(5, repeats) {
            var start = DispatchTime.now()
            _ = try f(a, b)
            oursTimes.append(seconds(since: start))
            start = DispatchTime.now()
            _ = try BLAS.directMatmul(a, b)
            directTimes.append(seconds(since: start))
        }
        let ours = oursTimes.sorted()[oursTimes.count / 2]
        let direct = directTimes.sorted()[directTimes.count / 2]
        let flops: Double = 2 * pow(Double(n), 3)
        let millis: Double = ours * 1e3
        let directMillis: Double = direct * 1e3
        let gflops: Double = flops / ours / 1e9
        let directGflops: Double = flops / direct / 1e9
        let fraction: Double = direct / ours
        let library: String = BLAS.shared.map { "\($0.path) (\($0.coreName ?? "?"))" } ?? "built-in fallback"
        emit([
            "workload": "sgemm", "n": n, "ms_median": millis, "gflops": gflops, "direct_ms_median": directMillis,
            "direct_gflops": directGflops, "fraction_of_direct": fraction, "blas": library
        ])
    }

    /// Compile time of the logistic tutorial's three functions, with an empty kernel cache and
    /// with the cache filled, each in a fresh process.
    static func compile(dataPath: String?, _ emit: Emit) throws {
        let dir = NSTemporaryDirectory() + "theano-bench-cache-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func once() throws -> Double {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
            p.arguments = ["bench", "--compile-once"] + (dataPath.map { ["--data", $0] } ?? [])
            var env = ProcessInfo.processInfo.environment
            env["THEANO_FLAGS"] = [env["THEANO_FLAGS"], "compiledir=\(dir)"].compactMap { $0 }.joined(separator: ",")
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            p.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard p.terminationStatus == 0, let s = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ValidationError("the compile-time child failed: \(text)")
            }
            return s
        }
        let cold = try once()
        let cached = [try once(), try once(), try once()].sorted()[1]
        emit([
            "workload": "compile", "functions": "logreg train/validate/test", "cold_seconds": cold,
            "cached_seconds": cached
        ])
    }
}
