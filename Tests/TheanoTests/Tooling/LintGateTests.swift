import Foundation
import Testing

/// `scripts/lint`, the lint gate of the test command, run on small trees made for each case.
@Suite("Lint gate: line width, file length, unused dependencies")
struct LintGateTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../scripts/lint").standardized

    /// Runs the gate on a tree holding `files` (relative path → contents): its exit status and
    /// output.
    func lint(_ files: [String: String]) throws -> (status: Int32, output: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, root.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("a line of 121 characters fails the gate; one of 120 passes")
    func lineWidth() throws {
        let ok = "let x = \"" + String(repeating: "a", count: 120 - 10) + "\""
        #expect(ok.count == 120)
        #expect(try lint(["Sources/A/A.swift": ok + "\n"]).status == 0)
        let long = try lint(["Sources/A/A.swift": "// fine\n" + ok + "b\n"])
        #expect(long.status == 1)
        #expect(long.output.contains("Sources/A/A.swift:2: line of 121 characters"), "\(long.output)")
    }

    @Test("a source file of 401 lines fails the gate; one of 400 passes")
    func fileLength() throws {
        let lines = { (n: Int) in String(repeating: "let _ = 1\n", count: n) }
        #expect(try lint(["Sources/A/A.swift": lines(400)]).status == 0)
        let long = try lint(["Sources/A/A.swift": lines(401)])
        #expect(long.status == 1 && long.output.contains("401 lines"), "\(long.output)")
    }

    @Test("a target dependency the target never imports fails the gate")
    func unusedDependency() throws {
        let manifest = """
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(name: "P", targets: [.target(name: "A"), .target(name: "B", dependencies: ["A"])])
            """
        let unused = try lint([
            "Package.swift": manifest, "Sources/A/A.swift": "let a = 1\n",
            "Sources/B/B.swift": "let b = 2\n"
        ])
        #expect(
            unused.status == 1 && unused.output.contains("target B depends on A but never imports it"),
            "\(unused.output)")
        let used = try lint([
            "Package.swift": manifest, "Sources/A/A.swift": "let a = 1\n",
            "Sources/B/B.swift": "import A\nlet b = 2\n"
        ])
        #expect(used.status == 0, "\(used.output)")
    }
}
