import ArgumentParser
import Foundation
import Theano

/// `theano cache`: where native kernels are cached, and how to clear or pre-fill the cache.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show, clear or warm the compiled-kernel cache (THEANO_FLAGS=compiledir=… moves it).")

    @Flag(help: "Delete every cached kernel module.") var clear = false
    @Flag(help: "Compile the demo's functions now, so later runs load them from the cache.") var warm = false

    func run() throws {
        if clear { try NativeCode.clearCache() }
        if warm {
            let a = vector("a")
            let f = try function(inputs: [a], outputs: [a + a ** 10, exp(-a) * tanh(a) + a ** 2])
            let r = try f([0, 1, 2])
            guard r[0].doubles == [0, 2, 1026] else { throw ValidationError("warm-up kernel gave \(r[0])") }
        }
        let (modules, bytes) = NativeCode.cacheContents()
        print("compiler:", NativeCode.compiler ?? "none (reference kernels)")
        print("cache:", NativeCode.cacheDirectory)
        print("modules: \(modules), \(bytes / 1024) KiB")
    }
}
