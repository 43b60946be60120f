import Foundation
import NDArray

/// The IDX format of the MNIST files: big-endian magic (0x0803 images, 0x0801 labels), then one
/// big-endian int32 per dimension, then uint8 data.
public enum IDX {
    /// Reads an IDX file (gzip'd or not) as a uint8 array, checking the magic number, the
    /// dimensions and that the data is complete.
    public static func read(_ url: URL, expectedMagic: UInt32? = nil) throws -> NDArray {
        let name = url.lastPathComponent
        var data: Data
        do { data = try Data(contentsOf: url) } catch { throw DatasetError.missingFile(url.path) }
        if Gzip.isGzip(data) { data = try Gzip.decompress(data, file: name) }
        return try parse(data, file: name, expectedMagic: expectedMagic)
    }

    static func parse(_ data: Data, file: String, expectedMagic: UInt32?) throws -> NDArray {
        let b = [UInt8](data)
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(b[i + $1]) } }
        guard b.count >= 4 else {
            throw DatasetError.corrupt(file: file, reason: "too short for an IDX header (\(b.count) bytes)")
        }
        let magic = u32(0)
        guard magic >> 8 == 0x08, (1...4).contains(magic & 0xff) else {
            throw DatasetError.corrupt(
                file: file,
                reason: String(format: "bad magic number 0x%08x (expected 0x%08x)", magic, expectedMagic ?? 0x0803))
        }
        if let expectedMagic, magic != expectedMagic {
            throw DatasetError.corrupt(
                file: file, reason: String(format: "magic number 0x%08x, expected 0x%08x", magic, expectedMagic))
        }
        let nd = Int(magic & 0xff)
        guard b.count >= 4 + 4 * nd else { throw DatasetError.corrupt(file: file, reason: "truncated IDX header") }
        let dims = (0..<nd).map { Int(u32(4 + 4 * $0)) }
        guard let count = try? NDArray.checkedCount(dims) else {
            throw DatasetError.corrupt(file: file, reason: "header dimensions \(dims) are impossibly large")
        }
        let start = 4 + 4 * nd
        guard b.count - start == count else {
            throw DatasetError.corrupt(
                file: file,
                reason:
                    "header says \(dims.map(String.init).joined(separator: "×")) = \(count) bytes of data, file has "
                        + "\(b.count - start)"
            )
        }
        return try NDArray(Array(b[start...]), shape: dims)
    }

    /// Writes `array` (any integer dtype, values 0…255) as an unsigned-byte IDX file with `magic`
    /// 0x08 and one dimension per axis, gzip'd when `gzip` is true, atomically.
    ///
    /// ```swift
    /// try IDX.write(labels, to: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"), gzip: true)
    /// ```
    public static func write(_ array: NDArray, to url: URL, gzip: Bool) throws {
        guard (1...4).contains(array.ndim), array.shape.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw DatasetError.io("IDX.write: \(url.lastPathComponent): shape \(array.shape) is not 1 to 4 dimensions")
        }
        var bytes: [UInt8] = [0, 0, 8, UInt8(array.ndim)]
        for d in array.shape { bytes += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
        if array.dtype == .uint8 {
            bytes += array.scalars(as: UInt8.self)
        } else {
            let values = array.doubles
            guard values.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }) else {
                throw DatasetError.io("IDX.write: \(url.lastPathComponent): values must be integers in 0…255")
            }
            bytes += values.map { UInt8($0) }
        }
        let data = gzip ? try Gzip.compress(Data(bytes)) : Data(bytes)
        do { try data.write(to: url, options: .atomic) } catch {
            throw DatasetError.io("cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
