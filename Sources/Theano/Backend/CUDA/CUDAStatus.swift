/// What this machine offers the CUDA backend, for `theano devices` and diagnostics.
///
/// ```swift
/// for line in CUDAStatus.report() { print(line) }
/// ```
public enum CUDAStatus {
    /// One line per fact: the driver (or why there is none), each device with its architecture,
    /// NVRTC (or why there is none), and the simulated device, which needs only a C compiler.
    public static func report() -> [String] {
        var lines: [String] = []
        do {
            let driver = try CUDADriver.load()
            lines.append("driver: \(driver.path)")
            let n = try driver.count()
            for i in 0..<n {
                let d = try driver.device(i)
                lines.append("cuda\(i): \(d.name), sm_\(d.architecture)")
            }
            if n == 0 { lines.append("cuda: no device") }
        } catch {
            lines.append("driver: none (\(error))")
        }
        if let nvrtc = try? NVRTC.shared.get() {
            lines.append("nvrtc: \(nvrtc.path), version \(nvrtc.version.major).\(nvrtc.version.minor)")
        } else {
            lines.append("nvrtc: none (THEANO_NVRTC, or scripts/setup, provides it)")
        }
        let sim = NativeCompiler.shared != nil ? "available" : "unavailable (no C compiler)"
        lines.append("cuda-sim: \(sim)")
        return lines
    }
}
