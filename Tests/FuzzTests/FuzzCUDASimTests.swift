import Foundation
import Fuzz
import NDArray
import Testing
import Theano

/// The differential fuzzer's set on the simulated CUDA device: every graph, over every op family,
/// and its gradient, computed by the CUDA backend's kernels (values kept on the device between
/// nodes) against NumPy's answers.
struct FuzzCUDASimTests {
    static let slices = Array(0..<6)

    @Test(arguments: slices) func agreesWithNumPyOnTheSimulatedDevice(slice: Int) {
        let mine = FuzzTests.cases.enumerated().filter { $0.offset % Self.slices.count == slice }.map(\.element)
        #expect(!mine.isEmpty)
        let totals = FuzzRunner(modes: [Mode.fastRun.on(.simulatedCUDA)]).run(mine)
        let report = totals.failures.prefix(30).map(\.description).joined(separator: "\n")
        #expect(totals.failures.isEmpty, "\(totals.failures.count) failures:\n\(report)")
    }
}
