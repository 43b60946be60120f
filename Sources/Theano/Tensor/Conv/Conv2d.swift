import NDArray

/// 2-d convolution of a batch of images (batch, channels, rows, cols) with a bank of filters
/// (filters, channels, rows, cols), and the two products its gradient needs. All three run as
/// im2col + one BLAS GEMM per group of images (Theano's CorrMM), so their cost is the GEMM's.
///
/// The three roles are adjoint to each other, which is what makes every derivative, including
/// second ones, another convolution:
/// - `forward(x, w)` → y, the convolution;
/// - `gradInputs(gy, w, x)` → ∂/∂x of ⟨gy, y⟩ (`x` only gives the input's shape);
/// - `gradFilters(x, gy, w)` → ∂/∂w of ⟨gy, y⟩ (`w` only gives the filters' shape).
public struct Conv2d: DifferentiableOp {
    public enum Role: Hashable, Sendable { case forward, gradInputs, gradFilters }
    public let role: Role
    public let geometry: ConvGeometry

    public var description: String {
        let name =
            switch role {
            case .forward: "Conv2d"
            case .gradInputs: "Conv2dGradInputs"
            case .gradFilters: "Conv2dGradFilters"
            }
        return "\(name){\(geometry)}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        try geometry.validate()
        guard inputs.count == (role == .forward ? 2 : 3) else {
            throw OpError("\(self) takes \(role == .forward ? 2 : 3) inputs, got \(inputs.count)")
        }
        guard inputs.allSatisfy({ $0.ndim == 4 }) else {
            throw OpError(
                "conv2d needs 4-d tensors: images (batch, channels, rows, cols) and filters (filters, channels, "
                    + "rows, cols), got \(inputs.summary)"
            )
        }
        guard inputs.allSatisfy({ $0.dtype.isFloat }) else {
            throw OpError("conv2d needs float tensors, got \(inputs.summary); cast first")
        }
        let dtype = inputs.dropFirst().reduce(inputs[0].dtype) { DType.promote($0, $1.dtype) }
        let (x, w) = images(inputs)
        let y = role == .forward ? nil : (role == .gradInputs ? inputs[0] : inputs[1])
        if let a = x.shape[1], let b = w.shape[1], a != b {
            throw OpError("images have \(a) channels but the filters expect \(b)", kind: .shape)
        }
        let out: [Int?] = [
            x.shape[0], w.shape[0],
            geometry.outputLength(input: x.shape[2], filter: w.shape[2], axis: 0),
            geometry.outputLength(input: x.shape[3], filter: w.shape[3], axis: 1)
        ]
        if let y {
            for (d, (a, b)) in zip(y.shape, out).enumerated() {
                if let a, let b, a != b {
                    throw OpError(
                        "the output gradient has length \(a) in dimension \(d), the convolution's output \(b)",
                        kind: .shape)
                }
            }
        }
        switch role {
        case .forward: return [TensorType(dtype, shape: out)]
        case .gradInputs: return [TensorType(dtype, shape: x.shape)]
        case .gradFilters: return [TensorType(dtype, shape: w.shape)]
        }
    }

    /// (images, filters) among the inputs, whatever the role.
    private func images<T>(_ inputs: [T]) -> (T, T) {
        switch role {
        case .forward: (inputs[0], inputs[1])
        case .gradInputs: (inputs[2], inputs[1])
        case .gradFilters: (inputs[0], inputs[2])
        }
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { try perform(inputs, reusing: []) }

    public var reusesBuffers: Bool { true }

    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] {
        try perform(inputs, reusing: buffers, native: nil)
    }

