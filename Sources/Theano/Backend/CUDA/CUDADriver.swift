import Foundation

/// The CUDA driver API (`libcuda.so.1`), loaded with `dlopen`: nothing of CUDA is needed to
/// build, and a machine without a GPU gets one error naming every place searched.
///
/// It uses the primary context of the chosen device (`cuDevicePrimaryCtxRetain`, which cuBLAS
/// shares; CUDA 13 renamed `cuCtxCreate`) and the versioned symbols (`cuMemAlloc_v2`, …).
///
/// ```swift
/// let driver = try CUDADriver.load()
/// let device = try driver.device(0)
/// print(device.name, device.architecture)   // NVIDIA H200 90
/// ```
struct CUDADriver: @unchecked Sendable {
    typealias Status = Int32
    private typealias Init = @convention(c) (UInt32) -> Status
    private typealias Count = @convention(c) (UnsafeMutablePointer<Int32>) -> Status
    private typealias Get = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Status
    private typealias Attribute = @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Status
    private typealias Name = @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Status
    private typealias ErrorName = @convention(c) (Status, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Status

    /// A device's facts.
    struct Device: Sendable {
        let ordinal: Int
        let name: String
        /// The compute capability as one number: 90 for 9.0 (the CUBIN's `sm_90`).
        let architecture: Int
    }

    /// The library that was loaded.
    let path: String
    private let handle: UnsafeMutableRawPointer
    private let deviceCount: Count, get: Get, attribute: Attribute, deviceName: Name
    private let errorName: ErrorName?

    /// Where the driver is looked for, in order: `THEANO_CUDA_DRIVER` (the library's path), the
    /// dynamic loader's search (`libcuda.so.1`, as the driver installs it), then the usual
    /// folders of Debian/Ubuntu packages and of the CUDA toolkit's compatibility libraries.
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment["THEANO_CUDA_DRIVER"], !explicit.isEmpty { paths.append(explicit) }
        return paths + [
            "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1",
            "/usr/local/cuda/compat/libcuda.so.1"
        ]
    }

    /// The driver, initialised; throws naming the places searched when there is none, or the
    /// driver's own error when it cannot start (no device, a driver older than needed).
    static func load() throws -> CUDADriver {
        let searched = candidates()
        for path in searched {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else { continue }
            guard let driver = CUDADriver(handle: handle, path: path) else {
                throw TheanoError(.config, "\(path) is not a CUDA driver this library can use (missing symbols)")
            }
            return driver
        }
        throw TheanoError(
            .config,
            "no CUDA driver (libcuda.so.1) was found; searched: \(searched.joined(separator: ", ")). "
                + "device=cuda needs an NVIDIA GPU and its driver; set THEANO_CUDA_DRIVER to the library if it is "
                + "elsewhere")
    }

    private init?(handle: UnsafeMutableRawPointer, path: String) {
        func symbol<T>(_ name: String, _: T.Type) -> T? { dlsym(handle, name).map { unsafeBitCast($0, to: T.self) } }
        guard let initialise = symbol("cuInit", Init.self), let count = symbol("cuDeviceGetCount", Count.self),
            let get = symbol("cuDeviceGet", Get.self), let attribute = symbol("cuDeviceGetAttribute", Attribute.self),
            let name = symbol("cuDeviceGetName", Name.self)
        else { return nil }
        self.path = path
        self.handle = handle
        deviceCount = count
        self.get = get
        self.attribute = attribute
        deviceName = name
        errorName = symbol("cuGetErrorName", ErrorName.self)
        initStatus = initialise(0)
    }

    /// The driver's entry point `name` as a C function of type `T`; throws when this driver has
    /// no such symbol.
    func entry<T>(_ name: String, _: T.Type) throws -> T {
        guard let p = dlsym(handle, name) else {
            throw TheanoError(.config, "the CUDA driver \(path) has no \(name): it is older than CUDA 12")
        }
        return unsafeBitCast(p, to: T.self)
    }

    /// What `cuInit` said (0: ready).
    let initStatus: Status

    /// `status` as a thrown error naming `call`, or nothing for success.
    func check(_ status: Status, _ call: String) throws {
        guard status != 0 else { return }
        var text: UnsafePointer<CChar>?
        let name = errorName.flatMap { $0(status, &text) == 0 ? text.map { String(cString: $0) } : nil }
        throw TheanoError(.runtime, "CUDA \(call) failed: \(name ?? "error \(status)")")
    }

    /// The number of devices.
    func count() throws -> Int {
        try check(initStatus, "cuInit")
        var n: Int32 = 0
        try check(deviceCount(&n), "cuDeviceGetCount")
        return Int(n)
    }

    /// Device `ordinal`'s facts; throws when there is no such device.
    func device(_ ordinal: Int) throws -> Device {
        let n = try count()
        guard ordinal >= 0, ordinal < n else {
            throw TheanoError(.config, "device=cuda\(ordinal): this machine has \(n) CUDA device(s)")
        }
        var d: Int32 = 0
        try check(get(&d, Int32(ordinal)), "cuDeviceGet")
        var major: Int32 = 0
        var minor: Int32 = 0
        // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR.
        try check(attribute(&major, 75, d), "cuDeviceGetAttribute")
        try check(attribute(&minor, 76, d), "cuDeviceGetAttribute")
        var name = [CChar](repeating: 0, count: 256)
        try check(deviceName(&name, 256, d), "cuDeviceGetName")
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Device(ordinal: ordinal, name: text, architecture: Int(major * 10 + minor))
    }
}
