/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
/// counter-based generator. Block `counter` under `key` is four independent 32-bit words, so any
/// element of a draw can be computed alone — the same values in every mode, backend and thread
/// split, with no state shared between threads.
enum Philox {
    /// The four words of one block (10 rounds).
    @inline(__always)
    static func block(_ c: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32)
    {
        var (c0, c1, c2, c3) = c
        var (k0, k1) = key
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            (c0, c1, c2, c3) = (
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0, UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1, UInt32(truncatingIfNeeded: p0)
            )
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// Words `first ..< first + count` of the stream of call `call` under `key`: word `w` is lane
    /// `w % 4` of block (w / 4, call).
    static func words(key: UInt64, call: UInt64, first: Int, count: Int, into out: UnsafeMutablePointer<UInt32>) {
        let k = (UInt32(truncatingIfNeeded: key), UInt32(truncatingIfNeeded: key >> 32))
        let hi = (UInt32(truncatingIfNeeded: call), UInt32(truncatingIfNeeded: call >> 32))
        var w = first
        var i = 0
        while i < count {
            let b = UInt64(w / 4)
            let r = block((UInt32(truncatingIfNeeded: b), UInt32(truncatingIfNeeded: b >> 32), hi.0, hi.1), key: k)
            if w % 4 == 0 && count - i >= 4 {
                out[i] = r.0
                out[i + 1] = r.1
                out[i + 2] = r.2
                out[i + 3] = r.3
                i += 4
                w += 4
                continue
            }
            while i < count {
                out[i] = lane(r, w % 4)
                i += 1
                w += 1
                if w % 4 == 0 { break }
            }
        }
    }

    @inline(__always)
    private static func lane(_ r: (UInt32, UInt32, UInt32, UInt32), _ i: Int) -> UInt32 {
        switch i {
        case 0: r.0
        case 1: r.1
        case 2: r.2
        default: r.3
        }
    }
}
