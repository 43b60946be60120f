import ArgumentParser
import Datasets
import Foundation

/// `theano fetch-mnist`: downloads and verifies the four MNIST files.
struct FetchMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-mnist",
        abstract: "Download MNIST (four gzip'd IDX files), verify sizes and MD5s, write atomically.")

    @Option(help: "Destination folder.") var to = "data/mnist"
    @Option(help: "Mirror base URL (repeatable; tried in order). Default: the usual public mirrors.")
    var mirror: [String] = []
    @Option(help: "Attempts per file and mirror.") var attempts = 3

    func run() throws {
        let downloader = MNISTDownloader(
            mirrors: mirror.isEmpty ? MNISTDownloader.defaultMirrors : mirror, attempts: attempts)
        let reporter = ProgressLine()
        do {
            try downloader.fetch(to: URL(fileURLWithPath: to)) { name, got, total in reporter.show(name, got, total) }
        } catch {
            reporter.finish()
            throw CommandFailure("\(error)")
        }
        reporter.finish()
        print("MNIST is in \(to) (verified: sizes and MD5s)")
    }
}

/// One progress line on stderr, rewritten in place.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast
    private var shown = false

    func show(_ name: String, _ got: Int64, _ total: Int64?) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 || got == total else { return }
        last = now
        shown = true
        let pct = total.map { String(format: " %5.1f %%", 100 * Double(got) / Double(max($0, 1))) } ?? ""
        FileHandle.standardError.write(Data("\r\(name): \(got / 1024) KiB\(pct)   ".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }

    /// Ends the line when anything was shown (a run that found its data shows nothing).
    func finishIfShown() {
        lock.lock()
        let any = shown
        lock.unlock()
        if any { finish() }
    }
}
