import Foundation

/// NumPy's `.npy` format (versions 1.0–3.0): reading and writing single arrays.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Encodes `array` as `.npy` bytes (version 1.0, little-endian, C order).
    ///
    /// ```swift
    /// try NPY.encode(a).write(to: URL(fileURLWithPath: "a.npy"))
    /// ```
    public static func encode(_ array: NDArray) -> Data {
        let shapeText =
            array.shape.isEmpty
            ? "()"
            : array.shape.count == 1
                ? "(\(array.shape[0]),)"
                : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(array.dtype.numpyDescr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data(magic)
        data.append(contentsOf: [1, 0])
        let len = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(len & 0xff), UInt8(len >> 8)])
        data.append(contentsOf: Array(header.utf8))
        let c = array.contiguous()
        data.append(Data(bytes: c.storage.readPointer + c.offset * c.dtype.itemSize, count: c.count * c.dtype.itemSize))
        return data
    }

    /// Decodes `.npy` bytes; `name` is used in error messages.
    public static func decode(_ data: Data, name: String = "array") throws(NDArrayError) -> NDArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .io("\(name): not a .npy file (bad magic)")
        }
        let major = bytes[6]
        var headerLen: Int
        var start: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .io("\(name): truncated .npy header") }
            headerLen = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            start = 12
        default:
            throw .io("\(name): unsupported .npy version \(major)")
        }
        guard bytes.count >= start + headerLen else { throw .io("\(name): truncated .npy header") }
        guard let header = String(bytes: bytes[start..<start + headerLen], encoding: .utf8) else {
            throw .io("\(name): .npy header is not text")
        }
        let (descr, fortran, shape) = try parseHeader(header, name: name)
        guard let dtype = DType(numpyDescr: descr) else {
            throw .unsupported("\(name): dtype '\(descr)' is not supported")
        }
        let bigEndian = descr.hasPrefix(">") && dtype.itemSize > 1
        let count = try NDArray.checkedCount(shape)
        let dataStart = start + headerLen
        guard bytes.count - dataStart >= count * dtype.itemSize else {
            throw .io("\(name): truncated data (\(bytes.count - dataStart) bytes for \(count) × \(dtype.itemSize))")
        }
        let stored = fortran ? Array(shape.reversed()) : shape
        var array = NDArray(uninitialized: stored, dtype: dtype)
        let dst = array.storage.pointer
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { dst.copyMemory(from: base + dataStart, byteCount: count * dtype.itemSize) }
        }
        if bigEndian { swapBytes(array) }
        if fortran { array = array.transposed().contiguous(forceCopy: true) }
        return array
    }

    private static func swapBytes(_ a: NDArray) {
        let size = a.dtype.itemSize
        let p = a.storage.pointer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<a.count {
            let e = p + i * size
            for k in 0..<size / 2 {
                let t = e[k]
                e[k] = e[size - 1 - k]
                e[size - 1 - k] = t
            }
        }
    }

    static func parseHeader(_ h: String, name: String) throws(NDArrayError) -> (String, Bool, [Int]) {
        func value(_ key: String) -> Substring? {
            guard let r = h.range(of: "'\(key)':") else { return nil }
            return h[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let d = value("descr"), let q = d.first, q == "'" || q == "\"",
            let end = d.dropFirst().firstIndex(of: q)
        else {
            throw .io("\(name): .npy header has no descr: \(h)")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let fortran = value("fortran_order")?.hasPrefix("True") ?? false
        guard let s = value("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw .io("\(name): .npy header has no shape: \(h)")
        }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0, n < Int(Int32.max) else {
                throw .io("\(name): bad shape in .npy header: \(h)")
            }
            shape.append(n)
        }
        return (descr, fortran, shape)
    }
}
