import Datasets
import Foundation
import NDArray
import Testing
import Theano

/// The README's tutorial code, verbatim, so that the front page's example always compiles and runs.
@Suite(.enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct ReadmeExampleTests {
    @Test func logisticRegressionExample() throws {
        let data = try MNIST.load(from: try MNIST.locate())  // 50k train / 10k valid / 10k test, pixels / 256
        let trainX = shared(data.train.images, name: "trainX")  // the whole set lives in shared storage
        let trainY = shared(data.train.labels, name: "trainY")

        let index = lscalar("index")
        let x = matrix("x")
        let y = ivector("y")
        let W = shared(try NDArray.zeros([784, 10], dtype: .float32), name: "W")
        let b = shared(try NDArray.zeros([10], dtype: .float32), name: "b")

        let p = softmax(dot(x, W) + b)
        let cost = -mean(log(p)[arange(y.shape[0]), y])
        let errors = mean(neq(argmax(p, axis: 1), y))
        let (gW, gb) = try grad(cost, wrt: W, b)

        let trainModel = try function(
            inputs: [index], outputs: [cost, errors],
            updates: [W: W - 0.13 * gW, b: b - 0.13 * gb],
            givens: [
                x: trainX[index * 600..<(index + 1) * 600],
                y: trainY[index * 600..<(index + 1) * 600]
            ])
        let c = try trainModel(7)  // W and b are updated after the whole graph has run

        #expect(abs(try c[0].item() - Foundation.log(10.0)) < 1e-5)  // zero weights: uniform p
        #expect(W.value.dtype == .float32 && W.value.doubles.contains { $0 != 0 })
        let later = try trainModel(8)
        #expect(try later[0].item() < c[0].item())
    }
}
