import CZlib
import Foundation

/// NumPy's `.npz` archives (a zip of `.npy` members), as `numpy.savez` / `savez_compressed` write
/// and `numpy.load` reads them. Stored and deflated members and zip64 records are understood.
///
/// ```swift
/// try NPZ.write(["W": W, "b": b], to: url)          // atomic: temp file + rename
/// let params = try NPZ.read(from: url)              // ["W": …, "b": …]
/// ```
public enum NPZ {
    /// Writes `arrays` (key → array; stored as `key.npy`) to `url` atomically.
    public static func write(_ arrays: [String: NDArray], to url: URL, compressed: Bool = false) throws(NDArrayError) {
        try AtomicWrite.write(try encode(arrays, compressed: compressed), to: url)
    }

    /// Reads every array of the archive at `url`.
    public static func read(from url: URL) throws(NDArrayError) -> [String: NDArray] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .io("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode(data, name: url.lastPathComponent)
    }

    /// The archive bytes for `arrays`, members in key order.
    public static func encode(_ arrays: [String: NDArray], compressed: Bool = false) throws(NDArrayError) -> Data {
        var out = Data()
        var central = Data()
        var count = 0
        for key in arrays.keys.sorted() {
            guard let array = arrays[key] else { continue }
            let raw = NPY.encode(array)
            let crc = raw.withUnsafeBytes { p in
                UInt32(crc32(0, p.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count)))
            }
            let payload = compressed ? try deflate(raw) : raw
            let name = Array((key + ".npy").utf8)
            let offset = out.count
            guard offset < 0xFFFF_FFFF, payload.count < 0xFFFF_FFFF, raw.count < 0xFFFF_FFFF else {
                throw .unsupported("npz members over 4 GiB are not supported")
            }
            var local = Data()
            local.le32(0x0403_4b50)
            local.le16(20)
            local.le16(0)
            local.le16(compressed ? 8 : 0)
            local.le16(0)
            local.le16(0x21)  // time, date: 1980-01-01
            local.le32(crc)
            local.le32(UInt32(payload.count))
            local.le32(UInt32(raw.count))
            local.le16(UInt16(name.count))
            local.le16(0)
            local.append(contentsOf: name)
            out.append(local)
            out.append(payload)
            central.le32(0x0201_4b50)
            central.le16(20)
            central.le16(20)
            central.le16(0)
            central.le16(compressed ? 8 : 0)
            central.le16(0)
            central.le16(0x21)
            central.le32(crc)
            central.le32(UInt32(payload.count))
            central.le32(UInt32(raw.count))
            central.le16(UInt16(name.count))
            central.le16(0)
            central.le16(0)
            central.le16(0)
            central.le16(0)
            central.le32(0)
            central.le32(UInt32(offset))
            central.append(contentsOf: name)
            count += 1
        }
        let cdOffset = out.count
        out.append(central)
        out.le32(0x0605_4b50)
        out.le16(0)
        out.le16(0)
        out.le16(UInt16(count))
        out.le16(UInt16(count))
        out.le32(UInt32(central.count))
        out.le32(UInt32(cdOffset))
        out.le16(0)
        return out
    }

    /// Parses archive bytes; `name` appears in error messages.
    public static func decode(_ data: Data, name: String = "archive") throws(NDArrayError) -> [String: NDArray] {
        let b = [UInt8](data)
        guard b.count >= 22 else { throw .io("\(name): not a zip archive (too short)") }
        var eocd = -1
        var i = b.count - 22
        while i >= Swift.max(0, b.count - 22 - 65_535) {
            if b.u32(i) == 0x0605_4b50 {
                eocd = i
                break
            }
            i -= 1
        }
        guard eocd >= 0 else { throw .io("\(name): not a zip archive (no end of central directory)") }
        var entries = Int(b.u16(eocd + 10))
        var cd = Int(b.u32(eocd + 16))
        if entries == 0xFFFF || cd == 0xFFFF_FFFF, eocd >= 20, b.u32(eocd - 20) == 0x0706_4b50 {
            let z64 = b.int64Field(eocd - 12)
            guard z64 + 56 <= b.count, b.u32(z64) == 0x0606_4b50 else { throw .io("\(name): bad zip64 record") }
            entries = Swift.min(b.int64Field(z64 + 32), b.count / 46)
            cd = b.int64Field(z64 + 48)
        }
        var result: [String: NDArray] = [:]
        var p = cd
        for _ in 0..<entries {
            guard p + 46 <= b.count, b.u32(p) == 0x0201_4b50 else { throw .io("\(name): corrupt central directory") }
            let method = b.u16(p + 10)
            let crc = b.u32(p + 16)
            var csize = Int(b.u32(p + 20))
            var usize = Int(b.u32(p + 24))
            let nameLen = Int(b.u16(p + 28))
            let extraLen = Int(b.u16(p + 30))
            let commentLen = Int(b.u16(p + 32))
            var localOffset = Int(b.u32(p + 42))
            guard p + 46 + nameLen + extraLen <= b.count else { throw .io("\(name): corrupt central directory") }
            let member = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            // zip64 extended information: the fields that are 0xFFFFFFFF, in order.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd {
                let tag = b.u16(e)
                let size = Int(b.u16(e + 2))
                if tag == 1 {
                    var f = e + 4
                    guard f + 8 * 3 <= b.count || f + 8 <= extraEnd else { break }
                    if usize == 0xFFFF_FFFF, f + 8 <= b.count {
                        usize = b.int64Field(f)
                        f += 8
                    }
                    if csize == 0xFFFF_FFFF, f + 8 <= b.count {
                        csize = b.int64Field(f)
                        f += 8
                    }
                    if localOffset == 0xFFFF_FFFF, f + 8 <= b.count { localOffset = b.int64Field(f) }
                }
                e += 4 + size
            }
            p = extraEnd + commentLen
            guard localOffset < b.count - 30, b.u32(localOffset) == 0x0403_4b50 else {
                throw .io("\(name): corrupt local header for \(member)")
            }
            let start = localOffset + 30 + Int(b.u16(localOffset + 26)) + Int(b.u16(localOffset + 28))
            guard csize <= b.count, start + csize <= b.count, usize < Int(Int32.max) * 16 else {
                throw .io("\(name): \(member) is truncated")
            }
            let payload = Data(b[start..<(start + csize)])
            let raw: Data
            switch method {
            case 0: raw = payload
            case 8: raw = try inflateRaw(payload, expected: usize, name: member)
            default: throw .unsupported("\(name): \(member) uses zip compression method \(method)")
            }
            let actual = raw.withUnsafeBytes { q in
                UInt32(crc32(0, q.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count)))
            }
            guard actual == crc else { throw .io("\(name): CRC mismatch in \(member) (corrupt file)") }
            let key = member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
            result[key] = try NPY.decode(raw, name: "\(name)/\(member)")
        }
        return result
    }

    /// `input` compressed by zlib: raw deflate (`windowBits` -15, the zip members') or gzip
    /// (16 + 15). Shared with Datasets' gzip writer.
    package static func deflate(_ input: Data, windowBits: Int32 = -15) throws(NDArrayError) -> Data {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            throw .io("zlib deflateInit failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        var src = [UInt8](input)
        let status: Int32 = src.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = s.baseAddress
                stream.avail_in = uInt(s.count)
                stream.next_out = o.baseAddress
                stream.avail_out = uInt(o.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw .io("zlib deflate failed (\(status))") }
        return Data(out[0..<Int(stream.total_out)])
    }

    static func inflateRaw(_ input: Data, expected: Int, name: String) throws(NDArrayError) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .io("zlib inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Swift.max(expected, 1))
        var src = [UInt8](input)
        let status: Int32 = src.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = s.baseAddress
                stream.avail_in = uInt(s.count)
                stream.next_out = o.baseAddress
                stream.avail_out = uInt(o.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expected else {
            throw .io("\(name): corrupt deflate data (zlib status \(status))")
        }
        return Data(out[0..<expected])
    }
}

extension Data {
    mutating func le16(_ v: UInt16) { append(contentsOf: [UInt8(v & 0xff), UInt8(v >> 8)]) }
    mutating func le32(_ v: UInt32) { for k in 0..<4 { append(UInt8((v >> (8 * UInt32(k))) & 0xff)) } }
}

extension Array where Element == UInt8 {
    func u16(_ i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
    func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(self[i + $1]) << (8 * UInt32($1)) } }
    func u64(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(self[i + $1]) << (8 * UInt64($1)) } }
    /// A little-endian 64-bit field as an offset or size; absurd values (corrupt files) become
    /// `Int.max / 2`, which every bounds check below rejects.
    func int64Field(_ i: Int) -> Int { Int(exactly: u64(i)).map { Swift.min($0, Int.max / 2) } ?? Int.max / 2 }
}
