import Foundation
import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// `ifelse`: only the branch taken runs, and its gradient is the gradient.
@Suite struct IfElseTests {
    @Test("only the branch taken runs: the other may even be an error at these values")
    func onlyTheTakenBranchRuns() throws {
        let x = dvector("x")
        let n = lscalar("n")
        let f = try function(inputs: [x, n], outputs: [ifelse(lt(n, 0), x[10] * 2, x[0] + x[1])])
        let xv = try NDArray([1, 2, 3] as [Double])
        #expect(try f(xv, 1)[0].item() == 3)  // x[10] is out of bounds, but never computed
        let e = #expect(throws: TheanoError.self) { _ = try f(xv, -1) }
        #expect(e?.description.contains("out of bounds") == true, "\(String(describing: e))")
        // select computes both sides, so the same graph with select fails either way.
        let g = try function(inputs: [x, n], outputs: [select(lt(n, 0), x[10] * 2, x[0] + x[1])])
        #expect(throws: TheanoError.self) { _ = try g(xv, 1) }
    }

    @Test("values of both branches, shared variables inside, and a type mismatch's error")
    func valuesAndErrors() throws {
        let a = dscalar("a")
        let b = dscalar("b")
        let w = shared(try NDArray([10, 20] as [Double]), name: "w")
        let f = try function(inputs: [a, b], outputs: [ifelse(gt(a, b), w * a, w - b)])
        #expect(try f(3.0, 1.0)[0].doubles == [30, 60])
        #expect(try f(1.0, 3.0)[0].doubles == [7, 17])
        let bad = ifelse(gt(a, b), a, fvector("v"))
        #expect(throws: TheanoError.self) { _ = try function(inputs: [a, b], outputs: [bad]) }
    }

    @Test("the gradient follows the branch taken, on either side")
    func gradientFollowsTheBranch() throws {
        for point in [[0.5, 0.7, -0.2], [-0.9, 0.3, 0.1]] {
            let report = try verifyGrad(
                { v in ifelse(gt(sum(v[0]), 0), v[0] * v[1] * 3, sin(v[1]) + v[0]) },
                at: [try NDArray(point), try NDArray([0.4, -1.1, 2] as [Double])])
            #expect(report.passed, "\(report)")
        }
    }
}
