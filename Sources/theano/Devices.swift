import ArgumentParser
import Theano

/// `theano devices`: the CUDA driver, devices and NVRTC this machine has, and the simulator.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the CUDA driver, devices and NVRTC found here, and whether device=cuda-sim can run.")

    func run() throws {
        for line in CUDAStatus.report() { print(line) }
    }
}
