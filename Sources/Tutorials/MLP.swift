import NDArray
import Theano

/// A fully connected layer `activation(x W + b)` with W uniform in ±sqrt(6 / (nIn + nOut))
/// (×4 for sigmoid), b zero, as in the classic tutorial.
public final class HiddenLayer {
    public let W: SharedVariable
    public let b: SharedVariable
    public let output: Variable
    public var params: [SharedVariable] { [W, b] }

    public init(
        input: Variable, nIn: Int, nOut: Int, rng: inout SplitMix64, dtype: DType? = nil,
        activation: (Variable) -> Variable = tanh, sigmoidScale: Bool = false
    ) throws {
        let d = dtype ?? input.dtype
        let bound = (6.0 / Double(nIn + nOut)).squareRoot() * (sigmoidScale ? 4 : 1)
        W = shared(try NDArray.uniform([nIn, nOut], in: -bound...bound, dtype: d, using: &rng), name: "W")
        b = shared(try NDArray.zeros([nOut], dtype: d), name: "b")
        output = activation(dot(input, W) + b)
    }
}

/// The tutorial's multi-layer perceptron: one tanh hidden layer and a logistic-regression layer,
/// with L1 and squared-L2 norms of the weights for regularisation.
public final class MLP {
    public let hidden: HiddenLayer
    public let output: LogisticRegression
    /// Sum of absolute weights.
    public let L1: Variable
    /// Sum of squared weights.
    public let L2sqr: Variable
    public var params: [SharedVariable] { hidden.params + output.params }

    public init(input: Variable, nIn: Int, nHidden: Int, nOut: Int, rng: inout SplitMix64) throws {
        hidden = try HiddenLayer(input: input, nIn: nIn, nOut: nHidden, rng: &rng)
        output = try LogisticRegression(input: hidden.output, nIn: nHidden, nOut: nOut)
        L1 = sum(abs(hidden.W)) + sum(abs(output.W))
        L2sqr = sum(hidden.W ** 2) + sum(output.W ** 2)
    }

    public func negativeLogLikelihood(_ y: Variable) -> Variable { output.negativeLogLikelihood(y) }
    public func errors(_ y: Variable) -> Variable { output.errors(y) }
}
