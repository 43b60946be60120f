import NDArray

/// The numbers of one pooling call: planes (all leading axes together), sizes, geometry.
struct PoolShape {
    let planes, height, width, outH, outW: Int
    let geometry: PoolGeometry

    /// Rows `lo ..< hi` of the image under window row `i`, and the row count the mean divides by.
    @inline(__always)
    func rows(_ i: Int) -> (lo: Int, hi: Int, count: Int) {
        span(i, n: height, axis: 0)
    }

    @inline(__always)
    func cols(_ j: Int) -> (lo: Int, hi: Int, count: Int) {
        span(j, n: width, axis: 1)
    }

    @inline(__always)
    private func span(_ i: Int, n: Int, axis: Int) -> (lo: Int, hi: Int, count: Int) {
        let p = geometry.padding[axis]
        let start = i * geometry.stride[axis] - p
        let end = start + geometry.window[axis]
        let lo = max(start, 0)
        let hi = min(end, n)
        // Including padding: the window's part inside the padded image.
        let count = geometry.mode == .averageIncludingPad ? min(end, n + p) - start : hi - lo
        return (lo, hi, count)
    }
}

/// Pooling loops on contiguous buffers, one plane (image × channel) at a time.
enum PoolKernels {
    /// Max pooling by whole windows that tile the image without overlap or padding (LeNet's,
    /// the ConvNet's): no bounds per window, and the gradient writes each pixel once.
    @inline(__always)
    static func isTiled(_ s: PoolShape) -> Bool {
        let g = s.geometry
        return g.mode == .max && g.stride == g.window && g.padding == [0, 0]
            && s.outH * g.window[0] <= s.height && s.outW * g.window[1] <= s.width
    }

    /// The larger of two values, NaN if either is.
    @inline(__always)
    private static func larger<T: ConvFloat>(_ a: T, _ b: T) -> T { a > b || a.isNaN ? a : b }

    private static func tiledForward<T: ConvFloat>(_ x: UnsafePointer<T>, _ s: PoolShape, _ y: UnsafeMutablePointer<T>)
    {
        let wh = s.geometry.window[0]
        let ww = s.geometry.window[1]
        parallelChunks(s.planes, work: s.planes * s.height * s.width) { planes in
            for q in planes {
                let src = x + q * s.height * s.width
                let dst = y + q * s.outH * s.outW
                for i in 0..<s.outH {
                    let out = dst + i * s.outW
                    for j in 0..<s.outW { out[j] = src[i * wh * s.width + j * ww] }
                    for u in 0..<wh {
                        let row = src + (i * wh + u) * s.width
                        for v in (u == 0 ? 1 : 0)..<ww {
                            for j in 0..<s.outW { out[j] = larger(out[j], row[j * ww + v]) }
                        }
                    }
                }
            }
        }
    }

    private static func tiledGrad<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ gy: UnsafePointer<T>, _ s: PoolShape, _ dx: UnsafeMutablePointer<T>
    ) {
        let wh = s.geometry.window[0]
        let ww = s.geometry.window[1]
        let covered = s.outH * wh == s.height && s.outW * ww == s.width
        parallelChunks(s.planes, work: s.planes * s.height * s.width) { planes in
            for q in planes {
                let src = x + q * s.height * s.width
                let g = gy + q * s.outH * s.outW
                let dst = dx + q * s.height * s.width
                if !covered { dst.update(repeating: 0, count: s.height * s.width) }
                for i in 0..<s.outH {
                    for j in 0..<s.outW {
                        let base = i * wh * s.width + j * ww
                        var at = base
                        var m = src[base]
                        for u in 0..<wh {
                            for v in 0..<ww {
                                let k = base + u * s.width + v
                                dst[k] = 0
                                if !m.isNaN && (src[k] > m || src[k].isNaN) {
                                    m = src[k]
                                    at = k
                                }
                            }
                        }
                        dst[at] = g[i * s.outW + j]
                    }
                }
            }
        }
    }

    static func forward<T: ConvFloat>(_ x: UnsafePointer<T>, _ s: PoolShape, _ y: UnsafeMutablePointer<T>) {
        if isTiled(s) {
            tiledForward(x, s, y)
            return
        }
        let isMax = s.geometry.mode == .max
        parallelChunks(s.planes, work: s.planes * s.height * s.width) { planes in
            for q in planes {
                let src = x + q * s.height * s.width
                let dst = y + q * s.outH * s.outW
                for i in 0..<s.outH {
                    let r = s.rows(i)
                    for j in 0..<s.outW {
                        let c = s.cols(j)
                        if isMax {
                            var m = -T.infinity
                            for u in r.lo..<r.hi {
                                let row = src + u * s.width
                                for v in c.lo..<c.hi where row[v] > m || row[v].isNaN {
                                    m = row[v]
                                    if m.isNaN { break }
                                }
                                if m.isNaN { break }
                            }
                            dst[i * s.outW + j] = m
                        } else {
                            var total: T = 0
                            for u in r.lo..<r.hi {
                                let row = src + u * s.width
                                for v in c.lo..<c.hi { total += row[v] }
                            }
                            dst[i * s.outW + j] = total / T(r.count * c.count)
                        }
                    }
                }
            }
        }
    }

    /// Offset in the plane of the first maximum of window (i, j) (the first NaN, if any).
    @inline(__always)
    private static func argmax<T: ConvFloat>(
        _ src: UnsafePointer<T>, _ s: PoolShape, _ r: (lo: Int, hi: Int, count: Int),
        _ c: (lo: Int, hi: Int, count: Int)
    ) -> Int {
        var m = -T.infinity
        var at = r.lo * s.width + c.lo
        for u in r.lo..<r.hi {
            for v in c.lo..<c.hi {
                let e = src[u * s.width + v]
                if e.isNaN { return u * s.width + v }
                if e > m {
                    m = e
                    at = u * s.width + v
                }
            }
        }
        return at
    }

    static func grad<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ gy: UnsafePointer<T>, _ s: PoolShape, _ dx: UnsafeMutablePointer<T>
    ) {
        if isTiled(s) {
            tiledGrad(x, gy, s, dx)
            return
        }
        let isMax = s.geometry.mode == .max
        parallelChunks(s.planes, work: s.planes * s.height * s.width) { planes in
            for q in planes {
                let src = x + q * s.height * s.width
                let g = gy + q * s.outH * s.outW
                let dst = dx + q * s.height * s.width
                // Zeroed plane by plane, while it is in cache for the scatter that follows.
                dst.update(repeating: 0, count: s.height * s.width)
                for i in 0..<s.outH {
                    let r = s.rows(i)
                    for j in 0..<s.outW {
                        let c = s.cols(j)
                        if isMax {
                            dst[argmax(src, s, r, c)] += g[i * s.outW + j]
                        } else {
                            let share = g[i * s.outW + j] / T(r.count * c.count)
                            for u in r.lo..<r.hi { for v in c.lo..<c.hi { dst[u * s.width + v] += share } }
                        }
                    }
                }
            }
        }
    }

    static func gradGrad<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ h: UnsafePointer<T>, _ s: PoolShape, _ y: UnsafeMutablePointer<T>
    ) {
        parallelChunks(s.planes, work: s.planes * s.height * s.width) { planes in
            for q in planes {
                let src = x + q * s.height * s.width
                let hp = h + q * s.height * s.width
                let dst = y + q * s.outH * s.outW
                for i in 0..<s.outH {
                    let r = s.rows(i)
                    for j in 0..<s.outW { dst[i * s.outW + j] = hp[argmax(src, s, r, s.cols(j))] }
                }
            }
        }
    }
}