    /// `native`: the native backend's image kernels, which run few-channel convolutions as direct
    /// loops (``DirectConv``); without them, or for other shapes, im2col + GEMM.
    func perform(_ inputs: [NDArray], reusing buffers: [NDArray?], native: FixedKernels?) throws -> [NDArray] {
        let dtype = inputs.dropFirst().reduce(inputs[0].dtype) { DType.promote($0, $1.dtype) }
        let (x, w) = images(inputs.map(\.shape))
        guard x[1] == w[1] else {
            throw OpError(
                "images have \(x[1]) channels but the filters expect \(w[1]): shapes \(x) and \(w)", kind: .shape)
        }
        let s = ConvShape(input: x, filters: w, geometry: geometry)
        if role != .forward {
            let y = inputs[role == .gradInputs ? 0 : 1].shape
            guard y == [s.batch, s.filters, s.outH, s.outW] else {
                throw OpError(
                    "the output gradient has shape \(y), the convolution of \(x) by \(w) gives "
                        + "\([s.batch, s.filters, s.outH, s.outW])",
                    kind: .shape)
            }
        }
        let data = inputs.map { ($0.dtype == dtype ? $0 : $0.cast(to: dtype)).contiguous() }
        let shape =
            switch role {
            case .forward: [s.batch, s.filters, s.outH, s.outW]
            case .gradInputs: [s.batch, s.channels, s.height, s.width]
            case .gradFilters: [s.filters, s.channels, s.kh, s.kw]
            }
        // A buffer from the previous call avoids faulting in fresh pages (tens of MB here).
        let out = try reusable(buffers, 0, shape: shape, dtype: dtype) ?? NDArray.empty(shape, dtype: dtype)
        if let native = native?.image(dtype),
            let entry = DirectConv.entry(native, role: role, geometry: geometry, shape: s)
        {
            switch dtype {
            case .float32: try DirectConv.run(Float.self, entry, role: role, flip: geometry.filterFlip, data, s, out)
            default: try DirectConv.run(Double.self, entry, role: role, flip: geometry.filterFlip, data, s, out)
            }
            return [out]
        }
        switch dtype {
        case .float32: try run(Float.self, data, s, out)
        default: try run(Double.self, data, s, out)
        }
        return [out]
    }

    private func run<T: ConvFloat>(_: T.Type, _ a: [NDArray], _ s: ConvShape, _ out: NDArray) throws {
        let y = out.basePointer(as: T.self)
        switch role {
        case .forward:
            ConvKernels.forward(a[0].basePointer(as: T.self), flippedFilters(a[1], T.self), s, y)
        case .gradInputs:
            y.update(repeating: 0, count: out.count)
            ConvKernels.gradInputs(a[0].basePointer(as: T.self), flippedFilters(a[1], T.self), s, y)
        case .gradFilters:
            let dwf = try NDArray.zeros([s.filters, s.patch], dtype: a[0].dtype)
            ConvKernels.gradFilters(
                a[0].basePointer(as: T.self), a[1].basePointer(as: T.self), s, dwf.basePointer(as: T.self))
            flippedFilters(try dwf.reshaped([s.filters, s.channels, s.kh, s.kw]), T.self).array.write(into: out)
        }
    }

    /// The filters as the GEMM's (filters × channels·rows·cols) matrix, turned by 180° in each
    /// channel when this is a real convolution (the flip is its own inverse).
    private func flippedFilters<T: ConvFloat>(_ w: NDArray, _: T.Type) -> (array: NDArray, pointer: UnsafePointer<T>) {
        guard geometry.filterFlip, w.shape[2] * w.shape[3] > 1 else {
            return (w, UnsafePointer(w.basePointer(as: T.self)))
        }
        let kk = w.shape[2] * w.shape[3]
        // Storage the NDArray owns, so the pointer lives as long as the returned array.
        let out = w.contiguous(forceCopy: true)
        let src = w.basePointer(as: T.self)
        let dst = out.basePointer(as: T.self)
        for f in 0..<(w.shape[0] * w.shape[1]) {
            for t in 0..<kk { dst[f * kk + t] = src[f * kk + kk - 1 - t] }
        }
        return (out, UnsafePointer(dst))
    }
}

/// The three convolution products on contiguous buffers.
enum ConvKernels {
    /// Images per GEMM: enough columns to keep BLAS efficient, a lowered matrix of at most
    /// ~1 Mi elements so that it is still in cache when the GEMM reads it.
    static func group(_ s: ConvShape) -> Int {
        max(1, min(s.batch, (1 << 20) / max(1, s.patch * s.pixels)))
    }

