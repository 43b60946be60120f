import Foundation
import NDArray
import Testing
import _Differentiation

@testable import Theano

struct GradAPITests {
    func value(_ v: Variable, _ inputs: [Variable: any TensorConvertible] = [:]) throws -> [Double] {
        try v.eval(inputs).doubles
    }

    @Test func simpleGradients() throws {
        let x = dscalar("x")
        #expect(try value(try grad(x ** 3, wrt: x), [x: 2.0]) == [12])
        let w = dvector("w")
        let (gx, gw) = try grad(sum(x * w), wrt: x, w)
        #expect(try value(gx, [x: 2.0, w: [1, 2, 3]]) == [6])
        #expect(try value(gw, [x: 2.0, w: [1, 2, 3]]) == [2, 2, 2])
    }

    @Test func gradientDTypeMatchesTheVariable() throws {
        let W = shared(try NDArray.zeros([3, 2], dtype: .float32), name: "W")
        let x = fmatrix("x")
        let g = try grad(mean(tanh(dot(x, W))), wrt: W)
        #expect(g.dtype == .float32)
        #expect((W - 0.13 * g).dtype == .float32)
    }

    @Test func broadcastGradientReducesToRuntimeShape() throws {
        // b's length-1 axis is unknown statically: the gradient must still be summed.
        let x = dmatrix("x")
        let b = dmatrix("b")
        let g = try grad(sum(x * b), wrt: b)
        let r = try g.eval([x: [[1, 2], [3, 4]], b: [[1, 1]]])
        #expect(r.shape == [1, 2])
        #expect(r.doubles == [4, 6])
    }

    @Test func errors() throws {
        let x = dvector("x")
        let y = dvector("y")
        let e1 = try #require(catching { _ = try grad(x * 2, wrt: x) })
        #expect(e1.kind == .gradient && e1.description.contains("scalar"))
        let e2 = try #require(catching { _ = try grad(sum(x), wrt: [x, y]) })
        #expect(e2.description.contains("'y'") && e2.description.contains("does not influence"))
        let zeros = try grad(sum(x), wrt: [x, y], disconnectedInputs: .ignore)
        #expect(try value(zeros[1], [y: [1, 2]]) == [0, 0])
        let line = #line + 1
        let z = apply1(NoGradientOp(), [x])
        let e3 = try #require(catching { _ = try grad(sum(z), wrt: x) })
        #expect(e3.op == "NoGradientOp" && e3.description.contains("'x'"))
        #expect(e3.description.contains("GradAPITests.swift:\(line)"), "\(e3)")
        let i = ivector("i")
        let e4 = try #require(catching { _ = try grad(sum(cast(i, .float64)), wrt: i) })
        #expect(e4.description.contains("not a float"))
    }

    @Test func integerInputsGetNoGradient() throws {
        let x = dvector("x")
        let i = lvector("i")
        // The index path is integer: only x gets a gradient, and it is a scatter-add.
        let g = try grad(sum(x[i] * 2), wrt: x)
        #expect(try value(g, [x: [1, 1, 1], i: [0, 2, 0]]) == [4, 0, 2])
    }

    @Test func considerConstantAndBlocks() throws {
        let x = dscalar("x")
        let y = x * x
        #expect(try value(try grad(y * x, wrt: [x], considerConstant: [y])[0], [x: 3.0]) == [9])
        #expect(try value(try grad(disconnectedGrad(y) * x, wrt: x), [x: 3.0]) == [9])
        #expect(try value(try grad(zeroGrad(x) * 2, wrt: x), [x: 3.0]) == [0])
        #expect(catching { _ = try grad(disconnectedGrad(x) * 2, wrt: x) } != nil)
        let k = dscalar("k")
        let h = x * 3
        #expect(try value(try grad(h * 0, wrt: [x], knownGrads: [h: k])[0], [x: 1.0, k: 2.0]) == [6])
    }

    @Test func secondDerivativesJacobianHessian() throws {
        let x = dscalar("x")
        let g1 = try grad(sin(x) * x, wrt: x)
        let g2 = try grad(g1, wrt: x)  // -x sin x + 2 cos x
        let at = 0.7
        #expect(abs(try value(g2, [x: at])[0] - (-at * Foundation.sin(at) + 2 * Foundation.cos(at))) < 1e-12)
        let v = tensor(.float64, shape: [3], name: "v")
        let J = try jacobian(v ** 2, wrt: v)
        #expect(try value(J, [v: [1, 2, 3]]) == [2, 0, 0, 0, 4, 0, 0, 0, 6])
        let H = try hessian(sum(v ** 3), wrt: v)
        #expect(try value(H, [v: [1, 2, 3]]) == [6, 0, 0, 0, 12, 0, 0, 0, 18])
        let softmaxGradOfGrad = try grad(sum(try grad(sum(softmax(v) * v), wrt: v) ** 2), wrt: v)
        #expect(try value(softmaxGradOfGrad, [v: [0.1, 0.2, 0.3]]).allSatisfy { $0.isFinite })
        #expect(catching { _ = try jacobian(dmatrix() * 2, wrt: dvector()) } != nil)
    }

