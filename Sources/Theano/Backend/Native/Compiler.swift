import Crypto
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loaded shared object of generated kernels. Never unloaded: compiled functions keep pointers
/// into it for as long as the process lives.
final class NativeModule: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// The `.so` file it was loaded from.
    let path: String

    init(handle: UnsafeMutableRawPointer, path: String) {
        self.handle = handle
        self.path = path
    }

    func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
}

/// Compiles generated C with the system's C compiler and caches the shared objects on disk.
///
/// The compiler is `THEANO_FLAGS=cxx=…`, else `$CC`, else `cc`, `gcc` or `clang` on `PATH`; an empty
/// `cxx=` turns native code off. It is launched with `posix_spawn` (Foundation's `Process` costs
/// ~50 ms more). The cache lives in `compiledir` (`$XDG_CACHE_HOME/theano-swift` or
/// `~/.cache/theano-swift`): each module is named by the SHA-256 of compiler identity, flags and
/// source, keeps its source beside it (compared on a hit), and is written under a temporary name
/// and renamed, so processes sharing the cache never see half-written files.
final class NativeCompiler: @unchecked Sendable {
    /// The compiler executable.
    let path: String
    let flags: [String]
    let cacheDirectory: String
    /// Path, size and modification time of the compiler: part of every cache key.
    private let identity: String
    private let loaded = Mutex<[String: NativeModule]>([:])
    private let rows = Mutex<(kernels: FixedKernels, parts: Set<FixedKernels.Part>)>((FixedKernels(), []))

    /// The fixed row and reduction kernels loaded so far, and which parts they cover.
    var fixedKernels: (kernels: FixedKernels, parts: Set<FixedKernels.Part>) { rows.withLock { $0 } }

    /// Adds a loaded part's kernels (under one lock, so that functions compiled on two threads
    /// at once cannot drop each other's parts).
    func addFixedKernels(_ part: FixedKernels.Part, from module: NativeModule) throws {
        try rows.withLock { state in
            try state.kernels.bind(part, module)
            state.parts.insert(part)
        }
    }

    init(path: String, flags: [String], cacheDirectory: String) {
        self.path = path
        self.flags = flags
        self.cacheDirectory = cacheDirectory
        var st = stat()
        let resolved =
            realpath(path, nil).map { p in
                defer { free(p) }
                return String(cString: p)
            } ?? path
        if stat(resolved, &st) == 0 {
            identity = "\(resolved) \(st.st_size) \(st.st_mtim.tv_sec)"
        } else {
            identity = resolved
        }
    }

    static let defaultFlags = [
        "-O3", "-march=native", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd",
        "-std=gnu11"
    ]

    /// The flags for a compiler: GCC gets `-O2` with `-O3`'s vectoriser instead of `-O3`, which
    /// vectorises these loops the same way but compiles a module in less time: its extra loop
    /// transformations find nothing to do in them (docs/NATIVE.md, "Figures behind the code"). Clang keeps
    /// `-O3` (it has no `-fvect-cost-model`, and its `-O3` costs little more than `-O2`).
    static func flags(for compiler: String) -> [String] {
        let resolved =
            realpath(compiler, nil).map { p in
                defer { free(p) }
                return String(cString: p)
            } ?? compiler
        let name = resolved.split(separator: "/").last.map(String.init) ?? resolved
        guard name.contains("gcc") && !name.contains("clang") else { return defaultFlags }
        return ["-O2", "-ftree-vectorize", "-fvect-cost-model=dynamic"] + defaultFlags.dropFirst()
    }

    /// The compiler the configuration asks for, or nil (with one warning) when there is none.
    static var shared: NativeCompiler? {
        let config = Config.current
        let key = "\(config.cxx ?? "<default>")|\(config.compiledir ?? "<default>")"
        return instances.withLock { cache in
            if let c = cache[key] { return c }
            let c = make(config)
            cache[key] = .some(c)
            return c
        }
    }

    private static let instances = Mutex<[String: NativeCompiler?]>([:])

