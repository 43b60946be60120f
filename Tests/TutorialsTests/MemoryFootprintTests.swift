import Foundation
import Testing

/// The memory issue's figure, measured in a process of its own: 1,000 logistic-regression
/// functions built, compiled, called and dropped grow the resident set by less than 20 MB.
/// (Measured inside the test process, the figure also counted whatever the suites running beside
/// it allocated, and failed at random.)
struct MemoryFootprintTests {
    @Test("a thousand functions grow `theano bench --only memory`'s resident set by under 20 MB")
    func aThousandFunctionsStayWithinTwentyMegabytes() throws {
        let (status, output) = try TheanoCommand.run(["bench", "--only", "memory", "--json"])
        #expect(status == 0)
        let line = try #require(output.split(separator: "\n").last)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let grown = try #require(row["rss_growth_mb"] as? Double, "\(row)")
        #expect(grown < 20, "resident memory grew by \(grown) MB")
        #expect((row["functions"] as? Int) == 1_000)
    }
}
