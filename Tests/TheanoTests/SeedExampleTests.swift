import Foundation
import NDArray
import Testing

@testable import Theano

/// The seeds' examples, as acceptance tests.
struct SeedExampleTests {
    @Test func aPlusAToTheTenth() throws {
        let a = vector("a")
        let b = a + a ** 10
        let f = try function(inputs: [a], outputs: [b])
        let r = try f([0, 1, 2])[0]
        #expect(r.dtype == Config.current.floatX)
        #expect(r.doubles == [0, 2, 1026])
    }

    /// The tiny logistic regression of the seeds, with gradients written by hand.
    @Test func tinyLogisticRegressionWithHandWrittenUpdates() throws {
        let n = 40
        let features = 5
        var gen = SplitMix64(seed: 7)
        let xs = try NDArray((0..<(n * features)).map { _ in gen.normal() }, shape: [n, features])
        let trueW = [1.5, -2, 0.5, 0, 1]
        let ys = try NDArray(
            (0..<n).map { i in
                // test data only
                let z = (0..<features).reduce(0.0) { $0 + (try! xs.element(at: [i, $1])) * trueW[$1] }
                return z > 0 ? 1.0 : 0.0
            })
        let x = dmatrix("x")
        let y = dvector("y")
        let w = shared(try NDArray.zeros([features], dtype: .float64), name: "w")
        let b = shared(0.0, dtype: .float64, name: "b")
        let p1 = 1 / (1 + exp(-dot(x, w) - b))
        let prediction = gt(p1, 0.5)
        let xent = -y * log(p1) - (1 - y) * log(1 - p1)
        let cost = mean(xent) + 0.01 * sum(w ** 2)
        // d cost / d w = x^T (p - y) / n + 0.02 w;  d cost / d b = mean(p - y)
        let gw = dot(x.T, p1 - y) / Double(n) + 0.02 * w
        let gb = mean(p1 - y)
        let train = try function(
            inputs: [x, y], outputs: [prediction, cost],
            updates: [w: w - 0.5 * gw, b: b - 0.5 * gb])
        let predict = try function(inputs: [x], outputs: [prediction])
        var first = 0.0
        var last = 0.0
        for step in 0..<200 {
            let r = try train(xs, ys)
            if step == 0 { first = try r[1].item() }
            last = try r[1].item()
        }
        #expect(first == log(2.0) || abs(first - log(2.0)) < 1e-12)
        #expect(last < 0.45 * first)
        let predicted = try predict(xs)[0]
        #expect(predicted.dtype == .bool)
        let accuracy = zip(predicted.doubles, ys.doubles).filter { $0 == $1 }.count
        #expect(accuracy >= n - 2)
        #expect(w.value.doubles[0] > 0 && w.value.doubles[1] < 0)
    }

    /// Minibatches sliced from a shared dataset by `givens` are the right rows and views of the
    /// dataset's storage (no copy).
    @Test func givensSliceSharedDataWithoutCopying() throws {
        let data = try NDArray((0..<(10 * 3)).map(Double.init), shape: [10, 3]).cast(to: .float32)
        let trainX = shared(data, name: "trainX")
        let index = lscalar("index")
        let x = matrix("x")
        let f = try function(
            inputs: [index], outputs: [x, sum(x)],
            givens: [x: trainX[index * 4..<(index + 1) * 4]])
        let batch1 = try f(1)
        #expect(batch1[0].shape == [4, 3])
        let rows: [Double] = (12..<24).map { Double($0) }
        #expect(batch1[0].doubles == rows)
        #expect(batch1[0].sharesStorage(with: trainX.value))
        #expect(try batch1[1].item() == rows.reduce(0, +))
        let last = try f(2)[0]  // rows 8..<12 clipped to 8..<10, as Python slicing
        #expect(last.shape == [2, 3])
    }

    @Test func updatesUseValuesFromBeforeTheCall() throws {
        let a = shared(1.0, dtype: .float64, name: "a")
        let b = shared(10.0, dtype: .float64, name: "b")
        let swap = try function(inputs: [], outputs: [a + b], updates: [a: b, b: a])
        let r = try swap()
        #expect(try r[0].item() == 11)
        #expect(try a.value.item() == 10 && b.value.item() == 1)
    }

    @Test func evalAndDebugprint() throws {
        let x = vector("x")
        let y = try (x * 2).eval([x: [1, 2, 3]])
        #expect(y.doubles == [2, 4, 6])
        let a = vector("a")
        let f = try function(inputs: [a], outputs: [a + a ** 10])
        let text = debugprint(f)
        // One fused kernel; a ** 10 became squarings inside it.
        #expect(text.contains("Composite{Add(i0, Sqr(Mul(Sqr(Sqr(i0)), i0)))} [id A]"), "\(text)")
        #expect(text.contains("a [id B]"))
    }
}
