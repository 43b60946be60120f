import NDArray
import Theano

extension BenchWorkloads {
    /// The anchors' `micro_scan.py`: microseconds per step of (a) 1,000 steps of
    /// `h = tanh(W h + x_t)`, hidden 32, (b) the same with the gradient of `sum(h_T)` with
    /// respect to `W`, (c) `A**k` by 1,000 repeated multiplications of 100 float32. `W`, `x`, `h0`
    /// (and `A`) are inputs; the anchors' orthogonal `W` is replaced by one of the same scale.
    static func scanSteps(repeats: Int, steps: Int = 1000, _ emit: Emit) throws {
        var rng = SplitMix64(seed: 1234)
        let hidden = 32
        let wv = try NDArray.uniform([hidden, hidden], in: -0.3...0.3, dtype: .float32, using: &rng)
        let xv = try NDArray.uniform([steps, hidden], in: -0.02...0.02, dtype: .float32, using: &rng)
        let hv = try NDArray.zeros([hidden], dtype: .float32)
        let av = try NDArray.uniform([100], in: 0.999...1.001, dtype: .float32, using: &rng)
        let W = fmatrix("W")
        let x = fmatrix("x")
        let h0 = fvector("h0")
        let (hs, _) = try scan(
            { v in [tanh(dot(v[2], v[1]) + v[0])] }, sequences: [x], outputsInfo: [h0], nonSequences: [W])
        let hT = hs[0][-1]
        let forward = try function(inputs: [W, x, h0], outputs: [hT])
        let bptt = try function(inputs: [W, x, h0], outputs: [try grad(sum(hT), wrt: W)])
        let A = fvector("A")
        let (powers, _) = try scan({ v in [v[0] * v[1]] }, outputsInfo: [onesLike(A)], nonSequences: [A], nSteps: steps)
        let power = try function(inputs: [A], outputs: [powers[0][-1]])
        var row: [String: any Sendable] = ["workload": "scan", "steps": steps, "hidden": hidden]
        let cases: [(String, () throws -> NDArray)] = [
            ("rnn_fwd", { try forward(wv, xv, hv)[0] }), ("rnn_bptt", { try bptt(wv, xv, hv)[0] }),
            ("pow", { try power(av)[0] })
        ]
        for (name, call) in cases {
            var checksum = 0.0
            let t = try timeit(repeats: repeats) { checksum = try call().doubles.reduce(0, +) }
            row["\(name)_us_per_step"] = t * 1e6 / Double(steps)
            row["\(name)_checksum"] = checksum
        }
        emit(row)
    }
}
