import ArgumentParser
import Datasets
import Foundation
import NDArray

/// Options every data-driven command shares.
struct DataOptions: ParsableArguments {
    @Option(help: "MNIST folder (default: $MNIST_DIR, ./data/mnist, ../shared/data/mnist).")
    var data: String?

    @Flag(help: "Compute in float64 instead of float32.") var float64 = false

    var dtype: DType { float64 ? .float64 : .float32 }

    func load() throws -> MNIST {
        do { return try MNIST.load(from: try MNIST.locate(explicit: data), dtype: dtype) } catch let e as DatasetError {
            throw ValidationError("\(e)")
        }
    }
}