    static func make(_ config: Config) -> NativeCompiler? {
        let env = ProcessInfo.processInfo.environment
        let requested = config.cxx ?? env["CC"]
        if requested == "" { return nil }
        let candidates = requested.map { [$0] } ?? ["cc", "gcc", "clang"]
        guard let found = candidates.lazy.compactMap(findExecutable).first else {
            Rewrites.warn(
                "no C compiler found (\(candidates.joined(separator: ", "))); elementwise kernels run on the "
                    + "reference implementation. Install gcc or clang, or set CC / THEANO_FLAGS=cxx=…"
            )
            return nil
        }
        let directory = config.compiledir ?? defaultCacheDirectory()
        // A cache that cannot be written is reported once; the kernels then run as reference code.
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil,
            access(directory, W_OK) == 0
        else {
            Rewrites.warn(
                "the kernel cache \(directory) cannot be written; elementwise kernels run on the reference "
                    + "implementation. Set THEANO_FLAGS=compiledir=… to a writable folder"
            )
            return nil
        }
        return NativeCompiler(path: found, flags: flags(for: found), cacheDirectory: directory)
    }

    static func defaultCacheDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        let base =
            env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
        return base + "/theano-swift"
    }

    private static func findExecutable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// The cache key of `source`.
    func key(_ source: String) -> String { Self.digest(identity + "\n" + flags.joined(separator: " ") + "\n" + source) }

    /// The SHA-256 of `text`, in hex: the kernel caches' file names.
    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads `source` compiled: from this process's modules, else from the disk cache, else by
    /// compiling it now.
    func load(_ source: String) throws -> NativeModule {
        let key = key(source)
        if let m = loaded.withLock({ $0[key] }) { return m }
        let base = cacheDirectory + "/" + key
        let module: NativeModule
        if let cached = try? String(contentsOfFile: base + ".c", encoding: .utf8), cached == source,
            let m = open(base + ".so")
        {
            module = m
        } else {
            module = try compile(source, to: base)
        }
        loaded.withLock { $0[key] = module }
        return module
    }

    /// Loads several sources; the ones that must be compiled are compiled at the same time
    /// (one compiler process per source, on its own thread).
    func loadAll(_ sources: [String]) throws -> [NativeModule] {
        if sources.count <= 1 { return try sources.map(load) }
        let results = Mutex<[Int: Result<NativeModule, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: sources.count) { i in
            let r = Result { try load(sources[i]) }
            results.withLock { $0[i] = r }
        }
        let done = results.withLock { $0 }
        return try (0..<sources.count).map { i in
            guard let r = done[i] else { throw TheanoError(.compile, "internal error: module \(i) was not loaded") }
            return try r.get()
        }
    }

    private func open(_ path: String) -> NativeModule? {
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        return NativeModule(handle: h, path: path)
    }

    private func compile(_ source: String, to base: String) throws -> NativeModule {
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw TheanoError(
                .compile,
                "cannot create the kernel cache \(cacheDirectory): \(error.localizedDescription) (set "
                    + "THEANO_FLAGS=compiledir=…)"
            )
        }
        let unique = "\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let tmpSource = "\(base).\(unique).c"
        let tmpObject = "\(base).\(unique).so"
        let log = "\(base).\(unique).log"
        guard FileManager.default.createFile(atPath: tmpSource, contents: Data(source.utf8)) else {
            throw TheanoError(.compile, "cannot write \(tmpSource)")
        }
        defer {
            unlink(tmpSource)
            unlink(log)
        }
        let status = try Self.spawn(path, flags + ["-o", tmpObject, tmpSource, "-lm"], stderrPath: log)
        guard status == 0 else {
            let failed = base + ".failed.c"
            rename(tmpSource, failed)
            unlink(tmpObject)
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TheanoError(
                .compile,
                "\(path) failed (exit \(status)) on the generated kernels in \(failed):\n\(output.prefix(4000))")
        }
        // The object first: a reader that finds the source also finds a complete object.
        guard rename(tmpObject, base + ".so") == 0, rename(tmpSource, base + ".c") == 0 else {
            unlink(tmpObject)
            throw TheanoError(
                .compile, "cannot move compiled kernels into \(cacheDirectory): \(String(cString: strerror(errno)))")
        }
        guard let m = open(base + ".so") else {
            throw TheanoError(
                .compile, "cannot load \(base).so: \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        return m
    }

    /// Runs `executable` with `arguments`, stderr and stdout to `stderrPath`; returns its exit status.
    static func spawn(_ executable: String, _ arguments: [String], stderrPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw TheanoError(.compile, "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw TheanoError(.compile, "waiting for \(executable) failed: \(String(cString: strerror(errno)))")
            }
        }
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
