import Foundation
import NDArray

/// MNIST with the classic deep-learning tutorials' split and scaling: train = the first 50,000
/// training images, valid = the last 10,000, test = t10k; pixels as `value / 256`; labels int32.
///
/// ```swift
/// let data = try MNIST.load(from: try MNIST.locate())
/// data.train.images.shape     // [50000, 784]
/// ```
public struct MNIST: Sendable {
    /// Images as rows of 784 pixels in [0, 1) and their labels.
    public struct Split: Sendable {
        public let images: NDArray
        public let labels: NDArray
        public var count: Int { labels.count }
    }

    public let train: Split
    public let valid: Split
    public let test: Split

    public static let files = [
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
    ]

    /// Where the data is: `explicit` (the `--data` option), else `MNIST_DIR`, else `./data/mnist`,
    /// else `../shared/data/mnist`, else the user cache (``cacheDirectory(environment:)``, where
    /// ``locateOrDownload(explicit:download:downloader:environment:currentDirectory:progress:)``
    /// puts it). Throws ``DatasetError/notFound(searched:)`` listing them.
    public static func locate(
        explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> URL {
        var candidates: [String] = []
        if let e = explicit {
            candidates.append(e)
        } else {
            if let env = environment["MNIST_DIR"], !env.isEmpty { candidates.append(env) }
            candidates.append(currentDirectory + "/data/mnist")
            candidates.append(currentDirectory + "/../shared/data/mnist")
            if let cache = cacheDirectory(environment: environment) { candidates.append(cache.path) }
        }
        for c in candidates where hasFiles(c) { return URL(fileURLWithPath: c).standardizedFileURL }
        throw DatasetError.notFound(searched: candidates.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
    }

    static func hasFiles(_ dir: String) -> Bool {
        files.allSatisfy { f in
            FileManager.default.fileExists(atPath: "\(dir)/\(f).gz")
                || FileManager.default.fileExists(atPath: "\(dir)/\(f)")
        }
    }

    static func file(_ dir: URL, _ name: String) -> URL {
        let gz = dir.appendingPathComponent(name + ".gz")
        return FileManager.default.fileExists(atPath: gz.path) ? gz : dir.appendingPathComponent(name)
    }

    /// Loads the four files from `dir` (gzip'd or not) with pixels in `dtype`; the last
    /// `validationCount` training images are the validation split (10,000 in the tutorials).
    public static func load(from dir: URL, dtype: DType = .float32, validationCount: Int = 10_000) throws -> MNIST {
        let trainImages = try IDX.read(file(dir, files[0]), expectedMagic: 0x0803)
        let trainLabels = try IDX.read(file(dir, files[1]), expectedMagic: 0x0801)
        let testImages = try IDX.read(file(dir, files[2]), expectedMagic: 0x0803)
        let testLabels = try IDX.read(file(dir, files[3]), expectedMagic: 0x0801)
        guard validationCount >= 0, trainImages.ndim == 3, trainImages.shape[0] == trainLabels.count,
            trainImages.shape[0] > validationCount,
            testImages.ndim == 3, testImages.shape[0] == testLabels.count
        else {
            let shapes =
                "train \(trainImages.shape) / \(trainLabels.shape), "
                + "test \(testImages.shape) / \(testLabels.shape)"
            let why =
                "image and label counts do not match, or \(validationCount) validation images "
                + "leave none to train on"
            throw DatasetError.corrupt(file: dir.path, reason: "\(why): \(shapes)")
        }
        let n = trainImages.shape[0]
        let nTrain = n - validationCount
        func split(_ images: NDArray, _ labels: NDArray, _ range: Range<Int>) throws -> Split {
            let pixels = images.shape[1] * images.shape[2]
            let rows = try images.sliced([.range(start: range.lowerBound, stop: range.upperBound, step: 1)])
                .reshaped([range.count, pixels])
            let x = rows.mapElements(to: dtype) { $0 / 256 }
            let y = try labels.sliced([.range(start: range.lowerBound, stop: range.upperBound, step: 1)]).cast(
                to: .int32)
            return Split(images: x, labels: y)
        }
        return MNIST(
            train: try split(trainImages, trainLabels, 0..<nTrain),
            valid: try split(trainImages, trainLabels, nTrain..<n),
            test: try split(testImages, testLabels, 0..<testImages.shape[0]))
    }

    /// The first `train` training images and the first `evaluation` validation and test images
    /// (each at most what the split holds): small runs for smoke tests, as the anchors'
    /// `--n-train` and `--n-eval`.
    public func prefix(train: Int, evaluation: Int) throws -> MNIST {
        func first(_ s: Split, _ n: Int) throws -> Split {
            let r: [AxisIndex] = [.range(start: 0, stop: min(max(n, 0), s.count), step: 1)]
            return Split(images: try s.images.sliced(r), labels: try s.labels.sliced(r))
        }
        return MNIST(
            train: try first(self.train, train), valid: try first(valid, evaluation), test: try first(test, evaluation))
    }
}
