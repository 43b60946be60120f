import Foundation
import NDArray
import Synchronization
import Testing

@testable import Theano

extension BadInputCatalogueTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Files: corrupt, truncated, missing, unwritable.
    static let files: [Entry] = [
        Entry("npy-truncated", "cut.npy: truncated data") {
            let data = NPY.encode(floats([10]))
            _ = try NPY.decode(data.prefix(data.count - 8), name: "cut.npy")
        },
        Entry("npy-bad-magic", "not a .npy file (bad magic)") {
            var data = NPY.encode(floats([2]))
            data[1] = 0x41
            _ = try NPY.decode(data, name: "bad.npy")
        },
        Entry("npy-bad-header", "header has no descr") {
            var data = NPY.encode(floats([2]))
            if let r = data.range(of: Data("'descr'".utf8)) { data.replaceSubrange(r, with: Data("'dexcr'".utf8)) }
            _ = try NPY.decode(data, name: "header.npy")
        },
        Entry("npz-random-bytes", "noise.npz: not a zip archive") {
            _ = try NPZ.decode(Data((0..<200).map { UInt8($0 % 251) }), name: "noise.npz")
        },
        Entry("npz-truncated", "half.npz: not a zip archive") {
            let data = try NPZ.encode(["W": floats([50])])
            _ = try NPZ.decode(data.prefix(data.count / 2), name: "half.npz")
        },
        Entry("npz-missing-file", "cannot read /nonexistent/params.npz") {
            _ = try NPZ.read(from: URL(fileURLWithPath: "/nonexistent/params.npz"))
        },
        Entry("npz-unwritable-folder", "No such file or directory") {
            try NPZ.write(["W": floats([2])], to: URL(fileURLWithPath: "/nonexistent/dir/params.npz"))
        },
        Entry("npz-write-over-folder", "Is a directory") {
            let dir = try scratch()
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent("p.npz"), withIntermediateDirectories: true)
            try NPZ.write(["W": floats([2])], to: dir.appendingPathComponent("p.npz"))
        },
        Entry("alloc-impossible", "out of memory: cannot allocate") {
            _ = try NDArray.zeros([1 << 21, 1 << 21], dtype: .float64)
        },
        Entry("alloc-negative", "negative dimension -1") {
            _ = try NDArray.zeros([3, -1], dtype: .float32)
        },
        Entry("alloc-overflow", "is too large") {
            _ = try NDArray.zeros([Int.max / 2, 4], dtype: .float32)
        }
    ]

    static let all: [Entry] = calls + graphs + compiling + files

    @Test(arguments: all) func givesATypedErrorNamingTheProblem(_ entry: Entry) {
        do {
            try entry.action()
            Issue.record("\(entry.id): no error")
        } catch {
            let typed = error is TheanoError || error is NDArrayError
            #expect(typed, "\(entry.id): \(type(of: error)) is not a typed error")
            #expect("\(error)".contains(entry.fragment), "\(entry.id): \(error)")
        }
    }

    /// Every entry is a row of docs/RELIABILITY.md's table, with the fragment it checks.
    @Test func everyEntryIsInTheTable() throws {
        // Tests/TheanoTests/Graph/ → the repository.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
            .standardized
        let doc = try String(contentsOf: repo.appendingPathComponent("docs/RELIABILITY.md"), encoding: .utf8)
        let rows = doc.split(separator: "\n").filter { $0.hasPrefix("| `") }
        for entry in Self.all {
            let row = rows.first { $0.hasPrefix("| `\(entry.id)` |") }
            #expect(row != nil, "\(entry.id) is not in docs/RELIABILITY.md")
            if let row {
                #expect(row.contains(entry.fragment), "\(entry.id): the table does not show '\(entry.fragment)'")
            }
        }
        #expect(Set(Self.all.map(\.id)).count == Self.all.count)
    }

    /// A full disk during a write: the old file survives whole and the error names the path
    /// (needs root to mount a 64 KiB tmpfs; skipped where that is not allowed).
    @Test func aFullDiskLeavesTheOldFileWhole() throws {
        let dir = try Self.scratch()
        defer {
            _ = umountQuietly(dir)
            try? FileManager.default.removeItem(at: dir)
        }
        guard mountTmpfs(dir, size: "64k") else {
            print("skipped: cannot mount a small tmpfs here (not root, or no mount permission)")
            return
        }
        let file = dir.appendingPathComponent("params.npz")
        try NPZ.write(["W": Self.floats([100])], to: file)
        let before = try Data(contentsOf: file)
        let e = #expect(throws: NDArrayError.self) { try NPZ.write(["W": Self.floats([100_000])], to: file) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("No space left on device"))
        #expect(try Data(contentsOf: file) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["params.npz"])
    }

    /// Eight threads call one function while another replaces its shared variable: every
    /// result sees one whole value (all zeros or all ones), never a mix, and nothing crashes.
    @Test func callsRacingAnUpdateSeeWholeValues() throws {
        let W = shared(Self.floats([64, 64], 0), name: "W")
        let f = try function(inputs: [], outputs: [sum(W)])
        let zeros = Self.floats([64, 64], 0)
        let ones = Self.floats([64, 64], 1)
        let bad = Mutex(0)
        let calls = Mutex(0)
        // SharedVariable locks its value; graphs are not Sendable, so the test vouches for it.
        struct Unchecked: @unchecked Sendable { let shared: SharedVariable }
        let box = Unchecked(shared: W)
        DispatchQueue.concurrentPerform(iterations: 9) { worker in
            for k in 0..<300 {
                if worker == 8 {
                    try? box.shared.setValue(k % 2 == 0 ? ones : zeros)
                } else if let s = try? f()[0].item() {
                    calls.withLock { $0 += 1 }
                    if s != 0 && s != 4096 { bad.withLock { $0 += 1 } }
                }
            }
        }
        let (made, wrong) = (calls.withLock { $0 }, bad.withLock { $0 })
        #expect(made == 2400)
        #expect(wrong == 0)
    }

    /// NaN and inf in data are not errors: they propagate as NumPy's do.
    @Test func nanAndInfinityPropagate() throws {
        let x = dvector("x")
        let values: [Double] = [.nan, .infinity, -.infinity]
        let out = try function(inputs: [x], outputs: [exp(x) * 2 + 1]).call([values])[0].doubles
        #expect(out[0].isNaN && out[1] == .infinity && out[2] == 1)
    }
}

