import Foundation
import NDArray

extension MNIST {
    /// Writes a small data set in MNIST's format (four gzip'd IDX files) into `dir`: 28×28 digits
    /// where each class is its own pair of strokes, with noise, so models learn it in a few steps.
    /// It is what tests and examples use on a machine without the real digits.
    ///
    /// ```swift
    /// try MNIST.writeSynthetic(to: dir, trainCount: 600, testCount: 100)
    /// let data = try MNIST.load(from: dir, validationCount: 100)
    /// ```
    public static func writeSynthetic(
        to dir: URL, trainCount: Int = 1_200, testCount: Int = 200,
        seed: UInt64 = 1
    ) throws {
        guard trainCount > 0, testCount > 0 else {
            let counts = "train \(trainCount), test \(testCount)"
            throw DatasetError.io("MNIST.writeSynthetic: counts must be positive (\(counts))")
        }
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw DatasetError.io("cannot create \(dir.path): \(error.localizedDescription)")
        }
        var rng = SplitMix64(seed: seed)
        for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
            var pixels = [UInt8](repeating: 0, count: count * 784)
            var labels = [UInt8](repeating: 0, count: count)
            for i in 0..<count {
                let digit = Int(rng.next() % 10)
                labels[i] = UInt8(digit)
                drawDigit(digit, into: &pixels, at: i * 784, rng: &rng)
            }
            try IDX.write(
                try NDArray(pixels, shape: [count, 28, 28]),
                to: dir.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"), gzip: true)
            try IDX.write(
                try NDArray(labels, shape: [count]),
                to: dir.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"), gzip: true)
        }
    }

    /// A horizontal stroke on row 3 + 2·digit and a vertical one on column 3 + 2·digit, each
    /// jittered by a pixel, plus sparse noise.
    private static func drawDigit(_ digit: Int, into pixels: inout [UInt8], at base: Int, rng: inout SplitMix64) {
        let row = 3 + 2 * digit + Int(rng.next() % 2)
        let column = 3 + 2 * digit + Int(rng.next() % 2)
        for k in 4..<24 {
            pixels[base + row * 28 + k] = 255
            pixels[base + k * 28 + column] = UInt8(128 + rng.next() % 128)
        }
        for _ in 0..<20 { pixels[base + Int(rng.next() % 784)] = UInt8(rng.next() % 256) }
    }
}
