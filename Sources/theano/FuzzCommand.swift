import ArgumentParser
import Foundation
import Fuzz
import Theano

/// `theano fuzz`: runs differential-fuzzer cases (from `generate_fuzz.py`) and prints totals.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Run random graphs written by generate_fuzz.py against NumPy's answers in every mode; print totals.")

    @Option(help: "The cases, one JSON object a line.") var cases: String
    @Option(help: "Only these case ids (comma-separated).") var only: String?
    @Flag(help: "Skip the gradient checks.") var noGrad = false
    @Flag(help: "Print every failure, not the first 50.") var all = false

    func run() throws {
        var list = try FuzzCase.load(URL(fileURLWithPath: cases))
        if let only {
            let ids = Set(only.split(separator: ",").compactMap { Int($0) })
            list = list.filter { ids.contains($0.id) }
        }
        let started = Date()
        let totals = FuzzRunner(checkGradients: !noGrad).run(list)
        for f in totals.failures.prefix(all ? Int.max : 50) { print(f) }
        let failing = Set(totals.failures.map(\.id)).count
        print(
            String(
                format: "fuzz: %d graphs, %d compiled runs, %d gradient checks: %d failures in %d graphs (%.1f s)",
                totals.cases, totals.runs, totals.gradients, totals.failures.count, failing,
                Date().timeIntervalSince(started)))
        if !totals.failures.isEmpty { throw ExitCode(1) }
    }
}