func mountTmpfs(_ dir: URL, size: String) -> Bool {
    run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir.path])
}

func umountQuietly(_ dir: URL) -> Bool { run("/bin/umount", [dir.path]) }

private func run(_ tool: String, _ arguments: [String]) -> Bool {
    guard FileManager.default.isExecutableFile(atPath: tool) else { return false }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Inputs that are not errors, and what they give (docs/RELIABILITY.md, "Not errors").
struct EdgeBehaviourTests {
    @Test(arguments: [Mode.fastRun, .fastCompile, .debug])
    func integerDivisionByZeroGivesZeroAsNumPy(mode: Mode) throws {
        let a = lvector("a")
        let b = lvector("b")
        let f = try function(inputs: [a, b], outputs: [intdiv(a, b), a % b], mode: mode)
        let r = try f.call([[7, -7, 3], [0, 0, 2]])
        #expect(r[0].doubles == [0, 0, 1] && r[1].doubles == [0, 0, 1])
    }

    @Test func windowsLargerThanTheImageGiveEmptyOutputs() throws {
        let x = dtensor4("x")
        let w = dtensor4("w")
        let image = BadInputCatalogueTests.floats([1, 1, 2, 2])
        let filters = BadInputCatalogueTests.floats([1, 1, 3, 3])
        #expect(try function(inputs: [x, w], outputs: [conv2d(x, w)]).call([image, filters])[0].shape == [1, 1, 0, 0])
        let pooled = try function(inputs: [x], outputs: [pool2d(x, window: (3, 3), ignoreBorder: true)]).call([image])[
            0]
        #expect(pooled.shape == [1, 1, 0, 0])
    }

    @Test func theMeanOfNothingIsNaN() throws {
        let v = dvector("v")
        let out = try function(inputs: [v], outputs: [mean(v), sum(v)]).call([BadInputCatalogueTests.floats([0])])
        #expect(try out[0].item().isNaN && out[1].item() == 0)
    }
}
