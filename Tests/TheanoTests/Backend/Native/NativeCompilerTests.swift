import Foundation
import NDArray
import Testing

@testable import Theano

/// A fresh, empty cache directory.
func temporaryCache() -> String {
    let dir = NSTemporaryDirectory() + "theano-cache-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A small module with one exported function returning `value`.
func tinySource(_ value: Int) -> String { "int th_answer(void) { return \(value); }\n" }

func answer(_ module: NativeModule) throws -> Int32 {
    typealias F = @convention(c) () -> Int32
    let sym = try #require(module.symbol("th_answer"))
    return unsafeBitCast(sym, to: F.self)()
}

@Suite("Native compiler driver and kernel cache")
struct NativeCompilerTests {
    let compiler = NativeCompiler.make(Config())

    @Test func compilesThenLoadsFromTheDiskCache() throws {
        let cc = try #require(compiler, "no C compiler")
        let dir = temporaryCache()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = NativeCompiler(path: cc.path, flags: cc.flags, cacheDirectory: dir)
        #expect(try answer(try first.load(tinySource(41))) == 41)
        let key = first.key(tinySource(41))
        let so = dir + "/" + key + ".so"
        let built = try FileManager.default.attributesOfItem(atPath: so)[.modificationDate] as? Date
        // A new compiler object (as in a new process) finds the module instead of compiling.
        let second = NativeCompiler(path: cc.path, flags: cc.flags, cacheDirectory: dir)
        #expect(try answer(try second.load(tinySource(41))) == 41)
        #expect(try FileManager.default.attributesOfItem(atPath: so)[.modificationDate] as? Date == built)
        // Only finished files are left: the source beside its object, no temporaries.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == [key + ".c", key + ".so"])
        // A cached source that does not match (a hash collision, a tampered file) is rebuilt.
        try "int th_answer(void) { return 0; }\n".write(
            toFile: dir + "/" + key + ".c", atomically: true, encoding: .utf8)
        let third = NativeCompiler(path: cc.path, flags: cc.flags, cacheDirectory: dir)
        #expect(try answer(try third.load(tinySource(41))) == 41)
        #expect(try String(contentsOfFile: dir + "/" + key + ".c", encoding: .utf8) == tinySource(41))
    }

    @Test func keysDependOnSourceFlagsAndCompiler() throws {
        let cc = try #require(compiler, "no C compiler")
        let a = NativeCompiler(path: cc.path, flags: cc.flags, cacheDirectory: "/unused")
        let b = NativeCompiler(path: cc.path, flags: cc.flags + ["-g"], cacheDirectory: "/unused")
        #expect(a.key("x") == a.key("x") && a.key("x") != a.key("y") && a.key("x") != b.key("x"))
        #expect(a.key("x").count == 64)
    }

    @Test func gccGetsO2WithTheVectoriserClangO3() {
        let gcc = NativeCompiler.flags(for: "/no/such/dir/x86_64-linux-gnu-gcc-12")
        #expect(Array(gcc.prefix(3)) == ["-O2", "-ftree-vectorize", "-fvect-cost-model=dynamic"])
        #expect(!gcc.contains("-O3") && gcc.contains("-march=native"))
        #expect(NativeCompiler.flags(for: "/no/such/dir/clang") == NativeCompiler.defaultFlags)
        #expect(NativeCompiler.defaultFlags.first == "-O3")
    }

    @Test func compileErrorsNameTheGeneratedSource() throws {
        let cc = try #require(compiler, "no C compiler")
        let dir = temporaryCache()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = NativeCompiler(path: cc.path, flags: cc.flags, cacheDirectory: dir)
        let e = try #require(throws: TheanoError.self) { try c.load("this is not C;\n") }
        #expect(e.kind == .compile)
        let failed = dir + "/" + c.key("this is not C;\n") + ".failed.c"
        #expect(e.message.contains(failed) && e.message.contains("error"), "\(e)")
        #expect(FileManager.default.fileExists(atPath: failed))
    }

    @Test func noCompilerMeansReferenceKernels() throws {
        #expect(NativeCompiler.make(try Config(flags: "cxx=/nonexistent/cc")) == nil)
        #expect(NativeCompiler.make(try Config(flags: "cxx=")) == nil)
        // An unwritable cache degrades the same way instead of failing every function.
        #expect(NativeCompiler.make(try Config(flags: "compiledir=/proc/theano-cache")) == nil)
    }

    /// Two processes compiling the same kernels into one empty cache at the same moment both
    /// succeed, and the cache ends up with one complete module.
    @Test func twoProcessesShareTheCache() throws {
        _ = try #require(compiler, "no C compiler")
        let binary = try #require(theanoExecutable(), "the theano executable is not built next to the tests")
        let dir = temporaryCache()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let processes = (0..<2).map { _ in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["cache", "--warm"]
            p.environment = ProcessInfo.processInfo.environment.merging(["THEANO_FLAGS": "compiledir=\(dir)"]) {
                _, new in new
            }
            p.standardOutput = FileHandle.nullDevice
            return p
        }
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(
            names.filter { $0.hasSuffix(".so") }.count == 1 && names.filter { $0.hasSuffix(".c") }.count == 1,
            "\(names)")
    }
}

/// The `theano` executable built beside the tests.
func theanoExecutable() -> String? {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "theano"
    ).path
    let alt = FileManager.default.currentDirectoryPath + "/.build/debug/theano"
    return [exe, alt].first { FileManager.default.isExecutableFile(atPath: $0) }
}

extension NativeCompilerTests {
    /// `theano bench --json` prints one JSON object per measurement (numbers, not timings, are
    /// checked here: speed targets live in bench/compare, not in tests).
    @Test func benchCommandPrintsJSON() throws {
        let binary = try #require(theanoExecutable(), "the theano executable is not built next to the tests")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["bench", "--only", "overhead,sgemm", "--repeats", "1", "--json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let rows = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("{") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { $0["workload"] as? String } == ["overhead", "sgemm"])
        #expect((rows.first?["x_plus_1_scalar_us_median"] as? Double).map { $0 > 0 } == true)
        #expect((rows.last?["fraction_of_direct"] as? Double).map { $0 > 0 } == true)
    }
}
