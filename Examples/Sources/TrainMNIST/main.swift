// Trains the tutorials' MLP on MNIST for a few minibatches through the public API only, and fails
// (exit 1) unless the cost falls. `swift run TrainMNIST [steps]`; MNIST is found as the `theano`
// commands find it, and downloaded into the user cache when it is nowhere.
import Datasets
import Foundation
import NDArray
import Theano
import Tutorials

let steps = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100
let batch = 20

do {
    let data = try MNIST.load(from: try MNIST.locateOrDownload())
    let trainX = shared(data.train.images, name: "trainX")
    let trainY = shared(data.train.labels, name: "trainY")

    let index = lscalar("index")
    let x = matrix("x")
    let y = ivector("y")
    var rng = SplitMix64(seed: 1234)
    let model = try MLP(input: x, nIn: 784, nHidden: 100, nOut: 10, rng: &rng)
    let cost = model.negativeLogLikelihood(y) + 0.0001 * model.L2sqr
    let gradients = try grad(cost, wrt: model.params)
    var updates: [SharedVariable: Variable] = [:]
    for (p, g) in zip(model.params, gradients) { updates[p] = p - 0.1 * g }
    // Swift numbers in expressions are Doubles (as Python's are floats); an integral one
    // keeps the integer index's dtype.
    let size = Double(batch)
    let step = try function(
        inputs: [index], outputs: [cost], updates: updates,
        givens: [
            x: trainX[index * size..<(index + 1) * size],
            y: trainY[index * size..<(index + 1) * size]
        ])
    let validate = try function(
        inputs: [], outputs: [model.errors(y)],
        givens: [x: shared(data.valid.images), y: shared(data.valid.labels)])

    var costs: [Double] = []
    for i in 0..<steps { costs.append(try step(i % (data.train.count / batch))[0].item()) }
    let error = try validate()[0].item()
    let first = costs.prefix(10).reduce(0, +) / Double(min(10, costs.count))
    let last = costs.suffix(10).reduce(0, +) / Double(min(10, costs.count))
    print(String(format: "%d steps: cost %.4f → %.4f, validation error %.2f %%", steps, first, last, 100 * error))
    guard last < first else {
        print("the cost did not fall")
        exit(1)
    }
} catch {
    print("TrainMNIST: \(error)")
    exit(1)
}