    @Test func lopAndRop() throws {
        let W = dmatrix("W")
        let x = dvector("x")
        let u = dvector("u")
        let v = dvector("v")
        let y = dot(W, x)
        let vals: [Variable: any TensorConvertible] = [W: [[1, 2], [3, 4], [5, 6]], x: [1, 1], u: [1, 0, 2], v: [1, -1]]
        #expect(try value(try Lop(y, wrt: [x], u)[0], vals) == [11, 14])  // Wᵀu
        #expect(try value(try Rop(y, wrt: [x], [v]), vals) == [-1, -1, -1])  // W v
    }

    /// A composite graph against Swift's own automatic differentiation.
    @Test func matchesSwiftDifferentiation() throws {
        @differentiable(reverse)
        func f(_ a: Double, _ b: Double) -> Double {
            let t = Foundation.tanh(a * b) + Foundation.log(1 + Foundation.exp(a)) - b * b / (1 + a * a)
            return t * Foundation.sin(b)
        }
        let (ga, gb) = gradient(at: 0.3, -1.2, of: f)
        let a = dscalar("a")
        let b = dscalar("b")
        let t = tanh(a * b) + softplus(a) - b * b / (1 + a * a)
        let (sa, sb) = try grad(t * sin(b), wrt: a, b)
        #expect(abs(try value(sa, [a: 0.3, b: -1.2])[0] - ga) < 1e-12)
        #expect(abs(try value(sb, [a: 0.3, b: -1.2])[0] - gb) < 1e-12)
    }

    /// A two-unit tanh layer with a logistic output and a cross-entropy cost, in scalars.
    @Test func matchesSwiftDifferentiationOnATinyNetwork() throws {
        @differentiable(reverse)
        func cost(_ w1: Double, _ w2: Double, _ v1: Double) -> Double {
            let (x1, x2, t, v2) = (0.7, -1.3, 1.0, 0.3)
            let h1 = Foundation.tanh(w1 * x1 + w2 * x2)
            let h2 = Foundation.tanh(w2 * x1 - w1 * x2)
            let p = 1 / (1 + Foundation.exp(-(v1 * h1 + v2 * h2)))
            return -(t * Foundation.log(p) + (1 - t) * Foundation.log(1 - p))
        }
        let g = gradient(at: 0.4, -0.2, 1.1, of: cost)
        let w = dvector("w")
        let v = dvector("v")
        let x = constant(try NDArray([0.7, -1.3] as [Double]))
        let W = stack([stack([w[0], w[1]]), stack([w[1], -w[0]])])  // rows: (w1, w2), (w2, −w1)
        let h = tanh(dot(W, x))  // h1 = tanh(w·x), h2 = tanh(w2 x1 − w1 x2)
        let p = sigmoid(dot(h, v))
        let c = binaryCrossentropy(p, constant(1, dtype: .float64))
        let (gw, gv) = try grad(c, wrt: w, v)
        let vals: [Variable: any TensorConvertible] = [w: [0.4, -0.2], v: [1.1, 0.3]]
        let ours = try value(gw, vals) + [value(gv, vals)[0]]
        let theirs = [g.0, g.1, g.2]
        #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) < 1e-12 }, "\(ours) vs \(theirs)")
    }

    /// A log-sum-exp (shifted by a constant, as the stable form is) and an indexing step, in scalars.
    @Test func matchesSwiftDifferentiationOnLogSumExp() throws {
        @differentiable(reverse)
        func f(_ a: Double, _ b: Double, _ c: Double) -> Double {
            let m = 2.0
            return m + Foundation.log(Foundation.exp(a - m) + Foundation.exp(b - m) + Foundation.exp(c - m)) - b * a
        }
        let g = gradient(at: 0.3, 2.0, -1.0, of: f)
        let z = dvector("z")
        let out = log(sum(exp(z))) - z[1] * z[0]
        let ours = try value(try grad(out, wrt: z), [z: [0.3, 2.0, -1.0]])
        #expect(zip(ours, [g.0, g.1, g.2]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(ours)")
    }

    func catching(_ body: () throws -> Void) -> TheanoError? {
        do { try body() } catch let e as TheanoError { return e } catch { return nil }
        return nil
    }
}

/// An op with a float input and no gradient.
struct NoGradientOp: Op {
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [inputs[0]] }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] { inputs }
}
