import Foundation
import Testing

@testable import Theano

/// The CUDA driver is found at run time or reported clearly: on a machine without an NVIDIA
/// driver, one error names every place searched; on a GPU machine, the devices' facts.
struct CUDADriverTests {
    static let hasDriver = dlopen("libcuda.so.1", RTLD_NOW) != nil

    @Test(
        "without a driver, the error names every place searched and what to do",
        .enabled(if: !hasDriver, "this machine has a CUDA driver"))
    func missingDriver() throws {
        let e = #expect(throws: TheanoError.self) { _ = try CUDADriver.load() }
        let text = e?.description ?? ""
        #expect(
            text.contains("libcuda.so.1") && text.contains("searched") && text.contains("THEANO_CUDA_DRIVER"), "\(text)"
        )
        #expect(e?.kind == .config)
    }

    @Test("THEANO_CUDA_DRIVER is searched first")
    func searchOrder() {
        let paths = CUDADriver.candidates(environment: ["THEANO_CUDA_DRIVER": "/opt/x/libcuda.so.1"])
        #expect(paths.first == "/opt/x/libcuda.so.1" && paths.dropFirst().first == "libcuda.so.1")
        #expect(CUDADriver.candidates(environment: [:]).first == "libcuda.so.1")
    }

    @Test(
        "on a GPU machine, each device has a name and an architecture of at least sm_50",
        .enabled(if: hasDriver, "no CUDA driver on this machine"))
    func devices() throws {
        let driver = try CUDADriver.load()
        let n = try driver.count()
        #expect(n >= 1)
        for i in 0..<n {
            let d = try driver.device(i)
            #expect(!d.name.isEmpty && d.architecture >= 50, "\(d)")
        }
        #expect(throws: TheanoError.self) { _ = try driver.device(n) }
    }
}
