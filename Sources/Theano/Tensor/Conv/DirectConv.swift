import NDArray

/// Convolutions with few input channels as direct loops (the native ``ImageKernels``): the
/// forward product and the filters' gradient, stride 1 and no dilation, any border (the images
/// are padded first). Measured on the 2010 ConvNet's first layer (1 channel, 7×7, 256×256) and
/// LeNet's (1 channel, 5×5, 28×28): see docs/CONV.md.
enum DirectConv {
    /// Up to this many input channels the direct loops beat im2col + GEMM.
    static let channelLimit = 4

    /// The kernel for this call, if the direct loops handle it.
    static func entry(
        _ kernels: ImageKernels, role: Conv2d.Role, geometry: ConvGeometry, shape s: ConvShape
    ) -> ImageKernels.Entry? {
        guard geometry.stride == [1, 1], geometry.dilation == [1, 1], s.channels <= channelLimit,
            s.batch > 0, s.filters > 0, s.patch > 0, s.pixels > 0
        else { return nil }
        switch role {
        case .forward: return kernels.correlate
        case .gradFilters: return kernels.correlateGradFilters
        case .gradInputs: return nil
        }
    }

    /// Runs `role` (forward or gradFilters) on contiguous inputs of type `T` into `out`.
    static func run<T: ConvFloat>(
        _: T.Type, _ kernel: ImageKernels.Entry, role: Conv2d.Role, flip: Bool,
        _ a: [NDArray], _ s: ConvShape, _ out: NDArray
    ) throws {
        let x = try padded(a[0], s)
        let h = s.height + 2 * s.padH
        let w = s.width + 2 * s.padW
        let dims = [s.channels, h, w, s.filters, s.kh, s.kw, s.outH, s.outW].map { Int64($0) }
        let rows = s.batch * s.outH
        let work = rows * s.outW * s.filters * s.patch
        let xp = UnsafeRawPointer(x.basePointer(as: T.self))
        if role == .forward {
            let packed = pack(a[1], s, flip: flip, T.self)
            let y = UnsafeMutableRawPointer(out.basePointer(as: T.self))
            let done = withExtendedLifetime(x) {
                dims.withUnsafeBufferPointer { d in
                    packed.withUnsafeBufferPointer { wp in
                        parallelChunksSucceed(rows, work: work) { r in
                            kernel(
                                d.baseAddress, xp, UnsafeRawPointer(wp.baseAddress), y, Int64(r.lowerBound),
                                Int64(r.upperBound)) == 0
                        }
                    }
                }
            }
            guard done else { throw outOfMemory(role, s) }
            return
        }
        // gradFilters: each thread sums its rows into its own copy of dw; the copies are added.
        let size = s.filters * s.patch
        let parts = max(1, min(Config.current.threads ?? ElementwiseKernel.cores, rows))
        var partial = [T](repeating: 0, count: parts * size)
        let gy = UnsafeRawPointer(a[1].basePointer(as: T.self))
        let done = withExtendedLifetime((x, a[1])) {
            dims.withUnsafeBufferPointer { d in
                partial.withUnsafeMutableBufferPointer { buffer in
                    guard let start = buffer.baseAddress else { return false }
                    let base = UnsafeMutableRawPointer(start)
                    return parallelChunksSucceed(parts, work: work) { r in
                        r.allSatisfy { p in
                            kernel(
                                d.baseAddress, xp, gy, base + p * size * MemoryLayout<T>.stride,
                                Int64(rows * p / parts), Int64(rows * (p + 1) / parts)) == 0
                        }
                    }
                }
            }
        }
        guard done else { throw outOfMemory(role, s) }
        let dw = out.basePointer(as: T.self)
        let kk = s.kh * s.kw
        for i in 0..<size {
            var sum = partial[i]
            for p in 1..<parts { sum += partial[p * size + i] }
            // Correlation taps back to the filters' layout: a convolution's are turned by 180°.
            let tap = i % kk
            dw[flip ? i - tap + kk - 1 - tap : i] = sum
        }
    }

    private static func outOfMemory(_ role: Conv2d.Role, _ s: ConvShape) -> OpError {
        OpError(
            "the native \(role) convolution kernel could not allocate its scratch rows (images "
                + "\([s.batch, s.channels, s.height, s.width]), filters \([s.filters, s.channels, s.kh, s.kw]))"
        )
    }

    /// The images with the border's zero padding added (the images themselves without one).
    private static func padded(_ x: NDArray, _ s: ConvShape) throws -> NDArray {
        guard s.padH > 0 || s.padW > 0 else { return x }
        let h = s.height + 2 * s.padH
        let w = s.width + 2 * s.padW
        let out = try NDArray.zeros([s.batch, s.channels, h, w], dtype: x.dtype)
        switch x.dtype {
        case .float32: copyPadded(x.basePointer(as: Float.self), out.basePointer(as: Float.self), s)
        default: copyPadded(x.basePointer(as: Double.self), out.basePointer(as: Double.self), s)
        }
        return out
    }

    private static func copyPadded<T>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ s: ConvShape) {
        let w = s.width + 2 * s.padW
        let planeOut = (s.height + 2 * s.padH) * w
        for plane in 0..<(s.batch * s.channels) {
            for r in 0..<s.height {
                (dst + plane * planeOut + (r + s.padH) * w + s.padW).update(
                    from: src + (plane * s.height + r) * s.width, count: s.width)
            }
        }
    }

    /// The filters tap-major, `packed[(c·kh + a)·kw + b][f]`, turned by 180° for a convolution,
    /// so that the kernel reads one tap's weights for all filters from adjacent memory.
    private static func pack<T: ConvFloat>(_ w: NDArray, _ s: ConvShape, flip: Bool, _: T.Type) -> [T] {
        let src = w.basePointer(as: T.self)
        let kk = s.kh * s.kw
        var packed = [T](repeating: 0, count: s.patch * s.filters)
        for f in 0..<s.filters {
            for c in 0..<s.channels {
                for t in 0..<kk {
                    packed[(c * kk + t) * s.filters + f] = src[(f * s.channels + c) * kk + (flip ? kk - 1 - t : t)]
                }
            }
        }
        return packed
    }
}