    static func forward<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ w: (array: NDArray, pointer: UnsafePointer<T>), _ s: ConvShape,
        _ y: UnsafeMutablePointer<T>
    ) {
        guard s.batch > 0, s.filters > 0, s.pixels > 0 else { return }
        let g = group(s)
        let p = s.pixels
        let cols = UnsafeMutablePointer<T>.allocate(capacity: max(1, s.patch * g * p))
        let tmp = g > 1 ? UnsafeMutablePointer<T>.allocate(capacity: s.filters * g * p) : nil
        defer {
            cols.deallocate()
            tmp?.deallocate()
        }
        withExtendedLifetime(w.array) {
            for n0 in stride(from: 0, to: s.batch, by: g) {
                let gn = min(g, s.batch - n0)
                if s.patch == 0 {
                    (y + n0 * s.filters * p).update(repeating: 0, count: gn * s.filters * p)
                    continue
                }
                Lowering.im2col(x, s, n0: n0, g: gn, into: cols)
                // One image: the product is already (filters, pixels), the image's own block of y.
                let out = gn == 1 ? y + n0 * s.filters * p : tmp!
                T.gemm(
                    transA: false, transB: false, m: s.filters, n: gn * p, k: s.patch, a: w.pointer, lda: s.patch,
                    b: cols, ldb: gn * p, beta: 0, c: out, ldc: gn * p)
                if gn > 1 { scatter(out, y, s, n0: n0, g: gn) }
            }
        }
    }

    static func gradInputs<T: ConvFloat>(
        _ gy: UnsafePointer<T>, _ w: (array: NDArray, pointer: UnsafePointer<T>), _ s: ConvShape,
        _ dx: UnsafeMutablePointer<T>
    ) {
        guard s.batch > 0, s.filters > 0, s.pixels > 0, s.patch > 0 else { return }
        let g = group(s)
        let p = s.pixels
        let cols = UnsafeMutablePointer<T>.allocate(capacity: s.patch * g * p)
        let tmp = g > 1 ? UnsafeMutablePointer<T>.allocate(capacity: s.filters * g * p) : nil
        defer {
            cols.deallocate()
            tmp?.deallocate()
        }
        withExtendedLifetime(w.array) {
            for n0 in stride(from: 0, to: s.batch, by: g) {
                let gn = min(g, s.batch - n0)
                let block: UnsafePointer<T> = gn == 1 ? gy + n0 * s.filters * p : gather(gy, tmp!, s, n0: n0, g: gn)
                T.gemm(
                    transA: true, transB: false, m: s.patch, n: gn * p, k: s.filters, a: w.pointer, lda: s.patch,
                    b: block, ldb: gn * p, beta: 0, c: cols, ldc: gn * p)
                Lowering.col2im(cols, s, n0: n0, g: gn, into: dx)
            }
        }
    }

    /// Accumulates ∂/∂w (in the GEMM's filter layout, unflipped) into `dw` (filters × patch).
    static func gradFilters<T: ConvFloat>(
        _ x: UnsafePointer<T>, _ gy: UnsafePointer<T>, _ s: ConvShape, _ dw: UnsafeMutablePointer<T>
    ) {
        guard s.batch > 0, s.filters > 0, s.pixels > 0, s.patch > 0 else { return }
        let g = group(s)
        let p = s.pixels
        let cols = UnsafeMutablePointer<T>.allocate(capacity: s.patch * g * p)
        let tmp = g > 1 ? UnsafeMutablePointer<T>.allocate(capacity: s.filters * g * p) : nil
        defer {
            cols.deallocate()
            tmp?.deallocate()
        }
        for n0 in stride(from: 0, to: s.batch, by: g) {
            let gn = min(g, s.batch - n0)
            Lowering.im2col(x, s, n0: n0, g: gn, into: cols)
            let block: UnsafePointer<T> = gn == 1 ? gy + n0 * s.filters * p : gather(gy, tmp!, s, n0: n0, g: gn)
            T.gemm(
                transA: false, transB: true, m: s.filters, n: s.patch, k: gn * p, a: block, lda: gn * p,
                b: cols, ldb: gn * p, beta: 1, c: dw, ldc: s.patch)
        }
    }

    /// (filters, g·pixels) → images n0 ..< n0+g of y (batch, filters, pixels).
    private static func scatter<T: ConvFloat>(
        _ tmp: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ s: ConvShape, n0: Int, g: Int
    ) {
        let p = s.pixels
        for l in 0..<g {
            for f in 0..<s.filters {
                (y + ((n0 + l) * s.filters + f) * p).update(from: tmp + f * g * p + l * p, count: p)
            }
        }
    }

    /// Images n0 ..< n0+g of gy (batch, filters, pixels) → (filters, g·pixels).
    private static func gather<T: ConvFloat>(
        _ gy: UnsafePointer<T>, _ tmp: UnsafeMutablePointer<T>, _ s: ConvShape, n0: Int, g: Int
    ) -> UnsafePointer<T> {
        let p = s.pixels
        for l in 0..<g {
            for f in 0..<s.filters {
                (tmp + f * g * p + l * p).update(from: gy + ((n0 + l) * s.filters + f) * p, count: p)
            }
        }
        return UnsafePointer(tmp)
    }
}

