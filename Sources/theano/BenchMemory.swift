import Foundation
import NDArray
import Theano

extension BenchWorkloads {
    /// Resident memory growth while 1,000 logistic-regression functions are built, compiled,
    /// called three times and dropped (after 50 to warm caches): graphs, programs, replay plans
    /// and kernel modules must be released or cached with a bound.
    static func memory(functions: Int = 1_000, _ emit: Emit) throws {
        let x = try NDArray.zeros([20, 784], dtype: .float32)
        let y = try NDArray.zeros([20], dtype: .int32)
        func round() throws {
            let xv = fmatrix("x")
            let yv = ivector("y")
            let W = shared(try NDArray.zeros([784, 10], dtype: .float32), name: "W")
            let b = shared(try NDArray.zeros([10], dtype: .float32), name: "b")
            let p = softmax(dot(xv, W) + b)
            let cost = -mean(log(p)[arange(yv.shape[0]), yv])
            let (gW, gb) = try grad(cost, wrt: W, b)
            let f = try function(inputs: [xv, yv], outputs: [cost], updates: [W: W - 0.13 * gW, b: b - 0.13 * gb])
            for _ in 0..<3 { _ = try f(x, y) }
        }
        for _ in 0..<50 { try round() }
        let before = residentBytes()
        let t0 = DispatchTime.now()
        for _ in 0..<functions { try round() }
        let elapsed = seconds(since: t0)
        let grown = Double(residentBytes() - before) / Double(1 << 20)
        emit([
            "workload": "memory", "functions": functions, "rss_growth_mb": grown,
            "ms_per_function": elapsed * 1000 / Double(functions)
        ])
    }

    /// The resident set size from /proc (0 where there is none).
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
