import Foundation

extension MNIST {
    /// Where downloaded MNIST is kept: `$XDG_CACHE_HOME/theano-swift/mnist`, else
    /// `~/.cache/theano-swift/mnist`; nil when neither variable is set.
    ///
    /// ```swift
    /// MNIST.cacheDirectory()?.path      // "/home/me/.cache/theano-swift/mnist"
    /// ```
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("theano-swift/mnist")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/theano-swift/mnist")
        }
        return nil
    }

    /// ``locate(explicit:environment:currentDirectory:)``, and when nothing is found (and no
    /// `explicit` folder was named) the four files downloaded into ``cacheDirectory(environment:)``
    /// by `downloader`, verified and written atomically; later calls find them there. With
    /// `download: false`, or when the download fails, it throws the not-found error with the fix.
    ///
    /// ```swift
    /// let dir = try MNIST.locateOrDownload { file, got, total in print(file, got, total ?? 0) }
    /// let data = try MNIST.load(from: dir)
    /// ```
    public static func locateOrDownload(
        explicit: String? = nil, download: Bool = true, downloader: MNISTDownloader = MNISTDownloader(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        starting: (URL) -> Void = { _ in },
        progress: @escaping @Sendable (String, Int64, Int64?) -> Void = { _, _, _ in }
    ) throws -> URL {
        do {
            return try locate(explicit: explicit, environment: environment, currentDirectory: currentDirectory)
        } catch DatasetError.notFound(let searched) {
            guard download, explicit == nil, let cache = cacheDirectory(environment: environment) else {
                throw DatasetError.notFound(searched: searched)
            }
            starting(cache)
            do { try downloader.fetch(to: cache, progress: progress) } catch {
                throw DatasetError.downloadFailed(searched: searched, into: cache.path, reason: "\(error)")
            }
            return cache
        }
    }
}
