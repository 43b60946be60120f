import ArgumentParser
import Foundation
import NDArray
import Theano

/// `theano demo`: the seeds' first examples, end to end.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile and run the seeds' first examples (a + a**10; a tiny logistic regression).")

    @Flag(help: "Print the compiled graphs.") var graphs = false

    func run() throws {
        let a = vector("a")
        let f = try function(inputs: [a], outputs: [a + a ** 10])
        print("a + a ** 10 at [0, 1, 2] =", try f([0, 1, 2])[0])
        if graphs { print(debugprint(f)) }

        // Logistic regression on 400 points in 10 dimensions, gradients written by hand.
        let n = 400
        let dims = 10
        var rng = SystemRandomNumberGenerator()
        let xs = try NDArray((0..<(n * dims)).map { _ in Double.random(in: -1...1, using: &rng) }, shape: [n, dims])
        let labels: [Double] = (0..<n).map { i in
            let row = (0..<dims).map { j in (try? xs.element(at: [i, j])) ?? 0 }
            return row[0] + 0.5 * row[1] - row[2] > 0 ? 1 : 0
        }
        let x = dmatrix("x")
        let y = dvector("y")
        let w = shared(try NDArray.zeros([dims], dtype: .float64), name: "w")
        let b = shared(0.0, dtype: .float64, name: "b")
        let p = 1 / (1 + exp(-dot(x, w) - b))
        let xent = -y * log(p) - (1 - y) * log(1 - p)
        let gw = dot(x.T, p - y) / Double(n)
        let gb = mean(p - y)
        let train = try function(
            inputs: [x, y], outputs: [mean(xent), mean(neq(gt(p, 0.5), y))],
            updates: [w: w - 1.0 * gw, b: b - 1.0 * gb])
        let ys = try NDArray(labels)
        for step in 0...300 {
            let r = try train(xs, ys)
            if step % 100 == 0 {
                print(
                    "step \(step): cross-entropy", String(format: "%.4f", try r[0].item()), "training error",
                    String(format: "%.2f %%", try r[1].item() * 100))
            }
        }
        if graphs { print(debugprint(train)) }
    }
}
