import Foundation
import Fuzz
import NDArray
import Testing
import Theano

/// The differential fuzzer's fixed set: 600 random graphs over every op family, checked against
/// NumPy in FAST_RUN, FAST_COMPILE and DEBUG, and their gradients against finite differences.
/// Regenerate with `python3 Tests/FuzzTests/Fixtures/generate_fuzz.py`; `bench/fuzz` runs more.
struct FuzzTests {
    static let loaded: Result<[FuzzCase], any Error> = Result {
        guard let url = Bundle.module.url(forResource: "fuzz", withExtension: "jsonl", subdirectory: "Fixtures") else {
            throw FuzzError("Fixtures/fuzz.jsonl is not in the test bundle")
        }
        return try FuzzCase.load(url)
    }
    static var cases: [FuzzCase] { (try? loaded.get()) ?? [] }

    /// Twelve slices of the set, so the two cores share them.
    static let slices = Array(0..<12)

    @Test func theSetIsThere() throws {
        #expect(try Self.loaded.get().count >= 500)
    }

    @Test(arguments: slices) func agreesWithNumPy(slice: Int) {
        let mine = Self.cases.enumerated().filter { $0.offset % Self.slices.count == slice }.map(\.element)
        let totals = FuzzRunner().run(mine)
        let report = totals.failures.prefix(30).map(\.description).joined(separator: "\n")
        #expect(totals.failures.isEmpty, "\(totals.failures.count) failures:\n\(report)")
    }
}