/// 2-d convolution of images (batch, channels, rows, cols) with filters (filters, channels,
/// rows, cols), as Theano's `conv2d`: by default a real convolution (`filterFlip: true`),
/// `valid` border, stride 1.
///
/// ```swift
/// let x = tensor4("x"), w = shared(filters)
/// let y = conv2d(x, w, border: .half, stride: (2, 2))
/// ```
public func conv2d(
    _ input: Variable, _ filters: Variable, border: BorderMode = .valid, stride: (Int, Int) = (1, 1),
    dilation: (Int, Int) = (1, 1), filterFlip: Bool = true
) -> Variable {
    let g = ConvGeometry(
        border: border, stride: [stride.0, stride.1], dilation: [dilation.0, dilation.1], filterFlip: filterFlip)
    return apply1(Conv2d(role: .forward, geometry: g), [input, filters])
}

extension Conv2d {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let h = gradients[0] else { return Array(repeating: .disconnected, count: node.inputs.count) }
        let i = node.inputs
        func op(_ r: Role, _ a: Variable, _ b: Variable) -> Variable {
            apply1(Conv2d(role: r, geometry: geometry), [a, b])
        }
        func op(_ r: Role, _ a: Variable, _ b: Variable, _ c: Variable) -> Variable {
            apply1(Conv2d(role: r, geometry: geometry), [a, b, c])
        }
        func wrt(_ v: Variable, _ g: @autoclosure () -> Variable) -> InputGradient {
            v.isDifferentiable ? .value(cast(g(), v.dtype)) : .disconnected
        }
        switch role {
        case .forward:  // y = x ⋆ w
            return [wrt(i[0], op(.gradInputs, h, i[1], i[0])), wrt(i[1], op(.gradFilters, i[0], h, i[1]))]
        case .gradInputs:  // dx = A(gy, w); its adjoints are the forward conv and gradFilters
            return [wrt(i[0], op(.forward, h, i[1])), wrt(i[1], op(.gradFilters, h, i[0], i[1])), .zero]
        case .gradFilters:  // dw = B(x, gy)
            return [wrt(i[0], op(.gradInputs, i[1], h, i[0])), wrt(i[1], op(.forward, i[0], h)), .zero]
        }
    }
}

extension Conv2d {
    /// Batch and filter counts come from the inputs; spatial lengths when static.
    public func outputLength(_ node: Apply, output o: Int, dim d: Int) -> Variable? {
        if let n = ShapeInference.staticLength(node, o, d) { return n }
        switch role {
        case .forward:
            return d == 0
                ? ShapeInference.length(node.inputs[0], 0)
                : d == 1 ? ShapeInference.length(node.inputs[1], 0) : nil
        case .gradInputs, .gradFilters: return ShapeInference.length(node.inputs[2], d)
        }
    }

    /// A direct convolution sums its taps in another order than the GEMM.
    public var kernelAgreement: KernelAgreement { .reorderedProducts }
}

extension Conv2d: ImageKernelOp {}
