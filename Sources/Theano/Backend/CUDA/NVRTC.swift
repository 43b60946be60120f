import Foundation

/// NVIDIA's run-time CUDA compiler, loaded with `dlopen` so that nothing of CUDA is needed to
/// build or to run on the CPU. It runs without a GPU: the compile tests use it on any machine.
///
/// ```swift
/// let cubin = try NVRTC.load().compile(source, name: "k.cu", architecture: 90)
/// ```
struct NVRTC: @unchecked Sendable {
    private typealias Create =
        @convention(c) (
            UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
            UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
        ) -> Int32
    private typealias Compile = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private typealias Size = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    private typealias Bytes = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
    private typealias Destroy = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias Version = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32

    /// The library that was loaded.
    let path: String
    /// NVRTC's version, (major, minor).
    let version: (major: Int, minor: Int)
    private let create: Create, compileProgram: Compile, destroy: Destroy
    private let logSize: Size, log: Bytes, cubinSize: Size, cubin: Bytes

    /// Where NVRTC is looked for, in order: `THEANO_NVRTC` (the library's path), the CUDA
    /// toolkit (`$CUDA_HOME/lib64`, `/usr/local/cuda/lib64`), the wheel `scripts/setup` installs
    /// (`<cache>/cuda/nvidia/cu13/lib`), PyTorch's (`/opt/torch/.venv/…/nvidia/cu13/lib`), then
    /// the dynamic loader's own search (`libnvrtc.so.13`, `libnvrtc.so.12`).
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment["THEANO_NVRTC"], !explicit.isEmpty { paths.append(explicit) }
        let cache =
            (environment["XDG_CACHE_HOME"].map { $0 + "/theano-swift" })
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/theano-swift"
        var folders = [environment["CUDA_HOME"].map { $0 + "/lib64" }, "/usr/local/cuda/lib64"].compactMap { $0 }
        folders += [cache + "/cuda/nvidia/cu13/lib", "/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib"]
        for folder in folders {
            for name in ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"] { paths.append(folder + "/" + name) }
        }
        return paths + ["libnvrtc.so.13", "libnvrtc.so.12"]
    }

    /// The process's NVRTC, looked for once (loading it takes up to a tenth of a second).
    static let shared: Result<NVRTC, any Error> = Result { try load() }

    /// Why NVRTC cannot be used here, or nil when it can (for tests that need it).
    static var unavailableReason: String? {
        if case .failure(let e) = shared { return "\(e)" }
        return nil
    }

    /// The first NVRTC found; throws, naming every place searched, when there is none.
    static func load() throws -> NVRTC {
        var tried: [String] = []
        for path in candidates() {
            let isFile = path.contains("/")
            if isFile && !FileManager.default.fileExists(atPath: path) { continue }
            tried.append(path)
            // NVRTC 13.0 opens its builtins library by bare name: preload it from the same folder.
            if isFile { preloadBuiltins(besides: path) }
            guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else { continue }
            if let nvrtc = NVRTC(handle: handle, path: path) { return nvrtc }
        }
        throw TheanoError(
            .config,
            "NVRTC (libnvrtc.so.13 or .12) was not found; searched: \(candidates().joined(separator: ", ")). "
                + "Set THEANO_NVRTC to the library, or run scripts/setup to install NVIDIA's wheel")
    }

    private static func preloadBuiltins(besides path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names.sorted() where name.hasPrefix("libnvrtc-builtins.so") {
            _ = dlopen(folder + "/" + name, RTLD_NOW | RTLD_GLOBAL)
        }
    }

    private init?(handle: UnsafeMutableRawPointer, path: String) {
        func symbol<T>(_ name: String, _: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let create = symbol("nvrtcCreateProgram", Create.self),
            let compile = symbol("nvrtcCompileProgram", Compile.self),
            let destroy = symbol("nvrtcDestroyProgram", Destroy.self),
            let logSize = symbol("nvrtcGetProgramLogSize", Size.self),
            let log = symbol("nvrtcGetProgramLog", Bytes.self),
            let cubinSize = symbol("nvrtcGetCUBINSize", Size.self),
            let cubin = symbol("nvrtcGetCUBIN", Bytes.self),
            let version = symbol("nvrtcVersion", Version.self)
        else { return nil }
        var major: Int32 = 0
        var minor: Int32 = 0
        guard version(&major, &minor) == 0 else { return nil }
        self.path = path
        self.version = (Int(major), Int(minor))
        self.create = create
        self.compileProgram = compile
        self.destroy = destroy
        self.logSize = logSize
        self.log = log
        self.cubinSize = cubinSize
        self.cubin = cubin
    }

    /// The options every module is compiled with.
    static func options(architecture: Int) -> [String] {
        ["--gpu-architecture=sm_\(architecture)", "--std=c++17", "-default-device"]
    }

    /// `source` compiled to a CUBIN for `sm_<architecture>` (a CUBIN, not PTX: a driver older
    /// than this NVRTC refuses its newer PTX, see docs/GPU.md). Throws with the compiler's log.
    func compile(_ source: String, name: String, architecture: Int) throws -> [UInt8] {
        var program: OpaquePointer?
        let created = create(&program, source, name, 0, nil, nil)
        guard created == 0, program != nil else {
            throw TheanoError(.runtime, "NVRTC could not create a program for \(name) (error \(created))")
        }
        defer { _ = destroy(&program) }
        let options = Self.options(architecture: architecture)
        let status = withCStrings(options) { compileProgram(program, Int32(options.count), $0) } ?? -1
        guard status == 0 else {
            throw TheanoError(
                .runtime,
                "NVRTC failed on \(name) for sm_\(architecture) (error \(status)):\n"
                    + programLog(program))
        }
        var size = 0
        guard cubinSize(program, &size) == 0, size > 0 else {
            throw TheanoError(.runtime, "NVRTC produced no CUBIN for \(name)")
        }
        var bytes = [CChar](repeating: 0, count: size)
        guard cubin(program, &bytes) == 0 else { throw TheanoError(.runtime, "NVRTC could not return \(name)'s CUBIN") }
        return bytes.map { UInt8(bitPattern: $0) }
    }

    private func programLog(_ program: OpaquePointer?) -> String {
        var size = 0
        guard logSize(program, &size) == 0, size > 1 else { return "" }
        var text = [CChar](repeating: 0, count: size)
        guard log(program, &text) == 0 else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `body` with `strings` as a C array of C strings (nil for no strings).
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R? {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { buffer in buffer.baseAddress.map(body) }
}
