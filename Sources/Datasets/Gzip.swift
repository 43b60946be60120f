import CZlib
import Foundation
import NDArray

/// Gzip compression and decompression through zlib.
enum Gzip {
    /// Whether `data` starts with the gzip magic bytes.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// The decompressed bytes; throws `.corrupt` naming `file` on truncated or damaged input.
    static func decompress(_ data: Data, file: String) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.io("zlib inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var input = [UInt8](data)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                status = buffer.withUnsafeMutableBufferPointer { o in
                    stream.next_out = o.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        switch status {
        case Z_STREAM_END: return out
        case Z_OK, Z_BUF_ERROR:
            throw DatasetError.corrupt(file: file, reason: "gzip data is truncated (ended after \(out.count) bytes)")
        default:
            let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw DatasetError.corrupt(file: file, reason: "gzip data is corrupt (\(msg))")
        }
    }

    /// `data` gzip-compressed, as the `gzip` tool writes it.
    static func compress(_ data: Data) throws -> Data {
        do { return try NPZ.deflate(data, windowBits: 16 + MAX_WBITS) } catch {
            throw DatasetError.io("gzip: \(error)")
        }
    }
}
