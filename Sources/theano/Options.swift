import ArgumentParser
import Datasets
import Foundation
import NDArray

/// Options every data-driven command shares.
struct DataOptions: ParsableArguments {
    @Option(help: "MNIST folder (default: $MNIST_DIR, ./data/mnist, ../shared/data/mnist, the user cache).")
    var data: String?

    @Flag(help: "When no MNIST is found, stop instead of downloading it into the user cache.")
    var noDownload = false

    @Flag(help: "Compute in float64 instead of float32.") var float64 = false

    @Option(help: "Train on the first N training images only (smoke tests).") var nTrain: Int?
    @Option(help: "Validate and test on the first N images of each split only (smoke tests).") var nEval: Int?

    var dtype: DType { float64 ? .float64 : .float32 }

    /// The data, downloaded into the user cache first when it is nowhere to be found.
    func load() throws -> MNIST {
        let reporter = ProgressLine()
        // THEANO_MNIST_MIRRORS (comma-separated base URLs) replaces the public mirrors.
        let mirrors =
            ProcessInfo.processInfo.environment["THEANO_MNIST_MIRRORS"]?
            .split(separator: ",").map(String.init).filter { !$0.isEmpty } ?? []
        let downloader = MNISTDownloader(mirrors: mirrors.isEmpty ? MNISTDownloader.defaultMirrors : mirrors)
        do {
            let dir = try MNIST.locateOrDownload(
                explicit: data, download: !noDownload, downloader: downloader,
                starting: { cache in
                    FileHandle.standardError.write(Data("MNIST not found; downloading it into \(cache.path)\n".utf8))
                }, progress: { name, got, total in reporter.show(name, got, total) })
            reporter.finishIfShown()
            let all = try MNIST.load(from: dir, dtype: dtype)
            guard nTrain != nil || nEval != nil else { return all }
            return try all.prefix(train: nTrain ?? all.train.count, evaluation: nEval ?? all.valid.count)
        } catch let e as DatasetError {
            reporter.finishIfShown()
            throw CommandFailure("\(e)")
        }
    }
}

/// A failure that is not a usage mistake (no data, a failed download): ArgumentParser prints
/// its message alone, without the usage lines, and exits with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--checkpoint DIR` and `--resume`, which every tutorial command takes.
struct CheckpointOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "After each epoch, save the parameters, random-stream states and progress here.",
            valueName: "dir"))
    var checkpoint: String?

    @Flag(help: "Go on from the checkpoint in --checkpoint DIR (start over when there is none).")
    var resume = false

    func validate() throws {
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint DIR") }
    }

    var directory: URL? { checkpoint.map { URL(fileURLWithPath: $0) } }
}
