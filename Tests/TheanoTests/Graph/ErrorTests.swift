import NDArray
import Testing

@testable import Theano

/// Every misuse gives a thrown `TheanoError` naming the op or input and where it was built.
struct ErrorTests {
    func error(_ body: () throws -> Void) -> TheanoError? {
        do { try body() } catch let e as TheanoError { return e } catch { return nil }
        return nil
    }

    @Test func wrongDTypeFollowsTheSafeCastRule() throws {
        let x = fvector("x")
        let line = #line - 1
        let f = try function(inputs: [x], outputs: [x * 2])
        let e = try #require(error { try f(try NDArray([1, 2] as [Double])) })
        #expect(e.kind == .badInput)
        #expect(e.description.contains("'x'") && e.description.contains("float64") && e.description.contains("float32"))
        #expect(e.description.contains("ErrorTests.swift:\(line)"), "\(e)")
        // Narrowing is accepted when the user allows it, and Swift literals adopt the dtype.
        #expect(try f([1.5, 2])[0].doubles == [3, 4])
        #expect(error { try f([1, 2] as [Int32]) } == nil)
    }

    @Test func wrongNDimAndStaticShapeOfInputs() throws {
        let x = tensor(.float32, shape: [nil, 3], name: "x")
        let f = try function(inputs: [x], outputs: [x + 1])
        let e1 = try #require(error { try f([1, 2, 3]) })
        #expect(e1.description.contains("'x'") && e1.description.contains("2 dimensions"))
        let e2 = try #require(error { try f([[1, 2]]) })
        #expect(e2.description.contains("length 3 on dimension 1"), "\(e2)")
        // The same checks for NDArray arguments (their own overload, no boxing), and with
        // trustInput, which skips them only for arrays of the input's dtype and rank.
        let row = try NDArray([1, 2] as [Float], shape: [1, 2])
        let flat = try NDArray([1, 2, 3] as [Float])
        #expect(try #require(error { try f(row) }).description.contains("length 3 on dimension 1"))
        #expect(try #require(error { try f(flat) }).description.contains("2 dimensions"))
        f.trustInput = true
        #expect(try #require(error { try f(flat) }).description.contains("2 dimensions"))
        #expect(
            try #require(error { try f(try NDArray([1, 2, 3] as [Double], shape: [1, 3])) }).description.contains(
                "float64"))
        #expect(try f(try NDArray([1, 2, 3] as [Float], shape: [1, 3]))[0].doubles == [2, 3, 4])
    }

    @Test func staticShapeConflictIsReportedWhereTheNodeWasBuilt() throws {
        let x = tensor(.float32, shape: [nil, 784], name: "x")
        let W = tensor(.float32, shape: [10, 784], name: "W")
        let line = #line + 1
        let h = dot(x, W)
        let e = try #require(error { _ = try function(inputs: [x, W], outputs: [h]) })
        #expect(e.kind == .shape)
        #expect(e.op == "Dot")
        #expect(e.description.contains("784") && e.description.contains("10"))
        #expect(e.description.contains("ErrorTests.swift:\(line)"), "\(e)")
        // Operators record their location too.
        let a = tensor(.float32, shape: [3], name: "a")
        let b = tensor(.float32, shape: [4], name: "b")
        let line2 = #line + 1
        let s = a + b
        let e2 = try #require(error { _ = try function(inputs: [a, b], outputs: [s * 2]) })
        #expect(e2.op == "Add")
        #expect(e2.description.contains("ErrorTests.swift:\(line2)"), "\(e2)")
    }

    @Test func typeErrorsNameTheOp() throws {
        let m = imatrix("m")
        let line = #line + 1
        let p = softmax(m)
        let e = try #require(error { _ = try p.eval([m: [[1, 2]]]) })
        #expect(e.kind == .type && e.op == "Softmax{axis=1}")
        #expect(e.description.contains("int32") && e.description.contains("ErrorTests.swift:\(line)"), "\(e)")
        let v = fvector("v")
        let e2 = try #require(error { _ = try (v && v).eval([v: [1]]) })
        #expect(e2.description.contains("bool"))
    }

    @Test func runtimeShapeMismatchNamesOpShapesAndLine() throws {
        let a = vector("a")
        let b = vector("b")
        let line = #line + 1
        let c = a * b
        let f = try function(inputs: [a, b], outputs: [c])
        let e = try #require(error { try f([1, 2, 3], [1, 2]) })
        #expect(e.kind == .shape && e.op?.contains("Mul") == true)
        #expect(e.description.contains("(3,)") && e.description.contains("(2,)"), "\(e)")
        #expect(e.description.contains("ErrorTests.swift:\(line)"), "\(e)")
        let m = matrix("m")
        let line2 = #line + 1
        let r = m[5]
        let e2 = try #require(error { _ = try r.eval([m: [[1, 2]]]) })
        #expect(
            e2.description.contains("out of bounds") && e2.description.contains("ErrorTests.swift:\(line2)"), "\(e2)")
    }

    @Test func missingUnusedAndSharedInputs() throws {
        let x = vector("x")
        let y = vector("y")
        let z = vector("z")
        let line = #line + 1
        let w = vector("w")
        let e1 = try #require(error { _ = try function(inputs: [x], outputs: [x + w]) })
        #expect(e1.kind == .missingInput && e1.description.contains("'w'"))
        #expect(e1.description.contains("ErrorTests.swift:\(line)"), "\(e1)")
        let e2 = try #require(error { _ = try function(inputs: [x, y, z], outputs: [x + y]) })
        #expect(e2.kind == .unusedInput && e2.description.contains("'z'"))
        #expect(error { _ = try function(inputs: [x, y, z], outputs: [x + y], onUnusedInput: .ignore) } == nil)
        let s = shared(try NDArray.zeros([3], dtype: .float32), name: "s")
        let e3 = try #require(error { _ = try function(inputs: [s], outputs: [s * 2]) })
        #expect(e3.kind == .sharedAsInput && e3.description.contains("'s'"))
    }

    @Test func updateOfAnotherTypeIsRejected() throws {
        let W = shared(try NDArray.zeros([2], dtype: .float32), name: "W")
        let line = #line + 1
        let bad = W - constant(1, dtype: .float64)
        let e = try #require(error { _ = try function(inputs: [], outputs: [], updates: [W: bad]) })
        #expect(e.kind == .update && e.description.contains("'W'") && e.description.contains("float64"))
        #expect(e.description.contains("ErrorTests.swift:\(line)"), "\(e)")
        let e2 = try #require(error { _ = try function(inputs: [], outputs: [], updates: [W: sum(W)]) })
        #expect(e2.kind == .update)
    }

    @Test func failedCallLeavesSharedVariablesUnchanged() throws {
        let W = shared(try NDArray([1, 2, 3] as [Float]), name: "W")
        let b = shared(try NDArray([10] as [Float]), name: "b")
        let x = vector("x")
        let f = try function(inputs: [x], outputs: [sum(W * x)], updates: [W: W + 1, b: b + sum(W * x)])
        _ = try f([1, 1, 1])
        #expect(W.value.doubles == [2, 3, 4] && b.value.doubles == [16])
        // Fails in the middle of the graph: the W update was computed, but nothing is committed.
        #expect(error { try f([1, 1]) } != nil)
        #expect(W.value.doubles == [2, 3, 4] && b.value.doubles == [16])
        #expect(throws: TheanoError.self) { try W.setValue(try NDArray([1, 2] as [Double])) }
        #expect(W.value.doubles == [2, 3, 4])
    }

    @Test func givensAndIndexingMisuse() throws {
        let x = matrix("x")
        let i = ivector("i")
        let e = try #require(error { _ = try function(inputs: [i], outputs: [x], givens: [x: i]) })
        #expect(e.kind == .givens)
        let line = #line + 1
        let bad = setSubtensor(x, x)
        let e2 = try #require(error { _ = try bad.eval([x: [[1]]]) })
        #expect(
            e2.description.contains("indexed tensor") && e2.description.contains("ErrorTests.swift:\(line)"), "\(e2)")
    }
}

/// Inputs with default values, given by position or by name.
struct FunctionDefaultsTests {
    @Test func defaultsAndNamedArguments() throws {
        let i = lscalar("i")
        let c = dscalar("c")
        let lr = dscalar("lr")
        let f = try function(inputs: [i, c, lr], outputs: [cast(i, .float64) * c + lr], defaults: [c: 2.0, lr: 0.5])
        #expect(try f(3)[0].doubles == [6.5])
        #expect(try f(3, 1.0)[0].doubles == [3.5])
        #expect(try f.call([3], named: [lr: 10.0])[0].doubles == [16])
        #expect(try f.call([], named: [i: 1, c: 0.0])[0].doubles == [0.5])
        #expect(throws: TheanoError.self) { try f.call([3], named: [i: 1]) }
        #expect(throws: TheanoError.self) { try f.call([3], named: [dscalar("other"): 1.0]) }
        let g = try function(inputs: [i, c], outputs: [cast(i, .float64) * c], defaults: [c: 2.0])
        #expect(throws: TheanoError.self) { try g.call([], named: [c: 1.0]) }
        #expect(throws: TheanoError.self) { _ = try function(inputs: [i], outputs: [i * 2], defaults: [i: 2.5]) }
    }
}
