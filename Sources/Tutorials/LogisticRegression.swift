import NDArray
import Theano

/// Multi-class logistic regression: `p(y|x) = softmax(x W + b)` with W and b zero-initialised,
/// as in the classic tutorial.
///
/// ```swift
/// let x = matrix("x"), y = ivector("y")
/// let model = try LogisticRegression(input: x, nIn: 784, nOut: 10)
/// let cost = model.negativeLogLikelihood(y)
/// let (gW, gb) = try grad(cost, wrt: model.W, model.b)
/// ```
public final class LogisticRegression {
    public let W: SharedVariable
    public let b: SharedVariable
    /// Class probabilities, one row per example.
    public let pYGivenX: Variable
    /// The most probable class of each example.
    public let yPred: Variable
    public var params: [SharedVariable] { [W, b] }

    public init(input: Variable, nIn: Int, nOut: Int, dtype: DType? = nil) throws {
        let d = dtype ?? input.dtype
        W = shared(try NDArray.zeros([nIn, nOut], dtype: d), name: "W")
        b = shared(try NDArray.zeros([nOut], dtype: d), name: "b")
        pYGivenX = softmax(dot(input, W) + b)
        yPred = argmax(pYGivenX, axis: 1)
    }

    /// Mean negative log-likelihood of the labels `y`: `-mean(log(p)[arange(n), y])`.
    public func negativeLogLikelihood(_ y: Variable) -> Variable {
        -mean(log(pYGivenX)[arange(y.shape[0]), y])
    }

    /// The fraction of examples whose predicted class is not `y` (zero-one loss).
    public func errors(_ y: Variable) -> Variable {
        mean(neq(yPred, y))
    }
}
