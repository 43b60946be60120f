/// Errors reading or fetching datasets; each names the file and what was wrong.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// No data directory was found; lists where it looked.
    case notFound(searched: [String])
    case missingFile(String)
    /// The file exists but its contents are wrong (magic number, sizes, compression, checksum).
    case corrupt(file: String, reason: String)
    case io(String)
    case download(url: String, reason: String)
    /// Nothing was found and downloading into `into` failed too.
    case downloadFailed(searched: [String], into: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let searched):
            return "MNIST not found. Looked in:\n" + searched.map { "  - \($0)" }.joined(separator: "\n")
                + "\nPass --data DIR, set MNIST_DIR, leave out --no-download (tutorial commands then download it"
                + " into the user cache), or download the four files with `theano fetch-mnist --to ./data/mnist`."
        case .downloadFailed(let searched, let into, let reason):
            return DatasetError.notFound(searched: searched).description
                + "\nDownloading it into \(into) failed: \(reason)"
        case .missingFile(let f): return "missing file \(f)"
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .io(let s): return s
        case .download(let url, let reason): return "download of \(url) failed: \(reason)"
        }
    }
}
